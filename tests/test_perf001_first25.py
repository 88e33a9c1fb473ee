"""PERF001 on the shapes of the backends met for the first time on 2026-11-28 (issue 7), each rebuilt as a small
repository of our own: `filter_by(owner=user)` / `Model.owner == user` through a backref another class gives the model
(`relationship("Note", backref="owner")`) filter on the foreign key column behind it."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing as found
from tests.test_perf001_reads import calls
from tests.test_precision import HEADER

BACKREF = HEADER + """
from sqlalchemy.orm import relationship

class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notes = relationship("Note", backref="owner", lazy="dynamic")

class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
"""


def _owner_id(findings):
    (f,) = [f for f in findings if f.anchor == "table:notes.owner_id"]
    return f


def test_filter_by_a_backref_filters_on_its_foreign_key(tmp_path):
    """`filter_by(owner=owner)` names the backref Note.owner that User.notes makes: a read of notes by owner_id (a
    warning that says where), not 'only the foreign key check'."""
    views = "from app.models import Note\ndef listed(session, owner):\n    return session.query(Note).filter_by(owner=owner).all()\n"
    f = _owner_id(found(tmp_path, {"app/models.py": BACKREF, "app/views.py": views, **calls("views", "listed")}, "PERF001"))
    assert f.severity == Severity.WARNING
    assert f.message.startswith("notes.owner_id is a foreign key with no index: the query at app/views.py:3 filters on it")


def test_a_backref_compared_with_an_object_filters_on_its_foreign_key(tmp_path):
    """`Note.owner == owner` in a filter: the same read."""
    views = ("from app.models import Note\ndef listed(session, owner):\n"
             "    return session.query(Note).filter(Note.owner == owner).all()\n")
    f = _owner_id(found(tmp_path, {"app/models.py": BACKREF, "app/views.py": views, **calls("views", "listed")}, "PERF001"))
    assert f.severity == Severity.WARNING and "app/views.py:3" in f.message and "filters on it" in f.message


TOKENS = HEADER + """
from sqlalchemy import Index

class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Code(Base):
    __tablename__ = "codes"
    __table_args__ = (Index("ix_codes_org_made", "org", "made"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org: Mapped[str] = mapped_column(String)
    made: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
"""


def test_a_test_in_a_sort_key_is_no_filter(tmp_path):
    """`unscoped = and_(Code.job_id.is_(None), ...)` used only in `order_by(asc(unscoped))` sorts the rows the filters
    found: no read of codes by job_id, so no warning citing it."""
    views = ("from sqlalchemy import and_, asc, select\nfrom app.models import Code\n"
             "def listed(session, org):\n"
             "    unscoped = and_(Code.job_id.is_(None), Code.made.is_(None))\n"
             "    query = select(Code).where(Code.org == org).order_by(asc(unscoped), Code.made.desc())\n"
             "    return session.scalars(query).all()\n")
    (f,) = [f for f in found(tmp_path, {"app/models.py": TOKENS, "app/views.py": views, **calls("views", "listed")},
                             "PERF001") if f.anchor == "table:codes.job_id"]
    assert f.severity == Severity.INFO and "app/views.py:4" not in f.message
