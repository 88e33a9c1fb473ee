"""Opening a saved review: the first screen is read without the store, which opens behind it; and a
decision taken before the store is open, or while a re-scan matches findings, lands on the finding
the reviewer aimed at."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from tests.conftest import ROOT, fixed_clock
from tui.app import ReviewApp
from tui.review import Review
from tui.session.state import Disposition
from tui.widgets.checklist_tree import ChecklistTree


def _untriaged(review: Review, n: int = 0):
    return [f for f in review.findings.values() if f.disposition == Disposition.UNTRIAGED][n]


def test_the_app_is_ready_to_draw_without_sqlalchemy():
    """SQLAlchemy is the store's, which opens after the first screen."""
    code = "import sys, tui.app; assert 'sqlalchemy' not in sys.modules, sorted(m for m in sys.modules if 'sqlalchemy' in m)[:3]"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_dbreview_open_on_a_saved_review_hands_over_to_the_app_without_sqlalchemy(scanned, data_dir):
    """`dbreview open` checks the review file with sqlite3 alone when it is at the newest schema; a new
    file is made through the store, and a corrupt one refused (tests/test_cli.py), as before."""
    code = (
        "import sys; from tui import cli; cli.run_app = lambda **kw: 0; "
        f"assert cli.main(['--data-dir', {str(data_dir)!r}, '--reviewer', 'alice', 'open', {str(scanned.repo)!r}]) == 0; "
        "assert 'sqlalchemy' not in sys.modules and 'alembic' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


async def test_a_decision_before_the_store_is_open_is_said_and_lands_on_the_finding_under_the_cursor(scanned, data_dir, monkeypatch):
    """The reviewer is in the review (their cursor written, colleagues read) from the first frame;
    `c` pressed while the store opens shows at once, says it waits for the file, and is written
    on the finding it was aimed at once the store is open: the keys never wait for it."""
    from tui.session import store as store_module

    aimed = _untriaged(scanned, 3)
    scanned.save_cursor(f"finding:{aimed.fingerprint}")
    opened = threading.Event()
    real_open = store_module.ReviewStore.open.__func__

    def slow_open(cls, *args, **kwargs):
        opened.wait(10)  # the store still opening when the reviewer presses c
        return real_open(cls, *args, **kwargs)

    monkeypatch.setattr(store_module.ReviewStore, "open", classmethod(slow_open))
    scanned.store.set_cursor(scanned.info.id, "bob", "start")  # a colleague in the review
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(ChecklistTree)
        await pilot.pause()
        status = app.query_one("#status")
        assert tree.current.key == aimed.fingerprint, "the saved cursor's finding, shown without the store"
        assert app.main._loader is not None, "the store is not open yet"
        assert app.main.presence.present == ["bob"] and "with bob" in str(status.render()), "presence without it"
        assert scanned.store.cursors(scanned.info.id)["alice"] == (f"finding:{aimed.fingerprint}", fixed_clock())
        await pilot.press("c")
        await pilot.pause()
        assert tree.current.key != aimed.fingerprint, "auto-advance moved on to the next untriaged finding"
        assert app.review.findings[aimed.fingerprint].disposition == Disposition.CONFIRMED, "shown at once"
        assert "opening the review file to save your decision" in str(status.render())
        assert scanned.store.finding(scanned.info.id, aimed.fingerprint).disposition == Disposition.UNTRIAGED
        opened.set()
        while app.main._loader is not None:
            await pilot.pause(0.05)
        await pilot.pause()
        assert scanned.store.finding(scanned.info.id, aimed.fingerprint).disposition == Disposition.CONFIRMED
        assert "opening the review file" not in str(status.render())
    scanned.reload()
    assert scanned.findings[aimed.fingerprint].disposition == Disposition.CONFIRMED
    assert sum(f.disposition == Disposition.CONFIRMED for f in scanned.findings.values()) == 1


@pytest.mark.parametrize("file", ["new", "older"])
async def test_a_new_review_or_an_older_file_shows_the_checklist_before_the_store_opens(file, scanned, data_dir, tmp_path, monkeypatch):
    """The store (SQLAlchemy, and Alembic for these two) makes the review behind the first screen: the
    checklist first, said to be opening, the keys that change the review disabled; then the review."""
    from alembic import command
    from sqlalchemy import create_engine

    from tui.paths import session_db
    from tui.session import store as store_module
    from tui.session.migrations import alembic_config

    aimed = _untriaged(scanned, 1)
    scanned.save_cursor(f"finding:{aimed.fingerprint}")
    if file == "new":
        data_dir = tmp_path / "fresh"
    else:
        with create_engine(f"sqlite:///{session_db(data_dir)}").begin() as con:
            command.downgrade(alembic_config(con), "-1")
    opened = threading.Event()
    real_open = store_module.ReviewStore.open.__func__
    monkeypatch.setattr(store_module.ReviewStore, "open",
                        classmethod(lambda cls, *a, **kw: opened.wait(10) and real_open(cls, *a, **kw)))
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        status, tree = app.query_one("#status"), app.query_one(ChecklistTree)
        assert "Opening the review file" in str(status.render())
        assert tree.root.children and tree.current is not None, "the checklist, the cursor on it"
        assert app.main.check_action("verdict", ("pass",)) is None and app.main.check_action("next_step", ()) is True
        opened.set()
        while app.main._loader is not None:
            await pilot.pause(0.05)
        await pilot.pause()
        assert "Opening the review file" not in str(status.render())
        assert app.main.presence is not None and app.main.check_action("verdict", ("pass",)) is True
        assert app.review.info.id > 0 and app.review.store is not None
        if file == "older":  # the saved review, where the reviewer left it
            assert len(app.review.findings) == len(scanned.findings) and tree.current.key == aimed.fingerprint
        else:
            assert not app.review.findings


async def test_a_decision_while_the_rescan_matches_findings_is_held_then_made(scanned, data_dir, monkeypatch):
    aimed = _untriaged(scanned, 2)
    scanned.save_cursor(f"finding:{aimed.fingerprint}")
    path = scanned.repo / aimed.path
    path.write_text("# moved down by two lines\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    matching, go_on = threading.Event(), threading.Event()
    real_apply = Review.apply_scan

    def slow_apply(self, result):
        matching.set()
        go_on.wait(10)
        return real_apply(self, result)

    monkeypatch.setattr(Review, "apply_scan", slow_apply)
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=True, clock=fixed_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.query_one(ChecklistTree)
        while not matching.is_set():
            await pilot.pause(0.05)
        await pilot.pause()
        assert "matching the findings" in str(app.query_one("#status").render())
        assert tree.current.key == aimed.fingerprint
        await pilot.press("c")
        await pilot.pause()
        assert app.review.findings[aimed.fingerprint].disposition == Disposition.UNTRIAGED, "held, not yet made"
        assert any("matching the findings" in n.message for n in app._notifications), "the reviewer is told"
        go_on.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        now = next(f for f in app.review.findings.values() if f.id == aimed.id)
        assert now.start_line == aimed.start_line + 2, "the re-scan moved the finding"
        assert now.disposition == Disposition.CONFIRMED, "the held decision was made on the finding it was aimed at"
        assert sum(f.disposition == Disposition.CONFIRMED for f in app.review.findings.values()) == 1


async def test_a_review_file_that_cannot_be_used_ends_the_app_with_status_2(scanned, data_dir, monkeypatch):
    """What only opening the store can tell (the command checked the file with sqlite3 and handed it
    over): the app ends with exit status 2, as the command's own refusals do."""
    from tui.session import store as store_module
    from tui.session.reading import SessionStoreError

    def refused(cls, *args, **kwargs):
        raise SessionStoreError("the review database cannot be opened for writing")

    monkeypatch.setattr(store_module.ReviewStore, "open", classmethod(refused))
    app = ReviewApp(scanned.repo, data_dir, "alice", scan=False, clock=fixed_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.return_code == 2


def test_the_store_asked_for_before_the_loader_runs_is_opened_by_who_asks(scanned, data_dir):
    """A write (or the app closing) before the first frame, when the loader's worker has not started:
    the store is opened there and then, rather than waited for."""
    from tui.controllers.loader import Loader
    from tui.paths import session_db

    loader = Loader(None, session_db(data_dir), fixed_clock)  # never started
    store = loader.store()
    try:
        assert store.find_review(str(scanned.repo), "database").id == scanned.info.id
        assert loader.store() is store, "opened once"
    finally:
        store.close()
