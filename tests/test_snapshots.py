"""What a person sees, as SVG snapshots under snapshots/ (update with `pytest --snapshot-update`).

Each app starts on a review already scanned (no worker running, no timing in the status line),
with a fixed clock, so the pictures only change when the interface does."""

from __future__ import annotations

from textual.widgets import OptionList

from tests.conftest import fixed_clock
from tui.app import ReviewApp
from tui.widgets.checklist_tree import ChecklistTree


def _app(scanned, data_dir) -> ReviewApp:
    return ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)


async def _settled(pilot) -> None:
    """Every worker done (source colours come from one, started by a message), the cursor of a text
    field steady (shown, not blinking: a blink made the search picture differ from run to run) and
    the screen repainted."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    for field in pilot.app.screen.query("Input, TextArea"):
        field.cursor_blink = False
    await pilot.pause()


def _select(node_id: str):
    async def run(pilot) -> None:
        pilot.app.query_one(ChecklistTree).select_id(node_id)
        await _settled(pilot)

    return run


def _first_finding(scanned, rule_id: str) -> str:
    return next(f.fingerprint for f in scanned.findings.values() if f.rule_id == rule_id)


def test_opening_view_80x24(snap_compare, scanned, data_dir):
    """80x24: section 1 selected from the start, its summary on the right (verdicts, questions,
    untriaged and open findings) over its six items; the tree with the sections open, counts of open
    findings per item; the status line (Step 2/4: 82 findings to triage, 0/82 triaged) and the footer
    keys, ? Help and q Quit among them."""
    assert snap_compare(_app(scanned, data_dir), terminal_size=(80, 24), run_before=_settled)


def test_finding_with_evidence_80x24(snap_compare, scanned, data_dir):
    """80x24: the f-string SET in database.py selected: WARNING CFG003, its decision (untriaged), the
    whole evidence line 57 wrapped in the detail, then the message; the source scrolled to it, line 57
    marked with ▸ and a highlighted background."""
    fp = _first_finding(scanned, "CFG003")
    assert snap_compare(_app(scanned, data_dir), terminal_size=(80, 24), run_before=_select(f"finding:{fp}"))


def test_finding_with_evidence_120x40(snap_compare, scanned, data_dir):
    """120x40: the check-in listener finding (CFG004): rule title, why and instead in the detail, the
    listener's lines 57-65 marked in the source with line numbers and syntax colours."""
    fp = _first_finding(scanned, "CFG004")
    assert snap_compare(_app(scanned, data_dir), terminal_size=(120, 40), run_before=_select(f"finding:{fp}"))


def test_triaged_item_120x40(snap_compare, scanned, data_dir):
    """120x40: item 1.3 opened after triage: its confirmed finding (✓), the one still untriaged, and
    the dismissed one folded away under "⊘ 1 dismissed or resolved"; the item's verdict fail (✗) by
    alice on the right, and the status line counting 2 triaged findings and 1 item."""
    fps = [f.fingerprint for f in scanned.findings_of("1.3")]
    scanned.confirm(fps[0])
    scanned.dismiss(fps[1], "accepted risk", "covered by the proxy")
    scanned.set_verdict("1.3", "fail")

    async def run(pilot) -> None:
        await _select("item:1.3")(pilot)
        await pilot.press("enter")
        await _settled(pilot)

    assert snap_compare(_app(scanned, data_dir), terminal_size=(120, 40), run_before=run)


def test_dismiss_dialog_80x24(snap_compare, scanned, data_dir):
    """80x24: the dismiss dialog over the app: the finding's message, the three reasons (false positive,
    won't fix, accepted risk), a note field and the keys."""
    fp = _first_finding(scanned, "CFG005")

    async def run(pilot) -> None:
        await _select(f"finding:{fp}")(pilot)
        await pilot.press("x")
        await _settled(pilot)

    assert snap_compare(_app(scanned, data_dir), terminal_size=(80, 24), run_before=run)


def test_help_screen_80x24(snap_compare, scanned, data_dir):
    """80x24: the help screen listing every key with what it does."""
    async def run(pilot) -> None:
        await _settled(pilot)
        await pilot.press("question_mark")
        await _settled(pilot)

    assert snap_compare(_app(scanned, data_dir), terminal_size=(80, 24), run_before=run)


def test_question_with_drafted_answer_80x24(snap_compare, scanned, data_dir):
    """80x24: question q1.1 selected: its text, 'not answered yet', and the answer drafted from the code."""
    assert snap_compare(_app(scanned, data_dir), terminal_size=(80, 24), run_before=_select("question:q1.1"))


def test_summary_screen_120x40(snap_compare, scanned, data_dir):
    """120x40: the progress summary: one row per section with open findings by severity (✗ ! i),
    untriaged/confirmed/downgraded/dismissed counts, verdicts and answers, then the Executive
    Summary exactly as the report will have it (overall not assessed yet and not final, no decided
    issue, 80 untriaged findings by severity)."""

    async def run(pilot) -> None:
        await _settled(pilot)
        await pilot.press("s")
        await _settled(pilot)

    assert snap_compare(_app(scanned, data_dir), terminal_size=(120, 40), run_before=run)


def test_search_screen_80x24(snap_compare, scanned, data_dir):
    """80x24: `/` then "DISCARD": item 1.4 (the checklist's DISCARD ALL item), the CFG004 finding
    whose message names it, and the lines of two documents that mention it (no finding points at
    them), each a result to jump to."""

    async def run(pilot) -> None:
        await _settled(pilot)
        await pilot.press("slash", *"DISCARD")
        results = pilot.app.screen.query_one(OptionList)
        for _ in range(100):  # the search starts when typing pauses: later on a loaded machine
            await pilot.pause(0.1)
            shown = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
            if any("DISCARD" in s for s in shown[1:]):
                break
        await _settled(pilot)

    assert snap_compare(_app(scanned, data_dir), terminal_size=(80, 24), run_before=run)


def test_context_document_120x40(snap_compare, scanned, data_dir):
    """120x40: the tech-stack Overview rendered as Markdown in the right pane, scrolled to its Data
    Model Architecture part, which the checklist cites (lines 92-159): those blocks carry a bar and
    a tinted background; the tree lists the context documents first, this one not read yet."""
    from tui.walkthrough import context_docs

    app = _app(scanned, data_dir)
    app.doc_read_after = 3600  # read or not would depend on how long the picture took on a loaded machine
    found = sorted(str(p.relative_to(scanned.repo)) for p in (scanned.repo / "docs").rglob("*.md"))

    async def run(pilot) -> None:
        await _settled(pilot)
        pilot.app.main.docs = context_docs(pilot.app.checklist, found)
        pilot.app.query_one(ChecklistTree).populate(pilot.app.review, pilot.app.main.docs)
        await _select("doc:docs/tech-stack/00 - Overview.md")(pilot)
        await pilot.pause(0.3)
        await _settled(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run)


def test_pair_review_presence_80x24(snap_compare, scanned, data_dir):
    """80x24: bob's view while alice reviews: `▸alice` before the finding her cursor is on, and
    "with alice" leading the status line."""
    fp = _first_finding(scanned, "CFG004")
    scanned.store.set_cursor(scanned.info.id, "alice", f"finding:{fp}")

    async def run(pilot) -> None:
        await _settled(pilot)
        pilot.app.main.poll()
        await _select(f"finding:{fp}")(pilot)

    app = ReviewApp(scanned.repo, data_dir, "bob", scan=False, clock=fixed_clock)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
