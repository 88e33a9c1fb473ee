"""The right pane always shows what the left has selected: a section its summary and items, a group
its items, an item its evidence or the code it is about, a question its draft and the place it
cites, a finding its code at the evidence line; `-` on a section marks its items n/a at once."""

from __future__ import annotations

import io

from rich.console import Console

from tests.conftest import fixed_clock
from tui.about import Place
from tui.app import ReviewApp
from tui.session.state import Verdict
from tui.widgets.checklist_tree import ChecklistTree


def _text(renderable) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def _shown(app) -> tuple[str, str]:
    """(what the detail says, which page the lower pane shows)."""
    main = app.main
    return _text(main.detail.content), main.source.showing if main.viewer.current == "source" else main.viewer.current


async def _select(pilot, node_id: str) -> None:
    pilot.app.query_one(ChecklistTree).select_id(node_id)
    await pilot.pause()
    await pilot.pause()


async def test_every_kind_of_node_shows_its_own_content(scanned, data_dir):
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        main = app.main
        main.about = {"1.2": [Place("apps/backend/src/database.py", 42, 46, "listener after_begin", frozenset(), "listener")]}

        fp = next(f.fingerprint for f in scanned.findings.values() if f.rule_id == "CFG003")
        await _select(pilot, f"finding:{fp}")
        text, page = _shown(app)
        assert "CFG003" in text and "Decision: untriaged" in text and page == "source"
        assert main.source.path == scanned.findings[fp].path

        await _select(pilot, "section:1")
        text, page = _shown(app)
        assert "1 Database Configuration" in text and "0/6 items with a verdict" in text and page == "overview"
        assert "1.4" in _text(main.source.overview)

        await _select(pilot, "group:2.users")
        text, page = _shown(app)
        assert "User & Identity" in text and page == "overview"
        assert "2.users.1" in _text(main.source.overview)

        await _select(pilot, "item:1.2")  # no finding: the code it is about
        text, page = _shown(app)
        assert "The code it is about" in text and "after_begin" in text
        assert page == "source" and main.source.path == "apps/backend/src/database.py"

        await _select(pilot, "questions:1")
        text, page = _shown(app)
        assert "Questions to answer, section 1" in text and page == "overview"

        await _select(pilot, "question:q1.1")
        text, page = _shown(app)
        assert "q1.1" in text and "Drafted from the code" in text
        assert page == "source", "the first place the draft cites"


async def test_minus_on_a_section_marks_its_items_na_with_one_note(scanned, data_dir):
    scanned.set_verdict("1.3", Verdict.FAIL)
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _select(pilot, "section:1")
        await pilot.press("minus")
        await pilot.pause()
        await pilot.press(*"worker only", "ctrl+s")
        await pilot.pause()
        review = app.review
        assert review.item("1.3").verdict == Verdict.FAIL, "a verdict given is kept"
        others = [i.id for i in review.checklist.section("1").items if i.id != "1.3"]
        assert all(review.item(i).verdict == Verdict.NA and review.item(i).notes == "worker only" for i in others)
        assert review.undo() == "Undid your verdict on item 1.1 and 4 more."
        assert all(review.item(i).verdict == Verdict.UNREVIEWED for i in others), "one action, undone whole"


async def test_a_jump_from_the_palette_shows_the_cited_line(scanned, data_dir):
    """From a section (its overview in the lower pane) the palette jumps to a question: the code
    pane, shown again only now, is scrolled to the line the draft cites, not left at the top."""
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _select(pilot, "section:10")
        assert app.main.source.showing == "overview"
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*["space" if c == " " else c for c in "Are RLS session variables"])
        await pilot.pause(0.5)
        await pilot.press("enter")
        for _ in range(10):
            await pilot.pause(0.1)
        source = app.main.source
        start, _ = source._evidence
        assert start > source.size.height, "the cited line is below the first screenful"
        assert source.scroll_y <= start - 1 < source.scroll_y + source.size.height, (start, source.scroll_y)


async def test_a_filter_that_hides_the_selected_finding_shows_where_the_cursor_lands(scanned, data_dir):
    """On an info finding, v narrows to critical untriaged: the finding is gone from the tree, so the
    cursor goes to the nearest node that holds it and is still shown, and the right pane shows that,
    not the finding (it showed the finding while the cursor sat on a section)."""
    info = next(f for f in scanned.findings.values() if f.rule_id == "CFG005" and f.severity == "info")
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _select(pilot, f"finding:{info.fingerprint}")
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("space", "tab", "space", "ctrl+s")  # untriaged, critical
        await pilot.pause()
        await pilot.pause()
        tree = app.query_one(ChecklistTree)
        assert f"finding:{info.fingerprint}" not in tree.by_id
        landed = tree.cursor_node.data
        assert tree.current == landed and landed.id == "section:1", "its section, which has a critical finding"
        text, page = _shown(app)
        assert text.startswith("1 Database Configuration") and page == "overview", text
