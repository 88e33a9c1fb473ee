"""Pilot tests: a reviewer triages, quits, comes back and finds everything as they left it."""

from __future__ import annotations

import pytest

from analyzers.checklist import load_checklist
from tui.app import ReviewApp
from tui.paths import session_db
from tui.prefs import Preferences
from tui.prefs import load as load_prefs
from tui.review import Review
from tui.session import ReviewStore
from tui.session.state import Disposition, Severity, Verdict
from tui.widgets.checklist_tree import ChecklistTree
from tui.widgets.source_view import SourceView


async def _scanned_app(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _reopen(demo_repo, data_dir) -> Review:
    store = ReviewStore.open(session_db(data_dir))
    return Review.open(store, demo_repo, "alice", load_checklist("database"))


async def test_triage_quit_reopen(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await _scanned_app(pilot)
        tree = app.query_one(ChecklistTree)
        await pilot.press("n")
        await pilot.pause()
        first = tree.current.key
        await pilot.press("c")  # confirm, and on to the next untriaged finding
        await pilot.pause()
        second = tree.current.key
        assert second != first, "c moved on"
        await pilot.press("x", "down", "down", "enter")  # dismiss: accepted risk
        await pilot.pause()
        await pilot.press(*"mitigated by the proxy", "enter")
        await pilot.pause()
        third = tree.current.key
        assert third not in (first, second), "x moved on"
        await pilot.press("f")  # the item of that finding fails
        await pilot.press("d")  # downgrade it, and on to the next
        await pilot.pause()
        item_of_third = app.review.findings[third].item_id
        fourth = tree.current.key
        await pilot.press("q")
    review = _reopen(demo_repo, data_dir)
    assert review.findings[first].disposition == Disposition.CONFIRMED
    dismissed = review.findings[second]
    assert dismissed.disposition == Disposition.DISMISSED and dismissed.dismiss_reason == "accepted risk"
    assert review.findings[third].disposition == Disposition.DOWNGRADED
    assert Severity(review.findings[third].severity).rank == Severity(review.findings[third].original_severity).rank + 1
    assert review.item(item_of_third).verdict == Verdict.FAIL
    assert [e.reviewer for e in review.history(first)][-1] == "alice"
    assert review.saved_cursor() == f"finding:{fourth}"

    app = ReviewApp(demo_repo, data_dir, "alice", scan=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert app.query_one(ChecklistTree).current.key == fourth, "the cursor is back where it was"
        assert app.query_one(SourceView).path == review.findings[fourth].path


async def test_auto_advance_off_keeps_the_cursor(demo_repo, data_dir, tmp_path):
    """With auto-advance turned off (from the palette), c leaves the cursor on the finding; the
    choice is saved in the user's preferences file, not in the repository."""
    config = tmp_path / "config" / "config.toml"
    app = ReviewApp(demo_repo, data_dir, "alice", preferences_file=config)
    async with app.run_test(size=(100, 30)) as pilot:
        await _scanned_app(pilot)
        app.main.action_toggle_auto_advance()
        await pilot.press("n")
        await pilot.pause()
        here = app.query_one(ChecklistTree).current.key
        await pilot.press("c")
        await pilot.pause()
        assert app.query_one(ChecklistTree).current.key == here
        assert app.review.findings[here].disposition == Disposition.CONFIRMED
    assert load_prefs(config).auto_advance is False
    assert not any(p.name == "config.toml" for p in demo_repo.rglob("*"))


async def test_answer_a_question_and_annotate(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await _scanned_app(pilot)
        tree = app.query_one(ChecklistTree)
        tree.select_id("question:q1.1")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("ctrl+a")  # replace the drafted text
        await pilot.press(*"Yes, in after_begin.", "ctrl+s")
        await pilot.pause()
        await pilot.press("n", "a")
        await pilot.pause()
        await pilot.press(*"seen in prod", "ctrl+s")
        await pilot.pause()
        noted = tree.current.key
    review = _reopen(demo_repo, data_dir)
    assert "after_begin" in review.answer("q1.1").text
    assert review.answer("q1.1").reviewer == "bob"
    assert [n.text for n in review.findings[noted].notes] == ["seen in prod"]


async def test_escape_cancels_without_saving(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await _scanned_app(pilot)
        await pilot.press("n", "x")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        key = app.query_one(ChecklistTree).current.key
        assert app.review.findings[key].disposition == Disposition.UNTRIAGED
    assert not [e for e in _reopen(demo_repo, data_dir).history(key) if e.kind == "disposition"]


@pytest.mark.parametrize("decide", ["c", "d", "x"])
async def test_a_decision_shown_before_it_is_written_is_saved_on_quitting_at_once(demo_repo, data_dir, decide):
    """c, d and x show the decision at once and write it right after the frame: q (or the app ending
    any other way) in the same moment still saves it, and the history has it."""
    disposition = {"c": Disposition.CONFIRMED, "d": Disposition.DOWNGRADED, "x": Disposition.DISMISSED}[decide]
    for leave in ("quit", "exit"):
        app = ReviewApp(demo_repo, data_dir, "alice")
        async with app.run_test(size=(100, 30)) as pilot:
            await _scanned_app(pilot)
            await pilot.press("n")
            await pilot.pause()
            key = app.query_one(ChecklistTree).current.key
            severity = app.review.findings[key].severity
            if decide == "x":
                await pilot.press("x")
                await pilot.pause()
                await app.screen.dismiss(("accepted risk", "the risk is owned"))  # as enter on a reason does
            else:
                {"c": app.main.action_confirm, "d": app.main.action_downgrade}[decide]()  # no frame drawn after it
                assert app.main._unwritten, "not written yet"
            shown = app.review.findings[key]
            assert shown.disposition == disposition, "shown at once"
            if leave == "quit":
                await app.action_quit()
            else:
                app.exit()  # as on an error: no quit action, the screen is unmounted
        review = _reopen(demo_repo, data_dir)
        saved = review.findings[key]
        assert (saved.disposition, saved.severity, saved.dismiss_reason) == (shown.disposition, shown.severity, shown.dismiss_reason), leave
        assert saved.severity == (severity.lower() if decide == "d" else severity)
        change = "severity" if decide == "d" else "disposition"
        assert [e.new for e in review.history(key) if e.kind == change][-1] == (saved.severity if decide == "d" else disposition)


async def test_undo_in_the_same_moment_as_c_undoes_the_confirmation(demo_repo, data_dir):
    """The confirmation not yet written when u comes (both typed before a frame): it is written
    first, and u undoes it, not the action before it."""
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await _scanned_app(pilot)
        await pilot.press("n")
        await pilot.pause()
        key = app.query_one(ChecklistTree).current.key
        app.main.action_confirm()
        app.main.action_undo()
        await pilot.pause()
        assert app.review.findings[key].disposition == Disposition.UNTRIAGED
    review = _reopen(demo_repo, data_dir)
    assert review.findings[key].disposition == Disposition.UNTRIAGED
    assert [(e.kind, e.new) for e in review.history(key) if e.kind in ("disposition", "undo")] == [
        ("disposition", "confirmed"), ("undo", "untriaged")]


async def test_other_reviewer_wins_a_race(demo_repo, data_dir):
    """Two people decide on one finding: the second is told, shown the first one's decision, and nothing is lost."""
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await _scanned_app(pilot)
        await pilot.press("n")
        await pilot.pause()
        key = app.query_one(ChecklistTree).current.key
        other = _reopen(demo_repo, data_dir)
        other.reviewer = "bob"
        other.dismiss(key, "false positive", "not reachable")
        # Alice confirms in the same tick: no poll can show her bob's change first (then it is no race).
        app.main.action_confirm()
        await pilot.pause()
        assert app.review.findings[key].disposition == Disposition.DISMISSED
    history = _reopen(demo_repo, data_dir).history(key)
    assert [e.reviewer for e in history if e.kind == "disposition"] == ["bob"]
    assert [(e.reviewer, e.new) for e in history if e.kind == "conflict"] == [("alice", "disposition confirmed")]


async def test_verdict_keys_need_an_item(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await _scanned_app(pilot)
        tree = app.query_one(ChecklistTree)
        tree.select_id("item:1.1")
        await pilot.pause()
        await pilot.press("p")
        tree.select_id("item:1.2")
        await pilot.pause()
        await pilot.press("minus")
        await pilot.pause()
        assert app.review.item("1.1").verdict == Verdict.PASS
        assert app.review.item("1.2").verdict == Verdict.NA
        assert "2/97 items" in str(app.review.progress())


async def test_two_quick_enters_dismiss_without_a_note(demo_repo, data_dir):
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await _scanned_app(pilot)
        await pilot.press("n")
        await pilot.pause()
        key = app.query_one(ChecklistTree).current.key
        await pilot.press("x")
        await pilot.pause()
        app.simulate_key("enter")
        app.simulate_key("enter")
        await pilot.pause()
        await pilot.pause()
        assert app.review.findings[key].disposition == Disposition.DISMISSED
        assert app.screen is app.screen_stack[0], "the dialog closed"


async def test_keys_typed_ahead_act_on_the_finding_moved_to(demo_repo, data_dir):
    """n then c typed in one burst (over SSH) confirm the next finding, not the one being left."""
    app = ReviewApp(demo_repo, data_dir, "alice", preferences=Preferences(auto_advance=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await _scanned_app(pilot)
        await pilot.press("n")
        await pilot.pause()
        first = app.query_one(ChecklistTree).current.key
        await pilot.press("c")
        await pilot.pause()
        app.simulate_key("n")
        app.simulate_key("c")
        await pilot.pause()
        await pilot.pause()
        second = app.query_one(ChecklistTree).current.key
        assert second != first
        assert app.review.findings[second].disposition == Disposition.CONFIRMED
        assert [e.new for e in app.review.history(first) if e.kind == "disposition"] == ["confirmed"]


async def test_the_dismiss_dialog_says_which_finding_in_whole_words(demo_repo, data_dir):
    """x on a finding with a long message: the dialog's title is the message, cut at a word with
    "…" when it would take more than three lines at 80 columns; it was cut mid-word at 60 characters."""
    app = ReviewApp(demo_repo, data_dir, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await _scanned_app(pilot)
        tree = app.query_one(ChecklistTree)
        long = max(app.review.findings.values(), key=lambda f: len(f.message))
        assert len(long.message) > 180
        tree.select_id(f"finding:{long.fingerprint}")
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        title = str(app.screen.query_one(".dialog-title").render())
        assert title.startswith("Dismiss: ") and title.endswith(" …")
        assert long.message.startswith(title[len("Dismiss: "):-2]) and long.message[len(title) - 11] == " ", "whole words"
