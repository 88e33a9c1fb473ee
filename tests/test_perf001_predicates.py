"""PERF001 (a foreign key with no index): partial indexes whose predicate a read carries, negated conditions,
association tables a relationship reaches through a variable, and what a delete of the parent loads (issue 7's
round-10 precision classes, each rebuilt as a small repository of our own)."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.s08_performance import UNRULED
from tests.test_perf001_reads import calls
from tests.growing import found_growing as found
from tests.test_precision import HEADER

DESKS = HEADER + """
from sqlalchemy import Index

class Desk(Base):
    __tablename__ = "desks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""

INBOX = DESKS + """
class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    kind: Mapped[str] = mapped_column(String)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
"""


def test_a_test_under_not_is_no_read_by_the_key(tmp_path):
    """`not_(and_(Note.kind == k, Note.agent_id == a))` keeps every note but one agent's: an index on agent_id
    finds none of them, so the condition is no read by agent_id; the same test outside the NOT is one."""
    unread = """
import sqlalchemy as sa
from app.models import Note
def unread(session, desk_id, agent_id):
    stmt = sa.select(sa.func.count()).select_from(Note).where(Note.desk_id == desk_id)
    stmt = stmt.where(
        sa.not_(
            sa.and_(
                Note.kind == "agent",
                Note.agent_id == agent_id,
            )
        )
    )
    return session.scalar(stmt)
def others(session, agent_id):
    return session.scalar(sa.select(sa.func.count()).select_from(Note).where(~(Note.agent_id == agent_id)))
"""
    (f,) = found(tmp_path / "a", {"app/models.py": INBOX, "app/reads.py": unread, **calls("reads", "unread", "others")},
                 "PERF001")
    assert f.anchor == "table:notes.agent_id" and f.severity == Severity.INFO
    assert "dbreview found no query of the application that filters or joins notes on it" in f.message
    mine = unread + """
def mine(session, agent_id):
    cond = sa.and_(Note.kind == "agent", Note.agent_id == agent_id)
    return session.scalar(sa.select(sa.func.count()).select_from(Note).where(cond))
"""
    (g,) = found(tmp_path / "b", {"app/models.py": INBOX, "app/reads.py": mine, **calls("reads", "unread", "mine")},
                 "PERF001")
    assert g.severity == Severity.WARNING and "the condition at app/reads.py:19 filters on it" in g.message


CREW = HEADER + """
from sqlalchemy import Column, PrimaryKeyConstraint, Table
from sqlalchemy.orm import relationship

rota = Table(
    "crew_shift",
    Base.metadata,
    Column("shift_id", Integer, ForeignKey("shifts.id")),
    Column("member_id", Integer, ForeignKey("members.id")),
    PrimaryKeyConstraint("shift_id", "member_id"),
)

class Shift(Base):
    __tablename__ = "shifts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shifts = relationship("Shift", secondary=rota, backref="members")
"""


def test_an_association_table_named_through_its_variable_is_what_the_relationship_loads(tmp_path):
    """`secondary=rota` names the table crew_shift through the variable it is assigned to: Member.shifts loads
    crew_shift rows by member_id, which only comes second in the primary key. With no code reading it or deleting
    a member it is named, at info (a string or a module path that holds ".shifts" reads nothing); deleting a member
    loads it (to delete its link rows): still info, as those scans come only with a member's delete."""
    legacy = 'from archive.shifts import rules\nfrom sqlalchemy import ForeignKey\nLEGACY = ForeignKey("archive.shifts.id")\n'
    (f,) = found(tmp_path / "a", {"app/models.py": CREW, "app/legacy.py": legacy}, "PERF001")
    assert f.anchor == "table:crew_shift.member_id" and f.severity == Severity.INFO
    assert ("the relationship Member.shifts loads its rows through it (secondary crew_shift), but dbreview found no "
            "code that reads Member.shifts and no delete that loads it") in f.message
    assert "no relationship that loads" not in f.message
    drop = ("from app.models import Member\ndef drop(session, member_id):\n"
            "    member = session.get(Member, member_id)\n    session.delete(member)\n")
    route = "from app.views import drop\ndef delete_member(session, member_id):\n    drop(session, member_id)\n"
    (g,) = found(tmp_path / "b", {"app/models.py": CREW, "app/views.py": drop, "app/routes.py": route}, "PERF001")
    assert g.severity == Severity.INFO
    assert ("the relationship Member.shifts loads its rows through it (secondary crew_shift) (deleting a Member loads it: "
            "session.delete at app/views.py:4), and dbreview found no other code that reads crew_shift by it, so as far as "
            "dbreview can tell crew_shift is scanned by it only when a row of members is deleted") in g.message


def test_the_delete_of_a_parent_loads_a_relationship_nothing_else_is_seen_to_read(tmp_path):
    """A relationship no code is seen to read is still loaded by an ORM delete of its parent (SQLAlchemy clears or
    deletes its rows): the key check is not the only scan, and the finding says so; with passive_deletes it is.
    Where no code deletes a member at all, neither runs, and the finding says that instead."""
    purge = ("from sqlalchemy import delete\nfrom app.models import Member\ndef purge(session, ids):\n"
             "    session.execute(delete(Member).where(Member.id.in_(ids)))\n")
    (f,) = found(tmp_path / "a", {"app/models.py": CREW, "app/purge.py": purge}, "PERF001")
    assert ("so the only scans of crew_shift by member_id that dbreview can show are the foreign key check on deleting (or "
            "changing the key of) a row of members, and the load of Member.shifts that deleting one through the ORM makes "
            "(SQLAlchemy loads it to clear or delete its rows; it has no passive_deletes)") in f.message
    passive = CREW.replace('backref="members")', 'backref="members", passive_deletes=True)')
    (g,) = found(tmp_path / "b", {"app/models.py": passive, "app/purge.py": purge}, "PERF001")
    assert ("so the only scan of crew_shift by member_id that dbreview can show is the foreign key check on deleting (or "
            "changing the key of) a row of members:") in g.message
    (h,) = found(tmp_path / "c", {"app/models.py": CREW}, "PERF001")
    assert h.message.endswith("so the only scan of crew_shift by member_id that dbreview can show is the foreign key check "
                              "on deleting (or changing the key of) a row of members: dbreview found no code of the "
                              "application that deletes a row of members, so that check runs only on a delete made "
                              "outside it" + UNRULED)


AUDITS = HEADER + """
from sqlalchemy import Index, text
from sqlalchemy.orm import relationship

class Clinic(Base):
    __tablename__ = "clinics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit = relationship("Audit", uselist=False, viewonly=True,
                         primaryjoin="and_(Audit.clinic_id == Clinic.id, Audit.deleted_at.is_(None))")

class Audit(Base):
    __tablename__ = "audits"
    __table_args__ = (Index("ix_audits_clinic_live", "clinic_id", unique=True, postgresql_where=text("deleted_at IS NULL")),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
"""

AUDIT_READS = """
from sqlalchemy import select
from app.models import Audit, Clinic
def live_audit(session, clinic_id):
    return session.scalars(select(Audit).where(Audit.clinic_id == clinic_id, Audit.deleted_at.is_(None))).first()
def audit_of(session, clinic_id):
    clinic = session.get(Clinic, clinic_id)
    return clinic.audit
"""


def test_a_partial_index_serves_the_reads_that_keep_to_its_predicate(tmp_path):
    """The relationship's primaryjoin and the query both ask for deleted_at IS NULL, the predicate of the partial
    index led by clinic_id: it finds their rows, so only the key check scans (info, the index named); a read
    that leaves deleted rows in is not served by it (a warning)."""
    (f,) = found(tmp_path / "a", {"app/models.py": AUDITS, "app/reads.py": AUDIT_READS}, "PERF001")
    assert f.anchor == "table:audits.clinic_id" and f.severity == Severity.INFO
    assert f.message.startswith("audits.clinic_id is a foreign key led only by the partial index ix_audits_clinic_live "
                                "(clinic_id) WHERE deleted_at IS NULL, which serves only the rows its predicate keeps; ")
    assert ("the relationship Clinic.audit loads its rows by it (the code reads it at app/reads.py:8) (and 1 more), "
            "keeping to the predicate of the index "
            "ix_audits_clinic_live (clinic_id) WHERE deleted_at IS NULL, so it finds its rows through that index, not "
            "by a scan of audits") in f.message
    every = AUDIT_READS + """
def every_audit(session, clinic_id):
    return session.scalars(select(Audit).where(Audit.clinic_id == clinic_id)).all()
"""
    (g,) = found(tmp_path / "b", {"app/models.py": AUDITS, "app/reads.py": every, **calls("reads", "every_audit")},
                 "PERF001")
    assert g.severity == Severity.WARNING
    assert "the query at app/reads.py:11 filters on it, so each such read scans audits" in g.message


STEPS = HEADER + """
from sqlalchemy import Index, text

class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Step(Base):
    __tablename__ = "steps"
    __table_args__ = (
        Index("ix_steps_task_field", "task_id", "field_key", unique=True, postgresql_where=text("field_key IS NOT NULL")),
        Index("ix_steps_task_only", "task_id", unique=True, postgresql_where=text("field_key IS NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    field_key: Mapped[str | None] = mapped_column(String)
"""


def test_every_partial_index_led_by_the_key_is_named_and_an_unread_condition_is_said(tmp_path):
    """Two complementary partial indexes lead with task_id: both are named. A query whose other condition is a
    helper's (which dbreview does not follow) may keep to either predicate: info that says it cannot tell; a
    test of field_key by `==` implies field_key IS NOT NULL, which one of them serves."""
    scoped = """
from sqlalchemy import select
from app.models import Step
def _scope(key):
    return Step.field_key == key if key is not None else Step.field_key.is_(None)
def step_of(session, task_id, key):
    return session.scalars(select(Step).where(Step.task_id == task_id, _scope(key))).first()
def field_step(session, task_id, key):
    return session.scalars(select(Step).where(Step.task_id == task_id, Step.field_key == key)).first()
"""
    (f,) = found(tmp_path / "a", {"app/models.py": STEPS, "app/reads.py": scoped}, "PERF001")
    assert f.severity == Severity.INFO
    assert f.message.startswith(
        "steps.task_id is a foreign key led only by the partial indexes ix_steps_task_field (task_id, field_key) WHERE "
        "field_key IS NOT NULL and ix_steps_task_only (task_id) WHERE field_key IS NULL, each of which serves only the "
        "rows its predicate keeps; ")
    assert ("the query at app/reads.py:9 filters on it, keeping to the predicate of the index ix_steps_task_field "
            "(task_id, field_key) WHERE field_key IS NOT NULL") in f.message
    assert ("the query at app/reads.py:7 filters on it, with a condition dbreview could not read: whether it keeps to "
            "the predicate of one of those partial indexes, so that it serves it, dbreview cannot tell") in f.message
    assert "as does that read unless it keeps to that predicate" in f.message


def test_a_partial_index_that_holds_the_key_after_another_serves_reads_keeping_to_its_predicate(tmp_path):
    """(desk_id, agent_id) WHERE agent_id IS NOT NULL AND closed_at IS NULL holds agent_id second: a read that tests
    desk_id, agent_id by `==` and closed_at IS NULL finds its rows through it; without closed_at IS NULL it does not."""
    model = DESKS + """
class Seat(Base):
    __tablename__ = "seats"
    __table_args__ = (Index("ix_seats_desk_agent", "desk_id", "agent_id", unique=True,
                            postgresql_where="agent_id IS NOT NULL AND closed_at IS NULL"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk_id: Mapped[int] = mapped_column(Integer)  # no index of its own: only the partial one finds a desk's seats
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
"""
    reads = """
from sqlalchemy import select
from app.models import Seat
def seat_of(session, desk_id, agent_id):
    return session.scalars(select(Seat).where(Seat.desk_id == desk_id, Seat.agent_id == agent_id, Seat.closed_at.is_(None))).first()
"""
    (f,) = found(tmp_path / "a", {"app/models.py": model, "app/reads.py": reads}, "PERF001")
    assert f.severity == Severity.INFO
    assert ("it comes after desk_id in the index ix_seats_desk_agent (desk_id, agent_id) WHERE agent_id IS NOT NULL AND "
            "closed_at IS NULL, which serves lookups by desk_id") in f.message
    assert "also tests desk_id, which the index ix_seats_desk_agent (desk_id, agent_id) is led by" in f.message
    (g,) = found(tmp_path / "b", {"app/models.py": model, "app/reads.py": reads.replace(", Seat.closed_at.is_(None)", ""),
                                  **calls("reads", "seat_of")}, "PERF001")
    assert g.severity == Severity.WARNING


def test_a_foreign_key_handed_to_sqlmodel_field_positionally_is_its_default_not_a_key(tmp_path):
    """SQLModel's Field() takes one positional argument, the default: `Field(ForeignKey("tenant.id"))` gives the
    column no foreign key (SQLModel stores the ForeignKey as the Python default), so there is none to index;
    `Field(foreign_key="tenant.id")` is one."""
    model = """
from typing import Optional
from sqlalchemy import ForeignKey
from sqlmodel import Field, SQLModel

class Tenant(SQLModel, table=True):
    id: str = Field(primary_key=True)

class Secret(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: str = Field(ForeignKey("tenant.id"), nullable=False)
    owner_id: str = Field(foreign_key="tenant.id")
"""
    got = {f.anchor: f for f in found(tmp_path, {"app/models.py": model}, "PERF001")}
    assert set(got) == {"table:secret.owner_id"}


def test_a_delete_of_an_object_whose_class_dbreview_cannot_tell_is_said_not_counted_as_a_read(tmp_path):
    """`session.delete(thing)`, `thing` of no class dbreview can tell: it may delete a member (which loads Member.shifts),
    or not; the finding says it could not resolve it and stays info, and the cost stays the table's size."""
    drop = "def drop(session, thing):\n    session.delete(thing)\n    session.commit()\n"
    (f,) = found(tmp_path, {"app/models.py": CREW, "app/drop.py": drop, "app/views.py": "from app.drop import drop\ndef v(s, t):\n    drop(s, t)\n"},
                 "PERF001")
    assert f.severity == Severity.INFO
    assert ("but dbreview found no code it can tell reads Member.shifts (session.delete at app/drop.py:2, of an object "
            "whose class dbreview cannot tell, may load it)") in f.message


LEDGER = HEADER + """
from datetime import datetime, timezone

class Record(Base):
    __abstract__ = True
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    def set_deleted_at(self) -> None:
        self.deleted_at = datetime.now(timezone.utc)

class Voucher(Record):
    __tablename__ = "vouchers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Charge(Base):
    __tablename__ = "charges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id", ondelete="RESTRICT"))
"""


def test_a_parent_soft_deleted_through_a_base_class_method_is_said_where_its_only_delete_is_unresolved(tmp_path):
    """Vouchers are retired by `voucher.set_deleted_at()` (a base class's method that sets deleted_at); the one
    `session.delete(thing)` is of an object whose class dbreview cannot tell: the finding says both, and that the key
    check may never run; without the soft delete, the cost is the table's size, as before."""
    retire = "def retire(session, voucher):\n    voucher.set_deleted_at()\n    session.add(voucher)\n"
    drop = "def drop(session, thing):\n    session.delete(thing)\n"
    files = {"app/models.py": LEDGER, "app/drop.py": drop}
    (f,) = found(tmp_path / "a", {**files, "app/vouchers.py": retire}, "PERF001")
    assert f.severity == Severity.INFO
    assert f.message.endswith(
        "is the foreign key check on deleting (or changing the key of) a row of vouchers: the code soft-deletes vouchers rows (app/vouchers.py:2 calls set_deleted_at(), which sets "
        "deleted_at), and the only delete dbreview found that may remove one is session.delete at app/drop.py:2, of an "
        "object whose class it cannot tell, so that check may never run in the application; where it runs, what it costs "
        "depends on the table's size, which dbreview cannot know" + UNRULED)
    (g,) = found(tmp_path / "b", files, "PERF001")
    assert g.message.endswith("what that costs depends on the table's size, which dbreview cannot know" + UNRULED)


def test_a_primaryjoin_with_an_aliased_and_and_remote_columns_keeps_to_the_predicate(tmp_path):
    """`primaryjoin=lambda: sql_and(foreign(Clinic.id) == remote(models.Audit.clinic_id), remote(models.Audit
    .deleted_at).is_(None))`, `and_` imported under another name: the same join as above, read as such."""
    aliased = AUDITS.replace(
        'primaryjoin="and_(Audit.clinic_id == Clinic.id, Audit.deleted_at.is_(None))"',
        "primaryjoin=lambda: sql_and(foreign(Clinic.id) == remote(models.Audit.clinic_id), "
        "remote(models.Audit.deleted_at).is_(None))")
    assert "sql_and(" in aliased
    (f,) = found(tmp_path, {"app/models.py": aliased, "app/reads.py": AUDIT_READS}, "PERF001")
    assert f.severity == Severity.INFO and "keeping to the predicate of the index ix_audits_clinic_live" in f.message
