"""The saved review: one SQLite file, read and written only through ReviewStore.

Every reviewer action is one short committed transaction that writes the change and its event, so a
crash or a kill after a call returns loses nothing, and two terminals can share the file (WAL, write
transactions that take the lock up front, optimistic versions on findings). The store hands out the
frozen values of state.py, never ORM rows.

Opening never harms a file it cannot use: anything that is not one of our databases, or was written
by a newer dbreview, is refused with SessionStoreError before SQLAlchemy touches it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import URL, Connection, Engine, bindparam, create_engine, delete, event, func, insert, select, union, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from analyzers.findings import Finding, ScanResult, Severity
from analyzers.verify.proofs import Merged, is_proof_rule
from tui.paths import file_mode
from tui.session import identity, undo
from tui.session.undo import DECIDING, ago, attempt_said, finding_decision, item_decision, said
from tui.session.migrations import HEAD, alembic_config
from tui.session.opening import prepare
from tui.session.reading import (
    BUSY_TIMEOUT_MS,
    SAVE_CURSOR,
    STATE_COLUMNS,
    ConflictError,
    SavedReview,
    SessionStoreError,
    check_reviewer,
    finding_state,
    stamp,
)
from tui.session.models import (
    Answer,
    Cursor,
    DocRead,
    EventRow,
    FindingRow,
    ItemVerdict,
    Review,
    NotApplicableRow,
    ProofRow,
    ScanErrorRow,
    VerifyRun,
)
from tui.session.state import (
    DISMISS_REASONS,
    IN_SOURCE,
    AnswerState,
    Detection,
    Disposition,
    FindingState,
    ItemState,
    Note,
    ReviewInfo,
    ReviewSummary,
    ScanDiff,
    Verdict,
    VerificationState,
    in_source_dismissal,
    state_of,
)

_WRITE = "dbreview_write"  # execution option: begin with BEGIN IMMEDIATE
_ACTION = "dbreview_action"  # Session.info key: the first event of the transaction's reviewer action


class NotSaved(SessionStoreError):
    """A change could not be written (the disk is full, the file is read-only or held by another
    program too long): nothing of it was saved, what was saved before stays."""


class SessionFileLost(NotSaved):
    """The review file was deleted or replaced while the store had it open. What it held up to then
    is copied to `rescued` (None when even that failed); nothing more is saved."""

    def __init__(self, message: str, rescued: Path | None) -> None:
        super().__init__(message)
        self.rescued = rescued


class ReviewStore(SavedReview):
    """The repository of saved reviews. Thread-safe: each call uses its own short session. Its reads
    (snapshot, events, cursors...) are SavedReview's, through this engine's connections."""

    def __init__(self, path: Path, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self._path = path
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})
        self._clock = clock or (lambda: datetime.now(UTC))
        # The file this store opened, and a connection that keeps it readable: if the file is deleted
        # or replaced under us, SQLite would go on writing into the unlinked one and lose it all.
        st = os.stat(path)
        self._identity = (st.st_dev, st.st_ino)
        self._keeper = sqlite3.connect(_uri(path), uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        self._keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()  # the WAL is open from now on
        self._lost: SessionFileLost | None = None
        self._rescue_lock = threading.Lock()

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, db_path: Path, *, clock: Callable[[], datetime] | None = None) -> ReviewStore:
        """Open (creating it 0600 in 0700 directories; 0660 in a folder shared by a group, see
        paths.shared_group) and migrate to head when needed, after a
        backup to `<name>.bak-<old revision>`. `clock` returns aware datetimes (tests fix it)."""
        path = Path(db_path).expanduser().absolute()
        revision = prepare(path)
        engine = _engine(path)
        try:
            if revision != HEAD:
                if revision is not None:
                    _backup(path, revision)
                _upgrade(engine)
        except (OSError, SQLAlchemyError, sqlite3.Error) as exc:
            engine.dispose()
            raise SessionStoreError(f"could not bring {path} to schema {HEAD}: {exc}") from exc
        try:
            return cls(path, engine, clock)
        except (OSError, sqlite3.Error) as exc:
            engine.dispose()
            raise SessionStoreError(f"cannot open the review database {path}: {exc}") from exc

    def close(self) -> None:
        self._engine.dispose()
        self._keeper.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self._path

    # -- reviews --------------------------------------------------------------------------------

    def start_review(self, repo_path: str, checklist_id: str, reviewer: str, commit: str | None = None) -> ReviewInfo:
        """The review of this repository against this checklist, created on first use."""
        with self._writing() as s:
            row = s.scalars(_review_query(repo_path, checklist_id)).one_or_none()
            if row is None:
                now = self._now()
                row = Review(
                    repo_path=repo_path, checklist_id=checklist_id, created_at=now, updated_at=now, commit=commit
                )
                s.add(row)
                s.flush()
                _record(s, row, reviewer, now, "start", repo_path, new=checklist_id)
            return self._info(s, row)

    def list_reviews(self) -> list[ReviewSummary]:
        """Every saved review, the most recently changed first."""
        with self._reading() as s:
            present = FindingRow.detection != Detection.ABSENT.value
            findings = {
                r.review_id: r
                for r in s.execute(
                    select(
                        FindingRow.review_id,
                        func.count().label("all"),
                        func.count().filter(FindingRow.disposition != Disposition.UNTRIAGED.value).label("triaged"),
                    )
                    .where(present)
                    .group_by(FindingRow.review_id)
                )
            }
            known = union(
                select(FindingRow.review_id, FindingRow.item_id), select(ItemVerdict.review_id, ItemVerdict.item_id)
            ).subquery()
            items = _counts(s, select(known.c.review_id, func.count()).group_by(known.c.review_id))
            done = _counts(
                s,
                select(ItemVerdict.review_id, func.count())
                .where(ItemVerdict.verdict != Verdict.UNREVIEWED.value)
                .group_by(ItemVerdict.review_id),
            )
            answered = _counts(
                s, select(Answer.review_id, func.count()).where(Answer.text != "").group_by(Answer.review_id)
            )
            latest = select(func.max(EventRow.id)).group_by(EventRow.review_id)
            last_reviewer = dict(
                s.execute(select(EventRow.review_id, EventRow.reviewer).where(EventRow.id.in_(latest))).all()
            )
            reviewers = _reviewers(s)
            out = []
            for row in s.scalars(select(Review).order_by(Review.updated_at.desc(), Review.id.desc())):
                f = findings.get(row.id)
                out.append(
                    ReviewSummary(
                        review=_review_info(row, reviewers.get(row.id, ())),
                        findings=f.all if f else 0,
                        triaged=f.triaged if f else 0,
                        items=items.get(row.id, 0),
                        items_done=done.get(row.id, 0),
                        answered=answered.get(row.id, 0),
                        last_change=row.updated_at,
                        last_reviewer=last_reviewer.get(row.id),
                    )
                )
            return out

    def delete_review(self, review_id: int) -> None:
        """Delete a review and everything in it (no-op when it is already gone)."""
        with self._writing() as s:
            s.execute(delete(Review).where(Review.id == review_id))

    # -- scans ----------------------------------------------------------------------------------

    def apply_scan(self, review_id: int, result: ScanResult, reviewer: str, commit: str | None = None) -> ScanDiff:
        """Match a new scan to the saved findings (identity.py) and store it; decisions and notes
        follow their findings, and findings gone from the code are kept as `absent`."""
        with self._writing() as s:
            review = _review(s, review_id)
            now = self._now()
            # the proofs' own findings are verify's to keep or resolve, not a static scan's
            matching = _store_findings(s, review, result.findings, lambda rule: not is_proof_rule(rule), reviewer, now)
            suppressed = {f.fingerprint: f.suppressed for f in result.findings if f.suppressed}
            if suppressed:
                _dismiss_in_source(s, review, suppressed, now)

            s.execute(delete(ScanErrorRow).where(ScanErrorRow.review_id == review_id))
            if result.errors:
                s.execute(
                    insert(ScanErrorRow),
                    [
                        {"review_id": review_id, "path": e.path, "line": e.line, "message": e.message}
                        for e in result.errors
                    ],
                )
            _store_drafts(s, review_id, result.drafted_answers)
            s.execute(delete(NotApplicableRow).where(NotApplicableRow.review_id == review_id))
            if result.not_applicable:
                s.execute(
                    insert(NotApplicableRow),
                    [{"review_id": review_id, "item_id": i, "reason": why} for i, why in result.not_applicable.items()],
                )

            diff = matching.diff()
            note = str(diff) + (f", {len(result.errors)} scan errors" if result.errors else "")
            previous = review.commit
            review.commit = commit or previous
            _record(s, review, reviewer, now, "scan", result.root, old=previous, new=review.commit, note=note)
            return diff

    def apply_verify(
        self, review_id: int, merged: Merged, run: VerificationState, reviewer: str
    ) -> ScanDiff:
        """Store what a `dbreview verify` proved: its own findings (matched to the earlier verify's,
        as a scan's are), the proof of each finding it spoke to (replacing the earlier proofs), and
        the run itself."""
        with self._writing() as s:
            review = _review(s, review_id)
            now = self._now()
            matching = _store_findings(s, review, merged.findings, is_proof_rule, reviewer, now)
            row = VerifyRun(
                review_id=review_id, at=now, reviewer=reviewer, commit=run.commit, postgres=run.postgres,
                outcome=run.outcome, report=run.report, result=run.result,
            )
            s.add(row)
            s.flush()
            ids = dict(s.execute(select(FindingRow.fingerprint, FindingRow.id).where(FindingRow.review_id == review_id)).all())
            s.execute(delete(ProofRow).where(ProofRow.finding_id.in_(ids.values())))
            proofs = [
                {"finding_id": ids[fp], "run_id": row.id, "status": p.status, "evidence": p.evidence}
                for fp, p in merged.proofs.items()
                if fp in ids
            ]
            if proofs:
                s.execute(insert(ProofRow), proofs)
            _record(s, review, reviewer, now, "verify", review.repo_path, new=run.commit, note=run.outcome)
            return matching.diff()

    # -- reading --------------------------------------------------------------------------------

    def finding(self, review_id: int, fingerprint: str) -> FindingState:
        with self._reading() as s:
            return _full_state(s, _finding_row(s, review_id, fingerprint))

    # -- reviewer actions on findings -----------------------------------------------------------

    def set_disposition(
        self,
        review_id: int,
        fingerprint: str,
        disposition: Disposition,
        reviewer: str,
        *,
        reason: str | None = None,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> FindingState:
        """Confirm, downgrade (one step below the reported severity), dismiss (with a reason from
        DISMISS_REASONS) or reset a finding. Any decision clears `needs_second_look`."""
        disposition = _checked_disposition(disposition, reason)
        return self._change_finding(
            review_id, fingerprint, reviewer, expected_version, lambda row: _decide(row, disposition, reason, note)
        )

    def downgrade(
        self,
        review_id: int,
        fingerprint: str,
        reviewer: str,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> FindingState:
        """One severity step lower than it is now; the reported severity is kept beside it."""

        def lower(row: FindingRow) -> _Change:
            old = Severity(row.severity)
            if old.lower() == old:
                raise ValueError(f"This finding is already at the lowest severity ({old}): confirm or dismiss it instead.")
            row.severity = old.lower().value
            row.disposition = Disposition.DOWNGRADED.value
            row.dismiss_reason = None
            row.needs_second_look = False
            return "severity", old.value, row.severity, note

        return self._change_finding(review_id, fingerprint, reviewer, expected_version, lower)

    def annotate(self, review_id: int, fingerprint: str, reviewer: str, text: str) -> FindingState:
        """Add a note to a finding (an event of kind "note"; it shows in FindingState.notes)."""
        if not text.strip():
            raise ValueError("a note needs some text")
        return self._change_finding(review_id, fingerprint, reviewer, None, lambda row: ("note", None, None, text))

    def bulk_set_disposition(
        self,
        review_id: int,
        fingerprints: list[str],
        disposition: Disposition,
        reviewer: str,
        *,
        reason: str | None = None,
        note: str | None = None,
    ) -> list[FindingState]:
        """set_disposition on many findings in one transaction: all of them or none."""
        disposition = _checked_disposition(disposition, reason)
        wanted = list(dict.fromkeys(fingerprints))
        with self._writing() as s:
            review = _review(s, review_id)
            rows = {
                r.fingerprint: r
                for r in s.scalars(
                    select(FindingRow).where(FindingRow.review_id == review_id, FindingRow.fingerprint.in_(wanted))
                )
            }
            missing = [fp for fp in wanted if fp not in rows]
            if missing:
                raise KeyError(f"review {review_id} has no finding {', '.join(missing)}")
            now = self._now()
            for fp in wanted:
                _apply(s, review, rows[fp], reviewer, now, lambda r: _decide(r, disposition, reason, note))
            s.flush()
            return _full_states(s, [rows[fp] for fp in wanted])

    def undo(self, review_id: int, reviewer: str) -> str:
        """Undo the reviewer's last action not undone yet (a bulk one whole), or refuse with
        UndoError when someone changed what it touched since. Returns what was undone, in words."""
        with self._writing() as s:
            review = _review(s, review_id)
            now = self._now()
            events = undo.last_action(s, review_id, reviewer)
            undo.check(s, review_id, events, now)
            rows = [undo.target_row(s, review_id, e) for e in events]
            action = events[0].action or events[0].id
            for event, row in zip(events, rows, strict=True):
                if event.kind == "note":
                    _record(s, review, reviewer, now, "undo", event.target, old="note", note="note withdrawn",
                            finding_id=event.finding_id, undoes=action)
                    continue
                before, after = undo.states(event)
                for column, value in before.items():
                    setattr(row, column, value)
                if event.kind in undo.FINDING_KINDS:
                    row.version += 1
                    old, new = after["disposition"], before["disposition"]
                else:
                    old, new = after.get("verdict", after.get("text")), before.get("verdict", before.get("text"))
                _record(s, review, reviewer, now, "undo", event.target, old=old, new=new, note=f"undo of {event.kind}",
                        finding_id=event.finding_id, states=(after, before), undoes=action)
            return undo.done_said(events, rows)

    # -- reviewer actions on the checklist ------------------------------------------------------

    def set_verdict(
        self, review_id: int, item_id: str, verdict: Verdict, reviewer: str, notes: str | None = None
    ) -> ItemState:
        """Set an item's verdict; `notes=None` keeps the notes it had."""
        return self.set_verdicts(review_id, [item_id], verdict, reviewer, notes)[0]

    def set_verdicts(
        self, review_id: int, item_ids: list[str], verdict: Verdict, reviewer: str, notes: str | None = None
    ) -> list[ItemState]:
        """One verdict (and note) for several items, in one transaction: one action, for undo too."""
        verdict = Verdict(verdict)
        with self._writing() as s:
            review = _review(s, review_id)
            now = self._now()
            out = []
            for item_id in dict.fromkeys(item_ids):
                row = s.get(ItemVerdict, (review_id, item_id))
                if row is None:
                    row = ItemVerdict(review_id=review_id, item_id=item_id, verdict=Verdict.UNREVIEWED.value, notes="")
                    s.add(row)
                old, before = row.verdict, item_decision(row)
                row.verdict, row.reviewer, row.at = verdict.value, reviewer, now
                if notes is not None:
                    row.notes = notes
                _record(s, review, reviewer, now, "verdict", item_id, old=old, new=verdict.value, note=notes,
                        states=(before, item_decision(row)))
                out.append(_item_state(row))
            return out

    def set_answer(self, review_id: int, question_id: str, text: str, reviewer: str) -> AnswerState:
        """The reviewer's answer to a question; the analyzers' draft beside it is left alone."""
        with self._writing() as s:
            review = _review(s, review_id)
            now = self._now()
            row = s.get(Answer, (review_id, question_id))
            if row is None:
                row = Answer(review_id=review_id, question_id=question_id, text="", drafted="")
                s.add(row)
            old = row.text
            row.text, row.reviewer, row.at = text, reviewer, now
            _record(s, review, reviewer, now, "answer", question_id, old=old or None, new=text,
                    states=({"text": old}, {"text": text}))
            return _answer_state(row)

    def mark_doc_read(self, review_id: int, path: str, reviewer: str) -> None:
        """Record that a reviewer read a document (once per reviewer; later calls change nothing)."""
        with self._writing() as s:
            review = _review(s, review_id)
            now = self._now()
            inserted = s.execute(
                sqlite_insert(DocRead)
                .values(review_id=review_id, path=path, reviewer=reviewer, at=now)
                .on_conflict_do_nothing()
            ).rowcount
            if inserted:
                _record(s, review, reviewer, now, "doc_read", path)

    # -- where each reviewer is ------------------------------------------------------------------

    def set_cursor(self, review_id: int, reviewer: str, cursor: str) -> None:
        """Remember where a reviewer is. Navigation, not a change to the review: no event."""
        check_reviewer(reviewer)
        with self._writing_core() as c:
            if c.execute(_REVIEW_BY_ID, {"review_id": review_id}).first() is None:
                raise KeyError(f"no review {review_id}")
            c.exec_driver_sql(SAVE_CURSOR, {"review_id": review_id, "reviewer": reviewer, "cursor": cursor,
                                            "updated_at": stamp(self._now())})

    def leave(self, review_id: int, reviewer: str) -> None:
        """The reviewer closed the review: no longer shown as present (the cursor stays, to resume)."""
        with self._writing() as s:
            s.execute(update(Cursor).where(Cursor.review_id == review_id, Cursor.reviewer == reviewer).values(left=True))

    # -- internals ------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock()

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        try:  # no check_file(): the connections already open still read the file this store opened
            with Session(self._engine) as s, s.begin():
                yield s
        except OperationalError as exc:
            raise SessionStoreError(f"cannot read {self._path}: {exc.orig}") from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """SavedReview's reads: a DBAPI connection of this engine, inside one transaction."""
        try:
            with self._engine.connect() as c, c.begin():
                yield c.connection.dbapi_connection
        except (OperationalError, sqlite3.OperationalError) as exc:
            raise SessionStoreError(f"cannot read {self._path}: {getattr(exc, 'orig', exc)}") from exc

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """One transaction that holds the write lock from its start (BEGIN IMMEDIATE), so that a
        read-then-write never fails half-way because another terminal wrote in between. A failed
        commit raises NotSaved: the reviewer is told, and nothing half-written stays."""
        self.check_file()
        try:
            with Session(self._writer, expire_on_commit=False) as s, s.begin():
                yield s
        except OperationalError as exc:
            raise NotSaved(f"not saved: {_why_not(exc, self._path)}") from exc

    @contextmanager
    def _writing_core(self) -> Iterator[Connection]:
        """_writing on a Core connection, for the statements built once below (the keys' writes)."""
        self.check_file()
        try:
            with self._writer.begin() as c:
                yield c
        except OperationalError as exc:
            raise NotSaved(f"not saved: {_why_not(exc, self._path)}") from exc

    def check_file(self) -> None:
        """Raise SessionFileLost when the review file is no longer the one this store opened (deleted,
        or replaced by another file): the first time, after copying what it held to a rescue file."""
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            st = None
        except OSError:
            return  # cannot tell from here: SQLite will say what is wrong
        if st is not None and (st.st_dev, st.st_ino) == self._identity:
            return
        with self._rescue_lock:
            if self._lost is None:
                what = "deleted" if st is None else "replaced by another file"
                rescued = self._rescue()
                kept = (
                    f"everything saved until then is in {rescued}: quit, put it back as {self._path.name} and open "
                    "the review again" if rescued else "and it could not be copied anywhere"
                )
                self._lost = SessionFileLost(
                    f"the review file {self._path} was {what} while dbreview had it open; nothing more is saved; {kept}",
                    rescued,
                )
        raise self._lost

    def _rescue(self) -> Path | None:
        """A copy of the database this store opened, read through the connection kept open on it."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for folder in (self._path.parent, Path(tempfile.gettempdir())):
            target = folder / f"{self._path.name}.rescued-{stamp}-{os.getpid()}"
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                copy = sqlite3.connect(target)
                try:
                    self._keeper.backup(copy)
                finally:
                    copy.close()
                return target
            except (OSError, sqlite3.Error):
                target.unlink(missing_ok=True)
        return None

    def _info(self, s: Session, row: Review) -> ReviewInfo:
        return _review_info(row, _reviewers(s, row.id).get(row.id, ()))

    def _change_finding(
        self,
        review_id: int,
        fingerprint: str,
        reviewer: str,
        expected_version: int | None,
        change: Callable[[FindingRow], _Change],
    ) -> FindingState:
        """One decision or note on one finding (c, d, x, a note: the keys' path), in Core statements
        built once: the ORM's unit of work and statement building were ~2/3 of its CPU. A lost race
        goes through the ORM (_lose_race)."""
        check_reviewer(reviewer)
        with self._writing_core() as c:
            found = c.execute(_FINDING_BY_FINGERPRINT, {"review_id": review_id, "fingerprint": fingerprint}).first()
            if found is None:
                if c.execute(_REVIEW_BY_ID, {"review_id": review_id}).first() is None:
                    raise KeyError(f"no review {review_id}")
                raise KeyError(f"review {review_id} has no finding {fingerprint}")
            row = SimpleNamespace(**found._mapping)
            if expected_version is not None and row.version != expected_version:
                lost = True
            else:
                lost, now = False, self._now()
                before = finding_decision(row)
                kind, old, new, note = change(row)
                row.version += 1
                c.execute(_SET_DECISION, {"finding": row.id} | {f"new_{name}": getattr(row, name) for name in _DECIDED})
                values = _event_values(review_id, reviewer, now, kind, fingerprint, old=old, new=new, note=note,
                                       finding_id=row.id, states=(before, finding_decision(row)))
                action = c.execute(_ADD_EVENT, values).inserted_primary_key[0]
                c.execute(_SET_ACTION, {"event": action})
                c.execute(_TOUCH_REVIEW, {"review_id": review_id, "at": now})
                notes = tuple(Note(e.reviewer, e.at, e.note or "") for e in c.execute(_NOTES_OF, {"finding": row.id}))
        if lost:
            raise self._lose_race(review_id, fingerprint, reviewer, change)
        return finding_state(tuple(getattr(row, name) for name in STATE_COLUMNS), notes)

    def _lose_race(self, review_id: int, fingerprint: str, reviewer: str, change: Callable[[FindingRow], _Change]) -> ConflictError:
        """Someone changed the finding since the caller read it: the attempt goes into the history
        too, the finding stays as the winner left it."""
        with self._writing() as s:
            review = _review(s, review_id)
            row = _finding_row(s, review_id, fingerprint)
            kind, _, attempted, note = change(_detached(row))
            conflict = _conflict(s, row, attempt_said(kind, attempted), self._now())
            _record(
                s, review, reviewer, self._now(), "conflict", row.fingerprint, old=row.disposition,
                new=f"{kind} {attempted}", note=f"not applied: {note or 'no note'}", finding_id=row.id,
            )
        return conflict


# -- opening, migrating ---------------------------------------------------------------------------


def _backup(path: Path, revision: str) -> Path:
    """Copy the database, WAL included, to `<name>.bak-<revision>` (never over an older backup)."""
    target = path.with_name(f"{path.name}.bak-{revision}")
    n = 0
    while True:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.fchmod(fd, file_mode(path.parent))
            break
        except FileExistsError:
            n += 1
            target = path.with_name(f"{path.name}.bak-{revision}.{n}")
    os.close(fd)
    source = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


def _uri(path: Path) -> str:
    """The file as an SQLite URI that opens it only if it exists: a deleted review file must not come
    back empty under a connection opened later."""
    return f"{path.as_uri()}?mode=rw"


def _why_not(exc: OperationalError, path: Path) -> str:
    text = str(exc.orig)
    if "full" in text:
        return f"the disk holding {path} is full ({text})"
    if "readonly" in text:
        return f"{path} cannot be written ({text})"
    if "locked" in text:
        return f"another program held {path} for over {BUSY_TIMEOUT_MS // 1000} s ({text})"
    return f"{path}: {text}"


def _engine(path: Path) -> Engine:
    engine = create_engine(
        URL.create("sqlite", database=str(path)),  # a file: the pool keeps connections across threads
        creator=lambda: sqlite3.connect(_uri(path), uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000),
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # the driver's own BEGIN is replaced by _begin
        # WAL with synchronous=NORMAL: a commit survives the process being killed (the promise: quitting
        # or a crash loses nothing); only an OS crash or power cut could drop the last ones. No fsync per key.
        for pragma in (f"busy_timeout = {BUSY_TIMEOUT_MS}", "foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def _upgrade(engine: Engine) -> None:
    """Migrate to head in one write transaction (a second terminal opening at the same moment
    waits, then finds the database at head and does nothing)."""
    from alembic import command

    with engine.execution_options(**{_WRITE: True}).begin() as connection:
        command.upgrade(alembic_config(connection), "head")


# -- rows to values -------------------------------------------------------------------------------

_Change = tuple[str, str | None, str | None, str | None]  # event kind, old, new, note


def _review_query(repo_path: str, checklist_id: str) -> Any:
    return select(Review).where(Review.repo_path == repo_path, Review.checklist_id == checklist_id)


def _review(s: Session, review_id: int) -> Review:
    row = s.get(Review, review_id)
    if row is None:
        raise KeyError(f"no review {review_id}")
    return row


def _finding_row(s: Session, review_id: int, fingerprint: str) -> FindingRow:
    row = s.scalars(
        select(FindingRow).where(FindingRow.review_id == review_id, FindingRow.fingerprint == fingerprint)
    ).one_or_none()
    if row is None:
        raise KeyError(f"review {review_id} has no finding {fingerprint}")
    return row


def _reviewers(s: Session, review_id: int | None = None) -> dict[int, tuple[str, ...]]:
    """Who has worked on each review, in order of their first event."""
    query = select(EventRow.review_id, EventRow.reviewer).group_by(EventRow.review_id, EventRow.reviewer)
    if review_id is not None:
        query = query.where(EventRow.review_id == review_id)
    out: dict[int, list[str]] = defaultdict(list)
    for review, reviewer in s.execute(query.order_by(func.min(EventRow.id))):
        out[review].append(reviewer)
    return {k: tuple(v) for k, v in out.items()}


def _counts(s: Session, query: Any) -> dict[int, int]:
    return dict(s.execute(query).all())


def _store_findings(
    s: Session,
    review: Review,
    findings: Sequence[Finding],
    speaks_for: Callable[[str], bool],
    reviewer: str,
    now: datetime,
) -> identity.Matching:
    """Match findings to the saved ones of the rules they speak for (identity.py) and store them:
    decisions and notes follow their findings, and saved ones no longer found are kept as `absent`."""
    fingerprints = [f.fingerprint for f in findings]
    if "" in fingerprints or len(set(fingerprints)) != len(fingerprints):
        raise ValueError("findings need distinct fingerprints: pass them through analyzers.findings.with_identity")
    rows = s.execute(select(*_STATE_COLUMNS).where(FindingRow.review_id == review.id)).all()
    matching = identity.match(findings, [st for st in map(finding_state, rows) if speaks_for(st.rule_id)])
    added, changed, gone = [], [], []
    for m in matching.matches:
        values = _values_of_state(state_of(m.finding))
        if m.saved is None:
            fresh = {"disposition": Disposition.UNTRIAGED.value, "version": 0, "first_seen": now}
            added.append(values | fresh | {"review_id": review.id, "last_seen": now})
            continue
        old = m.saved
        if old.disposition == Disposition.DOWNGRADED:
            values["severity"] = old.severity.value  # the reviewer's call stands
        values["detection"] = m.detection.value
        values["needs_second_look"] = m.needs_second_look
        if m.absorbed:
            values |= _take_over(s, review, m, reviewer, now)
        bump = values != _values_of_state(old)
        changed.append(values | {"id": old.id, "version": old.version + bump, "last_seen": now})
    for old in matching.unmatched:
        if old.detection != Detection.ABSENT:
            gone.append({"id": old.id, "detection": Detection.ABSENT.value, "version": old.version + 1})
    for batch in (changed, gone):
        if batch:
            s.execute(update(FindingRow), batch)
    if added:
        s.execute(insert(FindingRow), added)
    return matching


def _record(s: Session, review: Review, reviewer: str, at: datetime, kind: str, target: str, **event: Any) -> None:
    """The event of a change (`event`: the rest of _event_values), in the change's transaction. The
    events of one transaction are one reviewer action (a bulk decision too): they share the id of
    its first event, for undo."""
    check_reviewer(reviewer)
    row = EventRow(**_event_values(review.id, reviewer, at, kind, target, **event))
    s.add(row)
    first = s.info.get(_ACTION)
    if first is None:
        s.flush()
        row.action = row.id
        s.info[_ACTION] = row
    else:
        row.action = first.id
    review.updated_at = at


def _event_values(
    review_id: int,
    reviewer: str,
    at: datetime,
    kind: str,
    target: str,
    *,
    old: str | None = None,
    new: str | None = None,
    note: str | None = None,
    finding_id: int | None = None,
    states: tuple[dict[str, Any], dict[str, Any]] | None = None,
    undoes: int | None = None,
) -> dict[str, Any]:
    """An event's columns (but its action: the id of its transaction's first event)."""
    return {
        "review_id": review_id, "finding_id": finding_id, "at": at, "reviewer": reviewer, "kind": kind,
        "target": target, "old": old, "new": new, "note": note, "undoes": undoes,
        "states": json.dumps({"before": states[0], "after": states[1]}) if states else None,
    }


def _apply(
    s: Session, review: Review, row: FindingRow, reviewer: str, at: datetime, change: Callable[[FindingRow], _Change]
) -> None:
    """Change a finding and record it, with its decision before and after (for undo)."""
    before = finding_decision(row)
    kind, old, new, note = change(row)
    row.version += 1
    _record(s, review, reviewer, at, kind, row.fingerprint, old=old, new=new, note=note, finding_id=row.id,
            states=(before, finding_decision(row)))


def _checked_disposition(disposition: Disposition, reason: str | None) -> Disposition:
    disposition = Disposition(disposition)
    if disposition == Disposition.DISMISSED and reason not in DISMISS_REASONS:
        raise ValueError(f"a dismissal needs one of the reasons {', '.join(DISMISS_REASONS)}; got {reason!r}")
    if disposition != Disposition.DISMISSED and reason is not None:
        raise ValueError("a reason goes only with a dismissal")
    return disposition


def _decide(row: FindingRow, disposition: Disposition, reason: str | None, note: str | None) -> _Change:
    old = row.disposition
    if disposition != Disposition.DOWNGRADED:
        row.severity = row.original_severity
    elif old != Disposition.DOWNGRADED.value:
        row.severity = Severity(row.original_severity).lower().value
    row.disposition = disposition.value
    row.dismiss_reason = reason
    row.needs_second_look = False
    return "disposition", old, disposition.value, ": ".join(x for x in (reason, note) if x) or None


def _dismiss_in_source(s: Session, review: Review, suppressed: dict[str, str], at: datetime) -> None:
    """Untriaged findings that a `# dbreview: ignore` comment covers are dismissed, recorded as by
    the source comment; a reviewer's own decision is never overridden."""
    rows = s.scalars(
        select(FindingRow).where(
            FindingRow.review_id == review.id,
            FindingRow.fingerprint.in_(suppressed),
            FindingRow.disposition == Disposition.UNTRIAGED.value,
        )
    )
    for row in rows:
        reason, note = in_source_dismissal(suppressed[row.fingerprint])
        _apply(s, review, row, IN_SOURCE, at, lambda r: _decide(r, Disposition.DISMISSED, reason, note))


def _detached(row: FindingRow) -> SimpleNamespace:
    """A copy of the row's values that a change function can work on without touching the row."""
    return SimpleNamespace(**{attr.key: getattr(row, attr.key) for attr in sa_inspect(FindingRow).column_attrs})


def _conflict(s: Session, row: FindingRow, attempt: str, now: datetime) -> ConflictError:
    """"bob dismissed this finding a moment ago as a false positive; your downgrade was not applied"."""
    last = s.scalars(
        select(EventRow).where(EventRow.finding_id == row.id, EventRow.kind.in_(DECIDING)).order_by(EventRow.id.desc())
    ).first()
    who = "someone changed this finding"
    if last is not None:
        verb, tail = said(last.kind, last.new, last.note)
        who = f"{last.reviewer} {verb} this finding {ago(last.at, now)}{tail}"
    return ConflictError(_full_state(s, row), f"{who}; your {attempt} was not applied")


def _store_drafts(s: Session, review_id: int, drafts: dict[str, str]) -> None:
    """The analyzers' drafts replace the previous scan's; the reviewers' own answers stay."""
    s.execute(
        update(Answer)
        .where(Answer.review_id == review_id, Answer.question_id.not_in(drafts), Answer.drafted != "")
        .values(drafted="")
    )
    if drafts:
        stmt = sqlite_insert(Answer).values(
            [{"review_id": review_id, "question_id": q, "text": "", "drafted": d} for q, d in drafts.items()]
        )
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=[Answer.review_id, Answer.question_id], set_={"drafted": stmt.excluded.drafted}
            )
        )


MERGE_NOTE_BY = "dbreview"  # who the note on a merge with differing decisions is from: no reviewer wrote it


def _take_over(s: Session, review: Review, m: identity.Match, reviewer: str, at: datetime) -> dict[str, Any]:
    """A finding replaced several saved ones (identity._merge): their notes and history move to the
    one kept, the others are removed with a "merged" event each, and their decision is kept when they
    all agreed; when they did not, the finding is untriaged again with a note of what they were."""
    keep = m.saved
    assert keep is not None
    for gone in m.absorbed:
        s.execute(update(EventRow).where(EventRow.finding_id == gone.id).values(finding_id=keep.id))
        s.execute(delete(FindingRow).where(FindingRow.id == gone.id))
        _record(s, review, reviewer, at, "merged", gone.fingerprint, old=gone.fingerprint, new=m.finding.fingerprint,
                finding_id=keep.id)
    if m.agreed:
        return {}
    decisions = "; ".join(f"{f.location}: {_decision_text(f)}" for f in (keep, *m.absorbed))
    _record(s, review, MERGE_NOTE_BY, at, "note", m.finding.fingerprint, finding_id=keep.id,
            note=f"This finding replaces {len(m.absorbed) + 1} earlier ones, decided differently ({decisions}); "
            "decide it again.")
    return {"disposition": Disposition.UNTRIAGED.value, "dismiss_reason": None, "needs_second_look": False,
            "severity": m.finding.severity.value}


def _decision_text(f: FindingState) -> str:
    if f.disposition == Disposition.DISMISSED:
        return f"dismissed ({f.dismiss_reason})"
    if f.disposition == Disposition.DOWNGRADED:
        return f"downgraded to {f.severity}"
    return f.disposition.value


def _values_of_state(f: FindingState) -> dict[str, Any]:
    """The columns a scan sets: from a saved finding, or from a scanned one through state_of()."""
    return {
        "fingerprint": f.fingerprint,
        "rule_id": f.rule_id,
        "item_id": f.item_id,
        "original_severity": f.original_severity.value,
        "severity": f.severity.value,
        "message": f.message,
        "path": f.path,
        "start_line": f.start_line,
        "end_line": f.end_line,
        "anchor": f.anchor,
        "evidence": json.dumps(list(f.evidence)),
        "related": json.dumps([[r.location.path, r.location.start_line, r.location.end_line, r.note] for r in f.related]),
        "code_hash": f.code_hash,
        "detection": f.detection.value,
        "needs_second_look": f.needs_second_look,
    }


_STATE_COLUMNS = tuple(FindingRow.__table__.c[name] for name in STATE_COLUMNS)



def _notes_query(ids: Any) -> Any:
    """The notes on these findings not withdrawn by an undo, oldest first."""
    return (
        select(EventRow.finding_id, EventRow.reviewer, EventRow.at, EventRow.note)
        .where(EventRow.finding_id.in_(ids), EventRow.kind == "note", func.coalesce(EventRow.action, EventRow.id).not_in(
            select(EventRow.undoes).where(EventRow.finding_id.in_(ids), EventRow.undoes.is_not(None))
        ))
        .order_by(EventRow.id)
    )


# The statements of a decision on one finding (_change_finding), built once: executing a statement
# built before costs SQLAlchemy a cached lookup, building one costs coercions and a cache key.
_FINDINGS, _EVENTS = FindingRow.__table__, EventRow.__table__
_DECIDED = ("severity", "disposition", "dismiss_reason", "needs_second_look", "version")  # what a change sets
_FINDING_BY_FINGERPRINT = select(*_STATE_COLUMNS).where(
    _FINDINGS.c.review_id == bindparam("review_id"), _FINDINGS.c.fingerprint == bindparam("fingerprint")
)
_REVIEW_BY_ID = select(Review.__table__.c.id).where(Review.__table__.c.id == bindparam("review_id"))
_SET_DECISION = update(_FINDINGS).where(_FINDINGS.c.id == bindparam("finding")).values(
    {name: bindparam(f"new_{name}") for name in _DECIDED}
)
_ADD_EVENT = insert(_EVENTS)
_SET_ACTION = update(_EVENTS).where(_EVENTS.c.id == bindparam("event")).values(action=_EVENTS.c.id)
_TOUCH_REVIEW = update(Review.__table__).where(Review.__table__.c.id == bindparam("review_id")).values(
    updated_at=bindparam("at", type_=Review.__table__.c.updated_at.type)
)
_NOTES_OF = _notes_query([bindparam("finding")])


def _full_states(s: Session, rows: Sequence[FindingRow]) -> list[FindingState]:
    """States with their notes, for a few findings (flushed ORM rows)."""
    ids = [r.id for r in rows]
    notes: dict[int, list[Note]] = defaultdict(list)
    for e in s.execute(_notes_query(ids)):
        notes[e.finding_id].append(Note(e.reviewer, e.at, e.note or ""))
    states = {r[0]: r for r in s.execute(select(*_STATE_COLUMNS).where(FindingRow.id.in_(ids)))}
    return [finding_state(states[i], tuple(notes.get(i, ()))) for i in ids]


def _full_state(s: Session, row: FindingRow) -> FindingState:
    return _full_states(s, [row])[0]


def _review_info(row: Review, reviewers: Iterable[str]) -> ReviewInfo:
    return ReviewInfo(
        id=row.id,
        repo_path=row.repo_path,
        checklist_id=row.checklist_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        commit=row.commit,
        reviewers=tuple(reviewers),
    )


def _item_state(row: ItemVerdict) -> ItemState:
    return ItemState(row.item_id, Verdict(row.verdict), row.notes, row.reviewer, row.at)


def _answer_state(row: Answer) -> AnswerState:
    return AnswerState(row.question_id, row.text, row.drafted, row.reviewer, row.at)
