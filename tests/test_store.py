"""The saved review on disk: created private, migrated safely, never damaged, every change an event
that survives a kill, and shared by two terminals."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest

from analyzers.findings import Finding, Location, ScanError, ScanResult, Severity, with_identity
from tui.session import ConflictError, ReviewStore, SessionStoreError
from tui.session.migrations import HEAD, alembic_config
from tui.session.state import Disposition, Verdict

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    """One second later on every call."""

    def __init__(self) -> None:
        self._ticks = count()

    def __call__(self) -> datetime:
        return T0 + timedelta(seconds=next(self._ticks))


def findings(n: int, path: str = "app/models.py") -> list[Finding]:
    return with_identity(
        [
            Finding(
                rule_id=f"DT{i % 7:03d}",
                item_id=f"{i % 12}.1",
                severity=(Severity.CRITICAL, Severity.WARNING, Severity.INFO)[i % 3],
                message=f"finding {i}",
                location=Location(path, i + 1, i + 2),
                anchor=f"table:t{i}",
                evidence=(f"c{i} = Column(DateTime)", "    # why"),
            )
            for i in range(n)
        ]
    )


def revision_of(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute("SELECT version_num FROM alembic_version")]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "reviews.sqlite3"


@pytest.fixture
def store(db: Path):
    with ReviewStore.open(db, clock=Clock()) as s:
        yield s


@pytest.fixture
def review(store: ReviewStore):
    info = store.start_review("/repo", "database", "alice", commit="abc123")
    store.apply_scan(info.id, ScanResult("/repo", findings(5)), "alice")
    return info


def fingerprints(store: ReviewStore, review_id: int) -> list[str]:
    return [f.fingerprint for f in store.snapshot(review_id).findings]


# -- opening and migrating ------------------------------------------------------------------------


def test_a_fresh_database_is_private_and_at_head(db: Path):
    ReviewStore.open(db).close()
    assert db.stat().st_mode & 0o777 == 0o600
    assert db.parent.stat().st_mode & 0o777 == 0o700
    assert revision_of(db) == [HEAD]
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert not list(db.parent.glob("*.bak-*"))


def test_head_names_the_newest_revision_and_models_match_the_history(db: Path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from tui.session.models import Base

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD
    ReviewStore.open(db).close()
    with create_engine(f"sqlite:///{db}").connect() as con:
        assert compare_metadata(MigrationContext.configure(con), Base.metadata) == []


def test_reopening_at_head_neither_migrates_nor_backs_up(db: Path, monkeypatch: pytest.MonkeyPatch):
    ReviewStore.open(db).close()
    monkeypatch.setattr("tui.session.store._upgrade", lambda engine: pytest.fail("migrated a database at head"))
    ReviewStore.open(db).close()
    assert not list(db.parent.glob("*.bak-*"))


def test_an_older_database_is_backed_up_then_migrated(db: Path):
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    ReviewStore.open(db).close()
    with create_engine(f"sqlite:///{db}").begin() as con:
        command.downgrade(alembic_config(con), "-1")
    older = ScriptDirectory.from_config(alembic_config()).get_revision(HEAD).down_revision or "base"
    assert revision_of(db) == ([] if older == "base" else [older])

    ReviewStore.open(db).close()
    backup = db.with_name(f"{db.name}.bak-{older}")
    assert backup.exists() and backup.stat().st_mode & 0o777 == 0o600
    assert revision_of(backup) == ([] if older == "base" else [older])
    assert revision_of(db) == [HEAD]


def test_a_file_that_is_not_sqlite_is_refused_untouched(db: Path):
    db.parent.mkdir(parents=True)
    garbage = os.urandom(8192)
    db.write_bytes(garbage)
    with pytest.raises(SessionStoreError) as caught:
        ReviewStore.open(db)
    message = str(caught.value)
    assert str(db) in message and "NOT modified" in message and "\n" not in message
    assert db.read_bytes() == garbage
    assert sorted(p.name for p in db.parent.iterdir()) == [db.name]


def test_a_damaged_database_is_refused_untouched(db: Path):
    with ReviewStore.open(db) as store:
        store.apply_scan(store.start_review("/r", "database", "alice").id, ScanResult("/r", findings(300)), "alice")
    data = bytearray(db.read_bytes())
    data[4096 * 2 : 4096 * 6] = os.urandom(4096 * 4)  # pages 3-6: table and index pages
    db.write_bytes(bytes(data))
    with pytest.raises(SessionStoreError, match="NOT modified"):
        ReviewStore.open(db)
    assert db.read_bytes() == bytes(data)


def test_a_database_from_a_newer_dbreview_is_refused_untouched(db: Path):
    ReviewStore.open(db).close()
    with sqlite3.connect(db) as con:
        con.execute("UPDATE alembic_version SET version_num = '0999_future'")
    before = db.read_bytes()
    with pytest.raises(SessionStoreError, match=r"newer dbreview \(schema 0999_future\); upgrade dbreview"):
        ReviewStore.open(db)
    assert db.read_bytes() == before
    assert not list(db.parent.glob("*.bak-*"))


def test_an_sqlite_database_of_someone_else_is_refused(db: Path):
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE notes (x)")
    with pytest.raises(SessionStoreError, match="not a dbreview review"):
        ReviewStore.open(db)


# -- every action is one event --------------------------------------------------------------------


def test_every_action_writes_one_event_with_who_when_old_and_new(store: ReviewStore, review):
    fp = fingerprints(store, review.id)
    actions = [
        (lambda: store.set_disposition(review.id, fp[0], Disposition.CONFIRMED, "bob", note="real"),
         ("bob", "disposition", fp[0], "untriaged", "confirmed", "real")),
        (lambda: store.set_disposition(review.id, fp[1], Disposition.DISMISSED, "bob", reason="false positive"),
         ("bob", "disposition", fp[1], "untriaged", "dismissed", "false positive")),
        (lambda: store.downgrade(review.id, fp[0], "carol", note="internal only"),
         ("carol", "severity", fp[0], "critical", "warning", "internal only")),
        (lambda: store.annotate(review.id, fp[2], "carol", "see ADR 7"),
         ("carol", "note", fp[2], None, None, "see ADR 7")),
        (lambda: store.set_verdict(review.id, "2.1", Verdict.FAIL, "bob", notes="naive datetimes"),
         ("bob", "verdict", "2.1", "unreviewed", "fail", "naive datetimes")),
        (lambda: store.set_answer(review.id, "q1", "Yes, with RLS.", "bob"),
         ("bob", "answer", "q1", None, "Yes, with RLS.", None)),
        (lambda: store.mark_doc_read(review.id, "docs/adr-7.md", "carol"),
         ("carol", "doc_read", "docs/adr-7.md", None, None, None)),
    ]
    seen = store.events(review.id)[-1].id
    for act, (who, kind, target, old, new, note) in actions:
        act()
        (e,) = store.changes_since(review.id, seen)
        seen = e.id
        assert (e.reviewer, e.kind, e.target, e.old, e.new, e.note) == (who, kind, target, old, new, note)
        assert e.at.tzinfo is UTC and e.at > T0

    store.mark_doc_read(review.id, "docs/adr-7.md", "carol")  # already read: nothing changes
    store.set_cursor(review.id, "bob", "finding:" + fp[3])  # navigation: no event
    assert store.changes_since(review.id, seen) == []
    bulk = store.bulk_set_disposition(review.id, fp[3:5], Disposition.CONFIRMED, "dave", note="same root cause")
    assert [e.target for e in store.changes_since(review.id, seen)] == fp[3:5]
    assert [f.version for f in bulk] == [1, 1]


def test_a_scan_is_one_event_with_its_counts(store: ReviewStore, review):
    before = store.events(review.id)[-1].id
    store.apply_scan(review.id, ScanResult("/repo", findings(6)[1:]), "bob", commit="def456")
    (e,) = store.changes_since(review.id, before)
    assert (e.kind, e.reviewer, e.old, e.new) == ("scan", "bob", "abc123", "def456")
    assert e.note == "1 new, 4 unchanged, 0 moved, 0 edited, 1 resolved, 0 regressed"
    assert store.snapshot(review.id).review.commit == "def456"


def test_a_dismissal_needs_a_known_reason(store: ReviewStore, review):
    fp = fingerprints(store, review.id)[0]
    for reason in (None, "looks fine"):
        with pytest.raises(ValueError, match="reason"):
            store.set_disposition(review.id, fp, Disposition.DISMISSED, "bob", reason=reason)
    assert store.events(review.id, fp) == []


def test_downgrade_keeps_the_reported_severity_and_a_new_decision_restores_it(store: ReviewStore, review):
    fp = next(f.fingerprint for f in store.snapshot(review.id).findings if f.severity == Severity.CRITICAL)
    down = store.downgrade(review.id, fp, "bob")
    assert (down.severity, down.original_severity, down.disposition) == (
        Severity.WARNING, Severity.CRITICAL, Disposition.DOWNGRADED)
    assert store.downgrade(review.id, fp, "bob").severity == Severity.INFO
    with pytest.raises(ValueError, match="lowest"):
        store.downgrade(review.id, fp, "bob")
    assert store.set_disposition(review.id, fp, Disposition.CONFIRMED, "bob").severity == Severity.CRITICAL
    # a re-scan keeps a reviewer's downgrade
    store.set_disposition(review.id, fp, Disposition.DOWNGRADED, "bob")
    store.apply_scan(review.id, ScanResult("/repo", findings(5)), "bob")
    assert store.finding(review.id, fp).severity == Severity.WARNING


def test_a_bulk_change_is_all_or_nothing(store: ReviewStore, review):
    fp = fingerprints(store, review.id)
    with pytest.raises(KeyError):
        store.bulk_set_disposition(review.id, [fp[0], "no-such-finding"], Disposition.CONFIRMED, "bob")
    assert store.finding(review.id, fp[0]).disposition == Disposition.UNTRIAGED
    assert store.events(review.id, fp[0]) == []


def test_a_scan_replaces_errors_and_drafts_but_not_answers(store: ReviewStore, review):
    store.set_answer(review.id, "q1", "mine", "bob")
    result = ScanResult("/repo", findings(5), [ScanError("bad.py", "syntax error", 3)], drafted_answers={"q1": "d1"})
    store.apply_scan(review.id, result, "bob")
    snap = store.snapshot(review.id)
    assert snap.answer("q1").text == "mine" and snap.answer("q1").drafted == "d1"
    assert snap.scan_errors == (ScanError("bad.py", "syntax error", 3),)
    store.apply_scan(review.id, ScanResult("/repo", findings(5), drafted_answers={"q2": "d2"}), "bob")
    snap = store.snapshot(review.id)
    assert (snap.answer("q1").text, snap.answer("q1").drafted, snap.answer("q2").drafted) == ("mine", "", "d2")
    assert snap.scan_errors == ()


def test_reviews_are_listed_with_their_progress(store: ReviewStore, review):
    fp = fingerprints(store, review.id)
    store.set_disposition(review.id, fp[0], Disposition.CONFIRMED, "bob")
    store.set_verdict(review.id, "0.1", Verdict.PASS, "bob")
    store.set_answer(review.id, "q1", "yes", "bob")
    other = store.start_review("/other", "database", "carol")
    latest, older = store.list_reviews()  # the most recently changed first
    assert (latest.review.id, latest.findings, latest.last_reviewer) == (other.id, 0, "carol")
    assert older.review.id == review.id and older.review.reviewers == ("alice", "bob")
    assert (older.findings, older.triaged, older.items, older.items_done, older.answered) == (5, 1, 5, 1, 1)
    assert (older.last_reviewer, older.last_change) == ("bob", store.events(review.id)[-1].at)
    store.delete_review(other.id)
    assert [s.review.id for s in store.list_reviews()] == [review.id]
    assert store.find_review("/other", "database") is None


# -- surviving: resume, kill ----------------------------------------------------------------------


def test_closing_and_reopening_resumes_everything(db: Path):
    with ReviewStore.open(db) as store:
        review = store.start_review("/repo", "database", "alice")
        store.apply_scan(review.id, ScanResult("/repo", findings(3)), "alice")
        fp = fingerprints(store, review.id)
        store.set_disposition(review.id, fp[1], Disposition.DISMISSED, "alice", reason="won't fix", note="legacy")
        store.set_verdict(review.id, "3.1", Verdict.WARNING, "alice", notes="partly")
        store.set_cursor(review.id, "alice", f"finding:{fp[2]}")
        before = store.snapshot(review.id)
    with ReviewStore.open(db) as store:
        again = store.find_review("/repo", "database")
        assert again == before.review
        assert store.snapshot(review.id) == before
        (cursor, when) = store.cursors(review.id)["alice"]
        assert cursor == f"finding:{fp[2]}" and when.tzinfo is UTC


KILLED_MID_REVIEW = """
import os, signal, sys
from analyzers.findings import Finding, Location, ScanResult, Severity, with_identity
from tui.session import ReviewStore
from tui.session.state import Disposition
store = ReviewStore.open(sys.argv[1])
review = store.start_review("/repo", "database", "alice")
found = with_identity([Finding("R1", "1.1", Severity.WARNING, "m", Location(f"f{i}.py", 1, 1), "a", ("x",))
                       for i in range(5)])
store.apply_scan(review.id, ScanResult("/repo", found), "alice")
store.set_disposition(review.id, found[0].fingerprint, Disposition.CONFIRMED, "alice")
store.set_disposition(review.id, found[1].fingerprint, Disposition.DISMISSED, "alice", reason="accepted risk")
store.downgrade(review.id, found[2].fingerprint, "alice")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_process_loses_no_decision(db: Path):
    run = subprocess.run([sys.executable, "-c", KILLED_MID_REVIEW, str(db)], capture_output=True, text=True)
    assert run.returncode == -9, run.stderr
    with ReviewStore.open(db) as store:
        review = store.find_review("/repo", "database")
        decided = [f.disposition for f in store.snapshot(review.id).findings]
        assert decided == ["confirmed", "dismissed", "downgraded", "untriaged", "untriaged"]


# -- two terminals on one file --------------------------------------------------------------------


def test_a_stale_change_from_the_other_terminal_is_refused_with_the_current_state_and_recorded(db: Path):
    with ReviewStore.open(db) as a, ReviewStore.open(db) as b:
        review = a.start_review("/repo", "database", "alice")
        a.apply_scan(review.id, ScanResult("/repo", findings(3)), "alice")
        seen_by_b = b.snapshot(review.id)
        fp, version = seen_by_b.findings[0].fingerprint, seen_by_b.findings[0].version
        last = seen_by_b.events[-1].id

        a.set_disposition(review.id, fp, Disposition.DISMISSED, "alice", reason="false positive",
                          expected_version=version)
        with pytest.raises(ConflictError, match="alice dismissed this finding a moment ago as a false positive; your confirmation was not applied") as caught:
            b.set_disposition(review.id, fp, Disposition.CONFIRMED, "bob", expected_version=version)
        current = caught.value.current
        assert (current.disposition, current.dismiss_reason, current.version) == (
            Disposition.DISMISSED, "false positive", version + 1)
        assert b.finding(review.id, fp) == current  # bob's change was not applied

        change, attempt = b.changes_since(review.id, last)  # but both are in the history
        assert (change.reviewer, change.target, change.new) == ("alice", fp, "dismissed")
        assert (attempt.reviewer, attempt.kind, attempt.target, attempt.new) == ("bob", "conflict", fp, "disposition confirmed")
        assert b.set_disposition(review.id, fp, Disposition.CONFIRMED, "bob", expected_version=current.version)


WRITER = """
import sys
from tui.session import ReviewStore
store = ReviewStore.open(sys.argv[1])
review_id, fp, who = int(sys.argv[2]), sys.argv[3], sys.argv[4]
for i in range(40):
    store.annotate(review_id, fp, who, f"{who} {i}")
"""


def test_two_processes_writing_at_once_lose_nothing(db: Path, store: ReviewStore, review):
    fp = fingerprints(store, review.id)[0]
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(review.id), fp, who], stderr=subprocess.PIPE)
        for who in ("alice", "bob")
    ]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    state = store.finding(review.id, fp)
    assert len(state.notes) == 80 and state.version == 80
    assert sorted(n.text for n in state.notes if n.reviewer == "bob") == sorted(f"bob {i}" for i in range(40))


# -- speed, boundaries ----------------------------------------------------------------------------


def test_a_snapshot_of_2000_findings_reads_each_table_once(store: ReviewStore):
    """Its speed is in bench/startup.py; what keeps it fast is one query per table, whatever the count."""
    from sqlalchemy import event

    review = store.start_review("/big", "database", "alice")
    store.apply_scan(review.id, ScanResult("/big", findings(2000)), "alice")
    fp = fingerprints(store, review.id)
    store.bulk_set_disposition(review.id, fp[:500], Disposition.CONFIRMED, "alice", note="batch")
    for f in fp[:200]:
        store.annotate(review.id, f, "bob", "checked")
    statements: list[str] = []
    engine = store._engine  # noqa: SLF001 - counting the statements needs the engine
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        snap = store.snapshot(review.id)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(snap.findings) == 2000 and sum(len(f.notes) for f in snap.findings) == 200
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 10, selects  # one per table: verify_runs and proofs are the last two


def test_the_session_package_never_imports_textual_and_loads_sqlalchemy_only_for_the_store():
    code = textwrap.dedent(
        """
        import sys
        import tui.session.state
        assert "sqlalchemy" not in sys.modules, "reading the frozen values loaded SQLAlchemy"
        import tui.session, tui.session.store, tui.session.identity, tui.session.models
        assert "textual" not in sys.modules, "tui.session imported textual"
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
