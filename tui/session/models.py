"""The saved review's tables. Only the repository (store.py) uses these rows; everyone else gets the
frozen values of state.py.

The schema itself is owned by the Alembic history in migrations/versions: a change here needs a new
revision there (tests/test_store.py checks that the two agree).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from tui.session.reading import stamp


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC ISO-8601 text; naive datetimes are refused, and read
    as UTC when a file holds them."""

    impl = String(27)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else stamp(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        when = datetime.fromisoformat(value)
        return when if when.tzinfo else when.replace(tzinfo=UTC)  # written without a zone by another tool: UTC too


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime()}


def _review_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("repo_path", "checklist_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_path: Mapped[str] = mapped_column(Text)
    checklist_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    commit: Mapped[str | None] = mapped_column(String(64))


class FindingRow(Base):
    """A finding as first seen and then kept up to date by every scan; never deleted while its
    review lives (a finding gone from the code is `absent`, with its decisions and notes)."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("review_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[str] = mapped_column(String(32))
    original_severity: Mapped[str] = mapped_column(String(16))  # as the analyzer reported it
    severity: Mapped[str] = mapped_column(String(16))  # as the reviewer left it
    message: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    start_line: Mapped[int]
    end_line: Mapped[int]
    anchor: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)  # JSON list of the source lines
    related: Mapped[str] = mapped_column(Text, server_default="[]")  # JSON [[path, start, end, note], ...]
    code_hash: Mapped[str] = mapped_column(String(64))
    detection: Mapped[str] = mapped_column(String(16))
    disposition: Mapped[str] = mapped_column(String(16))
    dismiss_reason: Mapped[str | None] = mapped_column(String(32))
    needs_second_look: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)  # bumped by every change: optimistic locking
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class ItemVerdict(Base):
    __tablename__ = "item_verdicts"

    review_id: Mapped[int] = _review_fk()
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]


class Answer(Base):
    __tablename__ = "answers"

    review_id: Mapped[int] = _review_fk()
    question_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[str] = mapped_column(Text)  # the reviewer's
    drafted: Mapped[str] = mapped_column(Text)  # the analyzers'
    reviewer: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime | None]


class EventRow(Base):
    """The full history: one row per change, written in the transaction that makes the change.

    `target` is what the reviewer acted on, as it was named then (a finding's fingerprint, an item
    or question id, a document path); `finding_id` ties a finding's events to it even after a
    re-scan gives it a new fingerprint (moved or edited code)."""

    __tablename__ = "events"
    __table_args__ = (
        Index(None, "review_id", "id"),
        Index(None, "finding_id"),
        {"sqlite_autoincrement": True},  # ids never reused: changes_since() can trust them
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    reviewer: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Undo: the events of one reviewer action (one transaction) share `action` (its first event's
    # id); `states` is the target's state before and after the change (JSON); an undo's events name the
    # action they reverse in `undoes`.
    action: Mapped[int | None] = mapped_column(Integer)
    states: Mapped[str | None] = mapped_column(Text)
    undoes: Mapped[int | None] = mapped_column(Integer, index=True)


class Cursor(Base):
    """Where each reviewer was: to resume, and to show a colleague's position."""

    __tablename__ = "cursors"

    review_id: Mapped[int] = _review_fk()
    reviewer: Mapped[str] = mapped_column(String(100), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    left: Mapped[bool] = mapped_column(Boolean, server_default="0")  # quit the app: no longer present


class DocRead(Base):
    __tablename__ = "docs_read"

    review_id: Mapped[int] = _review_fk()
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(100), primary_key=True)
    at: Mapped[datetime]


class NotApplicableRow(Base):
    """Items the latest scan found not to apply to the target (no patients, nothing billed ...), with
    the evidence; replaced by each scan. A reviewer's verdict always overrides it."""

    __tablename__ = "not_applicable"

    review_id: Mapped[int] = _review_fk()
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)


class ScanErrorRow(Base):
    """The latest scan's errors, replaced by each scan."""

    __tablename__ = "scan_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None]
    message: Mapped[str] = mapped_column(Text)


class VerifyRun(Base):
    """One `dbreview verify` of the review: kept, newest last, as the proofs' provenance."""

    __tablename__ = "verify_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    reviewer: Mapped[str] = mapped_column(String(100))
    commit: Mapped[str | None] = mapped_column(String(64))
    postgres: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    report: Mapped[str] = mapped_column(Text)  # Markdown
    result: Mapped[str] = mapped_column(Text)  # JSON


class ProofRow(Base):
    """The latest verify's proof of a finding (replaced by each verify)."""

    __tablename__ = "proofs"

    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("verify_runs.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text)
