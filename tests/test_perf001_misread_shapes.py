"""PERF001 and MIG007 on shapes judges found misread on real backends (round 71), each rebuilt as a small repository
of our own: a join out of the table to an alias of another model, a policy's test where every query finds rows by
another index, a relationship named by `foreign_keys=`, a delete of a variable named for another class, rows added
through a class held in an attribute or a polymorphic subclass."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing
from tests.test_precision import HEADER

AUDITED = HEADER + """
class Person(Base):
    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    approved_by: Mapped[int] = mapped_column(ForeignKey("persons.id"), nullable=True)

class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
"""

LISTING = """
from sqlalchemy import select
from sqlalchemy.orm import aliased
from app import models


def listing(session):
    author = aliased(models.Person, name="author")
    approver = aliased(models.Person)
    notes = select(models.Note).outerjoin(author, models.Note.author_id == author.id)
    persons = select(models.Person).join(approver, models.Person.approved_by == approver.id, isouter=True)
    return session.execute(notes), session.execute(persons)
"""

VIEW = "from app.listing import listing\nPAGES = {'list': listing}\n"


def test_a_join_out_of_the_table_to_an_alias_by_its_key_is_no_read_by_the_key(tmp_path):
    """`.outerjoin(author, Note.author_id == author.id)`: the join goes from the notes listed to the aliased person by
    its primary key (the same for a self join to an alias of the table's own class): no read of notes (persons) by
    the key, so the only scan left is the key check, an info."""
    files = {"app/models.py": AUDITED, "app/listing.py": LISTING, "app/views.py": VIEW}
    by = {f.anchor: f for f in found_growing(tmp_path / "out", files, "PERF001")}
    for anchor in ("table:notes.author_id", "table:persons.approved_by"):
        assert by[anchor].severity == Severity.INFO, by[anchor].message
        assert "found no query of the application that filters or joins" in by[anchor].message
    into = LISTING.replace("select(models.Note).outerjoin(author, models.Note.author_id == author.id)",
                           "select(author).join(models.Note, models.Note.author_id == author.id)")
    by = {f.anchor: f for f in found_growing(tmp_path / "into", {**files, "app/listing.py": into}, "PERF001")}
    assert by["table:notes.author_id"].severity == Severity.WARNING  # into notes from the alias: a read by author_id
    assert "joins notes through it" in by["table:notes.author_id"].message
