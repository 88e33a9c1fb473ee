"""The guided walkthrough, documents, search, summary, bulk triage and copying, as a reviewer uses them."""

from __future__ import annotations

from tui.app import ReviewApp
from tui.screens.search import SearchScreen
from tui.screens.summary import SummaryScreen
from tui.session.state import Disposition
from tui.walkthrough import context_docs, next_target, steps
from tui.widgets.checklist_tree import ChecklistTree
from tui.widgets.markdown_view import MarkdownView


async def _ready(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def test_checklist_documents_come_first_with_their_cited_lines(scanned):
    from analyzers.checklist import load_checklist

    found = [
        "docs/other.md",
        "docs/tech-stack/00 - Overview.md",
        "docs/implementation-plan/epic-02-backend-core/story-02-02-database.md",
        "docs/implementation-plan/epic-03-frontend/story.md",
        "docs/implementation-plan/Epic 22 - Complete Billing.md",
    ]
    docs = context_docs(load_checklist("database"), found)
    cited = [d.path for d in docs if d.cited]
    assert cited == [found[1], found[2], found[4]], "the Overview, then the epics the checklist names, by number"
    assert docs[0].lines == (92, 159)
    assert {d.path for d in docs if not d.cited} == {found[0], found[3]}
    assert next_target(scanned, docs, set(), []).node_id == "doc:docs/tech-stack/00 - Overview.md"
    first_steps = steps(scanned, docs, set())
    assert first_steps[0].left == 3, "only the documents the checklist names are required reading"
    assert first_steps[3].left == 27


async def test_space_walks_the_review_process_in_order(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    app.doc_read_after = 0.2  # the real delay is longer; what matters is that it is recorded
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        tree = app.query_one(ChecklistTree)
        await pilot.press("space")
        await pilot.pause()
        assert tree.current.id == "doc:docs/tech-stack/00 - Overview.md"
        view = app.query_one(MarkdownView)
        await pilot.pause(0.3)
        assert view.path == "docs/tech-stack/00 - Overview.md" and view.cited == (92, 159)
        assert view.query(".-cited"), "the cited lines are marked in the rendered document"
        await pilot.pause(0.6)  # long enough to count as read
        assert "docs/tech-stack/00 - Overview.md" in app.review.docs_read
        for _ in app.main.docs[1:]:  # the other documents, one space each
            await pilot.press("space")
            await pilot.pause(0.6)
        await pilot.press("space")
        await pilot.pause()
        assert tree.current.kind == "finding", "after the documents, the findings"
        assert "Step 2/4" in str(app.query_one("#status").render())
        docs = len(app.main.docs)
    reopened = ReviewApp(demo_repo, data_dir, "alice", scan=False)
    async with reopened.run_test(size=(100, 30)):
        assert len(reopened.review.docs_read) == docs, "reading is recorded"


async def test_the_step_does_not_go_back_while_the_scan_looks_for_the_documents(demo_repo, data_dir):
    """A saved review reopened: its findings are there at once, the context documents only when the scan
    ends. The status line must not say step 2 and then step 1."""
    async with ReviewApp(demo_repo, data_dir, "alice").run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        before = str(app.query_one("#status").render())
        await _ready(pilot)
        after = str(app.query_one("#status").render())
    assert "Step 1/4: finding the context documents" in before
    assert "Step 1/4" in after and "documents to read" in after


async def test_bulk_dismiss_all_findings_of_a_rule_with_one_note(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        tree = app.query_one(ChecklistTree)
        from collections import Counter

        rule = Counter(f.rule_id for f in app.review.findings.values()).most_common(1)[0][0]
        first = next(f for f in app.review.findings.values() if f.rule_id == rule)
        same_rule = {f.fingerprint for f in app.review.findings.values() if f.rule_id == rule}
        assert len(same_rule) > 1
        tree.select_id(f"finding:{first.fingerprint}")
        await pilot.pause()
        await pilot.press("M")
        assert app.review.marked == same_rule
        await pilot.press("x", "enter")  # false positive
        await pilot.pause()
        await pilot.press(*"indexes exist in the DBA's script", "enter")
        await pilot.pause()
        states = [app.review.findings[fp] for fp in same_rule]
        assert all(s.disposition == Disposition.DISMISSED and s.dismiss_reason == "false positive" for s in states)
        assert not app.review.marked
        notes = {e.note for fp in same_rule for e in app.review.history(fp) if e.kind == "disposition"}
        assert any("DBA" in (n or "") for n in notes)


async def test_search_finds_items_findings_and_source(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"DISCARD")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        from textual.widgets import OptionList

        options = app.screen.query_one(OptionList)
        texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(t.startswith("item 1.4") for t in texts)
        assert any(t.startswith("CFG004") for t in texts), "the finding whose message names it"
        assert any(t.startswith("docs/tech-stack/00 - Overview.md:") for t in texts), "files no finding points at"
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(ChecklistTree).current.id == "item:1.4"


async def test_down_from_the_query_lands_on_the_first_result(demo_repo, data_dir):
    """↓ from the query puts the highlight on the first result, so enter opens it and ↓ ↓ enter the
    second: the first ↓ only moved the focus, and enter then did nothing."""
    from textual.widgets import OptionList

    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await pilot.press("slash", *"DISCARD")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        second = options.get_option_at_index(1).id
        await pilot.press("down")
        assert options.has_focus and options.highlighted == 0
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.query_one(ChecklistTree).current.id == second


async def test_summary_shows_sections_and_the_executive_summary(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        from textual.widgets import Markdown

        source = app.screen.query_one(Markdown).source
        assert "Executive Summary" in source and "Overall assessment" in source
        await pilot.press("escape")


async def test_copy_finding_location_and_markdown(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await pilot.press("n", "y")
        f = app.review.findings[app.query_one(ChecklistTree).current.key]
        assert app.clipboard == f.location
        await pilot.press("Y")
        assert f.location in app.clipboard and "```" in app.clipboard and f.rule_id in app.clipboard


async def test_search_keeps_to_the_scan_limits_and_says_when_nothing_matched(demo_repo, data_dir, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("zebracorn lives outside\n")
    (demo_repo / "leak.txt").symlink_to(outside)
    (demo_repo / "blob.bin").write_bytes(b"\0zebracorn in a binary")
    (demo_repo / "node_modules").mkdir()
    (demo_repo / "node_modules" / "x.js").write_text("zebracorn in a skipped folder")
    (demo_repo / "notes.txt").write_text("a zebracorn in plain text\n")
    app = ReviewApp(demo_repo, data_dir, "alice", scan=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"zebracorn")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        from textual.widgets import OptionList

        options = app.screen.query_one(OptionList)
        texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert texts == ["notes.txt:1 a zebracorn in plain text"]
        from textual.widgets import Input

        app.screen.query_one(Input).value = "qqxxqq"
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        said = str(options.get_option_at_index(0).prompt)
        assert said.startswith("Nothing matches 'qqxxqq' in the checklist, the findings or the ") and options.get_option_at_index(0).disabled
