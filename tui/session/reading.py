"""Reading a saved review with sqlite3 alone: the first screen comes from here, before SQLAlchemy
(~150 ms to import) is loaded.

SavedReview holds the reads a screen needs (a snapshot, a finding's history, the cursors, the
documents read); ReviewStore (store.py) is a SavedReview too, reading through its own engine's
connections, and adds every write on SQLAlchemy. So there is one reader of the schema, and nothing
here writes but the reviewer's cursor, which is how colleagues see each other: from the first
frame, not once SQLAlchemy is loaded (the errors screens catch are here too, for the same reason). `inspect` is how every opening starts: it refuses what is not ours before anything
touches the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analyzers.findings import Location, Related, ScanError, Severity
from tui.reports.sanitize import name_problem
from tui.session.migrations import HEAD
from tui.session.state import (
    AnswerState,
    Detection,
    Disposition,
    Event,
    FindingState,
    ItemState,
    Note,
    ProofState,
    ReviewInfo,
    ReviewSnapshot,
    Verdict,
    VerificationState,
)

BUSY_TIMEOUT_MS = 5000
SQLITE_HEADER = b"SQLite format 3\x00"
BASE = "base"  # the revision of a database whose version table is empty
UNTOUCHED = "it was NOT modified"

# The columns of a finding's state, in _finding_state's order (store.py selects the same).
STATE_COLUMNS = (
    "id fingerprint rule_id item_id severity original_severity message path start_line end_line anchor "
    "evidence code_hash detection disposition dismiss_reason needs_second_look version related"
).split()
_REVIEW_COLUMNS = 'id, repo_path, checklist_id, created_at, updated_at, "commit"'
_EVENT_COLUMNS = "id, at, reviewer, kind, target, old, new, note, finding_id, action, undoes"
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"  # how a time is stored: fixed width, so text order is time order
# Where a reviewer is, and that they are in the review (the store writes it with the same statement).
SAVE_CURSOR = (
    'INSERT INTO cursors (review_id, reviewer, cursor, updated_at, "left") '
    "VALUES (:review_id, :reviewer, :cursor, :updated_at, 0) ON CONFLICT (review_id, reviewer) "
    'DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at, "left" = 0'
)


class SessionStoreError(Exception):
    """The session database cannot be used. The message is one line, fit to show the user."""


class ConflictError(Exception):
    """Someone else changed the finding after the caller read it; nothing was written."""

    def __init__(self, current: FindingState, message: str) -> None:
        super().__init__(message)
        self.current = current


def when(value: str | None) -> datetime | None:
    """A stored time (UTC ISO-8601 text) as an aware datetime; one written without a zone is UTC."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """An aware datetime as it is stored (UTC ISO-8601 text); naive ones are refused."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the session stores UTC only")
    return moment.astimezone(UTC).strftime(STAMP)


def check_reviewer(reviewer: str) -> None:
    """Every name stored shows as itself: one line, no control, bidirectional or zero-width characters."""
    problem = name_problem(reviewer)
    if problem:
        raise ValueError(f"not usable as a reviewer's name: {problem}")


def inspect(path: Path) -> str | None:
    """The schema revision of an existing file, read without writing to it: None when it holds no
    tables yet. Refuses (SessionStoreError) what is not ours, damaged or newer than us."""
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if not header:
        return None
    if header != SQLITE_HEADER:
        raise SessionStoreError(f"{path} is not an SQLite database, so not a dbreview review; {UNTOUCHED}")
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            problems = [row[0] for row in con.execute("PRAGMA quick_check(3)")]
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revisions = (
                [row[0] for row in con.execute("SELECT version_num FROM alembic_version")]
                if "alembic_version" in tables
                else []
            )
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise SessionStoreError(f"{path} cannot be read as a dbreview review ({exc}); {UNTOUCHED}") from exc
    if problems != ["ok"]:
        raise SessionStoreError(f"{path} is damaged ({'; '.join(problems)}); {UNTOUCHED}")
    if not tables:
        return None
    if "alembic_version" not in tables:
        raise SessionStoreError(f"{path} is an SQLite database but not a dbreview review; {UNTOUCHED}")
    revision = ",".join(revisions) or BASE
    if revision not in (HEAD, BASE):
        from tui.session.migrations import known_revisions  # imports Alembic: only for a file not at head

        if revision not in known_revisions():
            raise SessionStoreError(
                f"{path} was written by a newer dbreview (schema {revision}); upgrade dbreview ({UNTOUCHED})"
            )
    return revision


class SavedReview:
    """The reads of a saved review. On its own (`SavedReview.open`), a read-only connection for the
    first screen; as ReviewStore's base, the store's connections."""

    def __init__(self, connection: sqlite3.Connection | None = None, path: Path | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._connection = connection
        self._file = path
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cursor_writer: sqlite3.Connection | None = None  # opened on the cursor's first write

    @classmethod
    def open(cls, path: Path, clock: Callable[[], datetime] | None = None) -> SavedReview | None:
        """A reader of an existing file already at the newest schema; None when the file must go
        through the store first (absent, empty, to be migrated). SessionStoreError as ReviewStore.open."""
        path = Path(path).expanduser().absolute()
        try:
            if not path.is_file() or inspect(path) != HEAD:
                return None
            return cls(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                       timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None), path, clock)
        except OSError as exc:
            raise SessionStoreError(f"cannot open the review database {path}: {exc.strerror or exc}") from exc
        except sqlite3.Error:
            return None  # the store will say what is wrong

    def close(self) -> None:
        for con in (self._connection, self._cursor_writer):
            if con is not None:
                con.close()

    def check_file(self) -> None:
        """Nothing to check before the store is open: the store checks that its file is still the one
        it opened before each write (only the cursor is written before)."""

    def set_cursor(self, review_id: int, reviewer: str, cursor: str) -> None:
        """Where the reviewer is, so that a colleague sees them from the first frame. `mode=rw`: a
        file deleted meanwhile is not made again."""
        assert self._file is not None
        check_reviewer(reviewer)
        try:
            if self._cursor_writer is None:
                self._cursor_writer = sqlite3.connect(f"{self._file.as_uri()}?mode=rw", uri=True, check_same_thread=False,
                                               timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            with self._cursor_writer as con:  # a transaction, committed or rolled back
                con.execute("BEGIN IMMEDIATE")
                con.execute(SAVE_CURSOR, {"review_id": review_id, "reviewer": reviewer, "cursor": cursor,
                                          "updated_at": stamp(self._clock())})
        except sqlite3.Error as exc:
            raise SessionStoreError(f"where you are in the review was not saved: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one read transaction."""
        con = self._connection
        assert con is not None
        try:
            con.execute("BEGIN")
            try:
                yield con
            finally:
                con.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            raise SessionStoreError(f"cannot read the review database: {exc}") from exc

    # -- the reads --------------------------------------------------------------------------------

    def find_review(self, repo_path: str, checklist_id: str) -> ReviewInfo | None:
        with self._read() as con:
            row = con.execute(
                f"SELECT {_REVIEW_COLUMNS} FROM reviews WHERE repo_path = ? AND checklist_id = ?", (repo_path, checklist_id)
            ).fetchone()
            if row is None:
                return None
            reviewers = con.execute(  # in order of their first event
                "SELECT reviewer FROM events WHERE review_id = ? GROUP BY reviewer ORDER BY min(id)", (row[0],)
            )
            return review_info(row, tuple(r[0] for r in reviewers))

    def snapshot(self, review_id: int) -> ReviewSnapshot:
        """Everything about one review, read in one transaction with one query per table."""
        with self._read() as con:
            review = con.execute(f"SELECT {_REVIEW_COLUMNS} FROM reviews WHERE id = ?", (review_id,)).fetchone()
            if review is None:
                raise KeyError(f"no review {review_id}")
            events = con.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE review_id = ? ORDER BY id", (review_id,)
            ).fetchall()
            notes: dict[int, list[Note]] = defaultdict(list)
            withdrawn = {e[10] for e in events if e[10] is not None}
            for e in events:
                if e[3] == "note" and e[8] is not None and (e[9] or e[0]) not in withdrawn:
                    notes[e[8]].append(Note(e[2], when(e[1]), e[7] or ""))
            findings = con.execute(
                f"SELECT {', '.join(STATE_COLUMNS)} FROM findings WHERE review_id = ? "
                "ORDER BY path, start_line, rule_id, id",
                (review_id,),
            )
            states = tuple(finding_state(r, tuple(notes.get(r[0], ()))) for r in findings)
            items = {
                item: ItemState(item, Verdict(verdict), notes_, reviewer, when(at))
                for item, verdict, notes_, reviewer, at in con.execute(
                    "SELECT item_id, verdict, notes, reviewer, at FROM item_verdicts WHERE review_id = ?", (review_id,)
                )
            }
            answers = {
                q: AnswerState(q, text, drafted, reviewer, when(at))
                for q, text, drafted, reviewer, at in con.execute(
                    "SELECT question_id, text, drafted, reviewer, at FROM answers WHERE review_id = ?", (review_id,)
                )
            }
            errors = con.execute(
                "SELECT path, message, line FROM scan_errors WHERE review_id = ? ORDER BY id", (review_id,)
            ).fetchall()
            not_applicable = dict(
                con.execute("SELECT item_id, reason FROM not_applicable WHERE review_id = ?", (review_id,))
            )
            run = con.execute(
                "SELECT at, reviewer, \"commit\", postgres, outcome, report, result FROM verify_runs "
                "WHERE review_id = ? ORDER BY id DESC LIMIT 1",
                (review_id,),
            ).fetchone()
            proofs = con.execute(
                "SELECT f.fingerprint, p.status, p.evidence, v.\"commit\", v.postgres, v.at FROM findings f "
                "JOIN proofs p ON p.finding_id = f.id JOIN verify_runs v ON v.id = p.run_id WHERE f.review_id = ?",
                (review_id,),
            ).fetchall()
        return ReviewSnapshot(
            review=review_info(review, tuple(dict.fromkeys(e[2] for e in events))),
            findings=states,
            items=items,
            answers=answers,
            events=tuple(event(e) for e in events),
            scan_errors=tuple(ScanError(path, message, line) for path, message, line in errors),
            not_applicable=not_applicable,
            proofs={fp: ProofState(status, evidence, commit, postgres, when(at))
                    for fp, status, evidence, commit, postgres, at in proofs},
            verification=None if run is None else VerificationState(when(run[0]), *run[1:]),
        )

    def events(self, review_id: int, target: str | None = None, after: int = 0) -> list[Event]:
        """The history, oldest first; with `target`, only what concerns that finding (under any of
        its fingerprints), item, question or document; with `after`, only the events after that one."""
        query, args = f"SELECT {_EVENT_COLUMNS} FROM events WHERE review_id = ? AND id > ?", [review_id, after]
        if target is not None:
            query += (" AND (target = ? OR finding_id = "
                      "(SELECT id FROM findings WHERE review_id = ? AND fingerprint = ?))")
            args += [target, review_id, target]
        with self._read() as con:
            return [event(e) for e in con.execute(query + " ORDER BY id", args)]

    def changes_since(self, review_id: int, event_id: int) -> list[Event]:
        """Events after `event_id`, oldest first: what another terminal did since the last poll."""
        return self.events(review_id, after=event_id)

    def docs_read(self, review_id: int) -> set[str]:
        """Paths of the documents any reviewer has read."""
        with self._read() as con:
            return {row[0] for row in con.execute("SELECT path FROM docs_read WHERE review_id = ?", (review_id,))}

    def cursors(self, review_id: int, present_only: bool = False) -> dict[str, tuple[str, datetime]]:
        """reviewer -> (cursor, when it was set); with `present_only`, of those who have the review open."""
        query = "SELECT reviewer, cursor, updated_at FROM cursors WHERE review_id = ?"
        with self._read() as con:
            rows = con.execute(query + (" AND NOT \"left\"" if present_only else ""), (review_id,)).fetchall()
        return {reviewer: (cursor, when(at)) for reviewer, cursor, at in rows}

    def present(self, review_id: int) -> dict[str, tuple[str, datetime]]:
        """reviewer -> (cursor, when it was written), of those who have the review open."""
        return self.cursors(review_id, present_only=True)


class OpeningReview(SavedReview):
    """What the first screen shows while the store makes a new review, or brings an older dbreview's
    file to the newest schema (Alembic), behind it: the checklist, nothing found or decided yet.
    Nothing is written through it."""

    def find_review(self, repo_path: str, checklist_id: str) -> ReviewInfo:
        now = self._clock()
        self._info = ReviewInfo(0, repo_path, checklist_id, now, now)
        return self._info

    def snapshot(self, review_id: int) -> ReviewSnapshot:
        return ReviewSnapshot(self._info)

    def events(self, review_id: int, target: str | None = None, after: int = 0) -> list[Event]:
        return []

    def docs_read(self, review_id: int) -> set[str]:
        return set()

    def cursors(self, review_id: int, present_only: bool = False) -> dict[str, tuple[str, datetime]]:
        return {}

    def set_cursor(self, review_id: int, reviewer: str, cursor: str) -> None:
        """Saved once the review is made (the screen's presence starts then)."""


# -- rows to values -------------------------------------------------------------------------------

_SEVERITY = {m.value: m for m in Severity}
_DETECTION = {m.value: m for m in Detection}
_DISPOSITION = {m.value: m for m in Disposition}


def finding_state(row: Sequence[Any], notes: tuple[Note, ...] = ()) -> FindingState:
    """From a row of STATE_COLUMNS (a snapshot makes thousands of these: plain lookups only)."""
    (
        id_, fp, rule, item, severity, original, message, path, start, end, anchor, evidence, code, detection,
        disposition, reason, second_look, version, related,
    ) = row
    return FindingState(
        id=id_,
        fingerprint=fp,
        rule_id=rule,
        item_id=item,
        severity=_SEVERITY[severity],
        original_severity=_SEVERITY[original],
        message=message,
        path=path,
        start_line=start,
        end_line=end,
        anchor=anchor,
        evidence=tuple(json.loads(evidence)),
        code_hash=code,
        detection=_DETECTION[detection],
        disposition=_DISPOSITION[disposition],
        dismiss_reason=reason,
        notes=notes,
        needs_second_look=bool(second_look),
        version=version,
        related=tuple(Related(Location(p, a, b), note) for p, a, b, note in json.loads(related)) if related != "[]" else (),
    )


def review_info(row: Sequence[Any], reviewers: tuple[str, ...]) -> ReviewInfo:
    """From a row of _REVIEW_COLUMNS."""
    id_, repo_path, checklist_id, created, updated, commit = row
    return ReviewInfo(id_, repo_path, checklist_id, when(created), when(updated), commit, reviewers)


def event(row: Sequence[Any]) -> Event:
    """From a row of _EVENT_COLUMNS."""
    id_, at, reviewer, kind, target, old, new, note = row[:8]
    return Event(id_, when(at), reviewer, kind, target, old, new, note)
