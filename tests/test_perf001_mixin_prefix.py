"""PERF001 on a mixin's foreign key (one column many tables carry): a read of a table that tests the leading columns
of that table's composite unique constraint or index holding the key after them is served by it, as for a column
the table declares itself; the mixin's finding then speaks for a table whose reads do scan, where one does."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing as found
from tests.test_perf001_reads import calls
from tests.test_precision import HEADER

MODELS = HEADER + """
from sqlalchemy import Boolean, Column, UniqueConstraint
from sqlalchemy.orm import declared_attr


class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class WorkspaceMixin:
    @declared_attr
    def workspace_id(cls):
        return Column(Integer, ForeignKey("workspaces.id", ondelete="CASCADE"))


class Ticket(Base, WorkspaceMixin):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("kind", "workspace_id", "active", name="uq_ticket_kind_workspace_active"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
"""

NOTE = """

class Note(Base, WorkspaceMixin):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(String(200))
"""

BY_KIND = """
from app.models import Ticket
def open_ticket(session, workspace_id, kind):
    return session.query(Ticket).filter(Ticket.workspace_id == workspace_id, Ticket.kind == kind,
                                          Ticket.active == True).first()
"""

BY_WORKSPACE = """
def all_tickets(session, workspace_id):
    return session.query(Ticket).filter(Ticket.workspace_id == workspace_id).all()
"""

NOTES = """
from app.models import Note
def notes_of(session, workspace_id):
    return session.query(Note).filter(Note.workspace_id == workspace_id).all()
"""


def _mixin(tmp_path, files):
    return [f for f in found(tmp_path, files, "PERF001") if f.anchor == "class:WorkspaceMixin.workspace_id"]


def test_a_read_that_tests_the_leading_columns_of_the_tables_unique_constraint_is_served(tmp_path):
    files = {"app/models.py": MODELS, "app/reads.py": BY_KIND, **calls("reads", "open_ticket")}
    (f,) = _mixin(tmp_path, files)
    assert f.severity == Severity.INFO and "so each such read scans" not in f.message
    assert ("every read of tickets by it that dbreview found also tests kind, which the unique constraint "
            "uq_ticket_kind_workspace_active") in f.message and "not by a scan of tickets" in f.message


def test_a_read_by_the_key_alone_still_scans(tmp_path):
    files = {"app/models.py": MODELS, "app/reads.py": BY_KIND + BY_WORKSPACE, **calls("reads", "open_ticket", "all_tickets")}
    (f,) = _mixin(tmp_path, files)
    assert f.severity == Severity.WARNING and "so each such read scans tickets" in f.message
    assert "app/reads.py:8 filters on it" in f.message


def test_the_mixins_finding_speaks_for_another_table_whose_reads_scan(tmp_path):
    files = {"app/models.py": MODELS + NOTE, "app/reads.py": BY_KIND, "app/notes.py": NOTES,
             **calls("reads", "open_ticket"), "app/notes_calling.py": "from app import notes\ndef page(session):\n"
                                                                         "    notes.notes_of(session, 1)\n"}
    (f,) = _mixin(tmp_path, files)
    assert f.severity == Severity.WARNING
    assert f.message.startswith("WorkspaceMixin.workspace_id (used by notes and others) is a foreign key with no index")
    assert "so each such read scans notes" in f.message
