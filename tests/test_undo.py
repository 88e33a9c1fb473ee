"""u undoes the reviewer's own last action (a bulk one whole), again for the one before, across a
restart; it refuses, changing nothing, when someone else changed the thing since. r reopens."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from analyzers.checklist import load_checklist
from tui.app import ReviewApp
from tui.paths import session_db
from tui.review import Review
from tui.session import ReviewStore, UndoError
from tui.session.models import EventRow
from tui.session.state import Disposition, Verdict
from tui.widgets.checklist_tree import ChecklistTree


def _as(review: Review, reviewer: str) -> Review:
    """The same review, opened by another reviewer on their own store connection."""
    store = ReviewStore.open(review.store.path)
    return Review.open(store, review.repo, reviewer, load_checklist("database"))


def _fps(review: Review, n: int) -> list[str]:
    return [f.fingerprint for f in list(review.findings.values())[:n]]


def test_undo_goes_back_one_action_at_a_time_and_survives_a_restart(scanned):
    a, b = _fps(scanned, 2)
    scanned.confirm(a)
    scanned.dismiss(b, "won't fix", "legacy")
    dismissed = scanned.findings[b]  # named at its first line, whatever lines it spans
    assert scanned.undo() == f"Undid your dismissal of {dismissed.rule_id} at {dismissed.path}:{dismissed.start_line}."
    assert scanned.findings[b].disposition == Disposition.UNTRIAGED and scanned.findings[b].dismiss_reason is None

    again = _as(scanned, "alice")  # a new process, the same reviewer
    assert again.undo().startswith("Undid your confirmation of")
    assert again.findings[a].disposition == Disposition.UNTRIAGED
    with pytest.raises(UndoError, match="Nothing of yours to undo"):
        again.undo()
    kinds = [e.kind for e in again.history(a)]
    assert kinds == ["disposition", "undo"], "both are in the history"


def test_a_bulk_decision_is_one_action(scanned):
    fps = _fps(scanned, 4)
    scanned.confirm(fps[0])
    scanned.bulk(fps[1:], Disposition.DISMISSED, reason="false positive", note="generated code")
    assert scanned.undo() == "Undid your dismissal of 3 findings."
    assert [scanned.findings[fp].disposition for fp in fps] == [Disposition.CONFIRMED] + [Disposition.UNTRIAGED] * 3


def test_a_downgrade_undone_gives_the_severity_back(scanned):
    fp = next(f.fingerprint for f in scanned.findings.values() if f.severity == "critical")
    scanned.downgrade(fp)
    assert scanned.findings[fp].severity == "warning"
    scanned.undo()
    assert scanned.findings[fp].severity == "critical" and scanned.findings[fp].disposition == Disposition.UNTRIAGED


def test_undo_refuses_when_someone_else_changed_it_since(scanned):
    fp = _fps(scanned, 1)[0]
    scanned.confirm(fp)
    bob = _as(scanned, "bob")
    bob.dismiss(fp, "false positive")
    with pytest.raises(UndoError) as caught:
        scanned.undo()
    assert str(caught.value) == "bob dismissed this finding a moment ago as a false positive; nothing was undone."
    scanned.reload()
    assert scanned.findings[fp].disposition == Disposition.DISMISSED, "nothing changed"


def test_a_note_is_withdrawn_and_verdicts_and_answers_come_back(scanned):
    fp = _fps(scanned, 1)[0]
    scanned.annotate(fp, "seen in prod")
    scanned.set_verdict("1.3", Verdict.WARNING, "half done")
    scanned.set_verdict("1.3", Verdict.FAIL)
    scanned.set_answer("q1.1", "yes")
    assert scanned.undo() == "Undid your answer to question q1.1."
    assert scanned.answer("q1.1").text == ""
    assert scanned.undo() == "Undid your verdict on item 1.3."
    assert (scanned.item("1.3").verdict, scanned.item("1.3").notes) == (Verdict.WARNING, "half done")
    assert scanned.undo() == "Undid your verdict on item 1.3."
    assert scanned.item("1.3").verdict == Verdict.UNREVIEWED
    assert scanned.undo().startswith("Withdrew your note on ")
    assert scanned.findings[fp].notes == ()


def test_an_action_from_an_older_dbreview_is_not_guessed_at(scanned):
    fp = _fps(scanned, 1)[0]
    scanned.confirm(fp)
    with scanned.store._writing() as s:  # as dbreview 0.1.0 wrote it: no states kept
        s.execute(update(EventRow).values(states=None))
    with pytest.raises(UndoError, match="earlier dbreview"):
        scanned.undo()


def test_reopen_is_an_event_and_can_be_undone(scanned):
    fp = _fps(scanned, 1)[0]
    scanned.dismiss(fp, "accepted risk")
    scanned.reopen(fp)
    assert scanned.findings[fp].disposition == Disposition.UNTRIAGED
    assert [e.new for e in scanned.history(fp)] == ["dismissed", "untriaged"]
    scanned.undo()
    assert scanned.findings[fp].disposition == Disposition.DISMISSED


async def test_u_in_the_app_undoes_and_says_what(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        first = app.query_one(ChecklistTree).current.key
        await pilot.press("c", "u")
        await pilot.pause()
        assert app.review.findings[first].disposition == Disposition.UNTRIAGED
        said = [n.message for n in app._notifications]
        assert any(m.startswith("Undid your confirmation of") for m in said), said
        await pilot.press("u")
        await pilot.pause()
        assert any("Nothing of yours to undo" in n.message for n in app._notifications)
    assert session_db(data_dir).exists()
