"""What a key does before its frame (issue 13): the right pane follows the tree's cursor in the same
turn as the cursor moves, so that one frame shows both; opening an item adds its findings' lines
without laying out the screen; a finding's detail draws what fills the pane first, and the rest
(the history, read from the store) once the selection rests."""

from __future__ import annotations

import io

from rich.console import Console

from tests.conftest import fixed_clock
from tests.test_content_size import _layouts
from tui.app import ReviewApp
from tui.review import Review
from tui.widgets.checklist_tree import ChecklistTree, NodeKind, NodeRef
from tui.widgets.detail import RENDER_REST_AFTER


def _text(pane) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(pane.content if hasattr(pane, "content") else pane)
    return console.export_text()


def _item_with_findings(review, at_least: int) -> str:
    counts: dict[str, int] = {}
    for f in review.findings.values():
        counts[f.item_id] = counts.get(f.item_id, 0) + 1
    return next(item for item, n in sorted(counts.items()) if n >= at_least)


async def test_the_right_pane_follows_the_cursor_in_the_same_turn(scanned, data_dir):
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        main, tree = app.main, app.query_one(ChecklistTree)
        first, second = (f for f in scanned.findings_of(_item_with_findings(scanned, 2))[:2])
        tree.select_id(f"finding:{first.fingerprint}")
        await pilot.pause()
        assert first.location in _text(main.detail)
        tree.action_cursor_down()  # no await: what the next frame would draw
        assert tree.cursor_node.data == NodeRef(NodeKind.FINDING, second.fingerprint)
        assert second.location in _text(main.detail), "the detail changed with the cursor, not a frame later"
        assert main.source.path == second.path


async def test_opening_an_item_adds_its_lines_without_a_layout_of_the_screen(scanned, data_dir):
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        tree = app.query_one(ChecklistTree)
        item = _item_with_findings(scanned, 2)
        node = tree.node(f"item:{item}")
        lines = tree.last_line
        layouts = _layouts(app.screen)
        tree._expand(node.data.id)  # as enter or a jump opens it
        await pilot.pause()
        await pilot.pause()
        assert tree.last_line >= lines + 2, "the item's findings are in the tree"
        assert tree.vertical_scrollbar.window_virtual_size == tree.last_line + 1, "and the scrollbar knows"
        assert layouts == [], "the tree's size does not depend on its lines: no layout of the screen"


async def test_the_lower_pane_goes_from_code_to_an_overview_without_a_layout(scanned, data_dir):
    """A finding's code, its section's overview of items, the code again: one pane draws either, so
    the switch repaints it; two widgets taking turns laid out the whole screen each time."""
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        main, tree = app.main, app.query_one(ChecklistTree)
        f = next(f for f in scanned.findings.values() if f"item:{f.item_id}" in tree.by_id)
        section = f"section:{scanned.checklist.item(f.item_id).section_id}"
        tree.select_id(f"finding:{f.fingerprint}")
        await pilot.pause()
        await pilot.pause()
        layouts = _layouts(app.screen)
        for node in (section, f"finding:{f.fingerprint}", section):
            tree.select_id(node)
            await pilot.pause()
            await pilot.pause()
            assert main.source.showing == ("overview" if node == section else "source")
        assert f.item_id in _text(main.source.overview), "the section's items, in the code's place"
        assert layouts == [], "repaints only"


async def test_a_findings_history_is_read_once_the_selection_rests(scanned, data_dir, monkeypatch):
    fp = scanned.findings_of(_item_with_findings(scanned, 1))[0].fingerprint
    for n in range(8):
        scanned.annotate(fp, f"note {n}: the reviewer's look at this finding")
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        main = app.main
        reads = []
        history = Review.history
        monkeypatch.setattr(Review, "history", lambda self, target: reads.append(target) or history(self, target))
        passed = next(f.fingerprint for f in scanned.findings.values() if f.fingerprint != fp)
        main._show(NodeRef(NodeKind.FINDING, passed))  # a key passes by it
        main._show(NodeRef(NodeKind.FINDING, fp))
        height = main.detail.scrollable_content_region.height
        assert reads == [] and height < main.detail.virtual_size.height <= height + 8, "what fills the pane, first"
        await pilot.pause(RENDER_REST_AFTER * 3)
        assert reads == [fp], "the history of the one the selection rests on, not of the one passed by"
        console = app.console
        whole = console.render_lines(main.detail.content, console.options.update_width(main.detail.scrollable_content_region.width))
        assert main.detail.virtual_size.height == len(whole), "then the whole detail, as one rendering draws it"
        assert "History:" in _text(main.detail)


async def test_a_confirmation_leaves_its_item_and_section_labels_alone(scanned, data_dir):
    """Textual repaints every line below a node whose label is set: c (the open counts stay as they
    were) sets only its finding's; d (a count moves from one severity to the next) its item's and
    section's too."""
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        tree = app.query_one(ChecklistTree)
        f = next(f for f in scanned.findings.values() if f.severity != "info" and f"item:{f.item_id}" in tree.by_id)
        section = f"section:{scanned.checklist.item(f.item_id).section_id}"
        tree.select_id(f"finding:{f.fingerprint}")
        await pilot.pause()
        labels = {key: tree.by_id[key].label for key in (f"finding:{f.fingerprint}", f"item:{f.item_id}", section)}
        app.main.action_confirm()
        await pilot.pause()
        assert tree.by_id[f"finding:{f.fingerprint}"].label is not labels[f"finding:{f.fingerprint}"]
        assert tree.by_id[f"item:{f.item_id}"].label is labels[f"item:{f.item_id}"]
        assert tree.by_id[section].label is labels[section]
        tree.select_id(f"finding:{f.fingerprint}")
        await pilot.pause()
        app.main.action_downgrade()
        await pilot.pause()
        assert tree.by_id[f"item:{f.item_id}"].label is not labels[f"item:{f.item_id}"]
        assert tree.by_id[section].label.plain != labels[section].plain


async def test_a_file_passed_by_before_is_not_split_again(scanned, data_dir, monkeypatch):
    """n across files shows each in plain text at once; going back to one seen a moment ago (before
    its colours came) costs no new split of the whole file."""
    from tui.widgets import source_view

    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        source = app.main.source
        splits = []
        plain = source_view._plain
        monkeypatch.setattr(source_view, "_plain", lambda text: splits.append(text) or plain(text))
        monkeypatch.setattr(source_view, "_HIGHLIGHTED", source_view._Cache())  # none coloured yet
        monkeypatch.setattr(source_view, "_PLAIN", source_view._Cache())
        texts = {"a.py": "a = 1\n" * 50, "b.py": "b = 2\n" * 40}
        for path in ("a.py", "b.py", "a.py", "b.py"):
            source.show(path, texts[path], 3, 3)
            assert len(source._lines) == len(texts[path].splitlines())
        assert len(splits) == 2


async def test_the_footer_shows_its_keys_in_the_first_frame(scanned, data_dir):
    """KeyFooter sets Textual's private Footer._bindings_ready at once: without it (Textual renamed
    it) the footer is empty in the first frame and fills in a frame later, laying out and
    repainting the whole screen while the first key pressed waits."""
    from textual.screen import Screen
    from textual.widgets._footer import FooterKey

    from tui.widgets.key_footer import KeyFooter

    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    first: list[int] = []
    original = Screen._compositor_refresh

    def refresh(screen):
        original(screen)
        footers = screen.query(KeyFooter)
        if not first and footers:
            first.append(len(footers.first().query(FooterKey)))

    Screen._compositor_refresh = refresh
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            footer = app.query_one(KeyFooter)
            shown = footer._shown
            await pilot.pause()
            assert first and first[0] == len(footer.query(FooterKey)) > 0, "the first frame shows every key"
            assert footer._shown is shown, "and the footer was not made again with the same keys"
    finally:
        Screen._compositor_refresh = original


async def test_the_tree_works_out_its_style_once_per_pass_not_once_per_line(scanned, data_dir, monkeypatch):
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        tree = app.query_one(ChecklistTree)
        tree._expand(tree.node(f"item:{_item_with_findings(scanned, 2)}").data.id)
        await pilot.pause()
        calls = []
        style = type(tree).rich_style
        monkeypatch.setattr(type(tree), "rich_style", property(lambda self: calls.append(1) or style.fget(self)))
        plain = [tree.render_line(y).text for y in range(tree.size.height)]  # outside a pass, as Textual's
        calls.clear()
        tree.refresh()  # every line drawn again, as after a scroll
        strips = tree.render_lines(tree.region.reset_offset)
        assert len(strips) == tree.size.height > 10
        assert len(calls) == 1, "one style for the whole pass"
        assert all(line.rstrip() in strip.text for line, strip in zip(plain, strips)), "the same lines (the snapshots pin their look)"


async def test_n_shows_the_next_finding_made_ahead_after_the_last_frame(scanned, data_dir, monkeypatch):
    """After the frame of n, the next untriaged finding (where the next n goes, and c, d or x with
    auto-advance) is made while the app is idle: its detail rendered, its code's lines in view
    drawn. Showing it then makes neither."""
    from tui.screens import main as main_module
    from tui.widgets.source_view import SourceView

    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        main, tree = app.main, app.query_one(ChecklistTree)
        order = tree.finding_order()
        first, target = next((a, b) for a, b in zip(order[1:], order[2:]) if scanned.findings[a].item_id == scanned.findings[b].item_id)
        tree.select_id(f"finding:{order[order.index(first) - 1]}")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await pilot.pause()
        assert tree.current == NodeRef(NodeKind.FINDING, first) and tree.next_untriaged(main.review, True) == target
        built = []
        detail = main_module.finding_detail
        monkeypatch.setattr(main_module, "finding_detail", lambda f, *a, **k: built.append(f.fingerprint) or detail(f, *a, **k))
        made = SourceView._line_strip.cache_info().misses
        main._show(NodeRef(NodeKind.FINDING, target))  # what n does once the cursor is on it, before its frame
        source = main.source
        lines = [source.render_line(y) for y in range(source.scrollable_content_region.height)]
        assert any("▸" in line.text for line in lines), "its evidence is in view"
        assert built == [], "its detail was made ahead"
        assert SourceView._line_strip.cache_info().misses == made, "and every line of its code in view"
        assert scanned.findings[target].location in _text(main.detail)
        await pilot.press("n")
        await pilot.pause()
        await pilot.pause()
        assert tree.current == NodeRef(NodeKind.FINDING, target)
        assert built == [tree.next_untriaged(main.review, True)], "after its frame, the one after it is made"
