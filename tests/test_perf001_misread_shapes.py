"""PERF001 and MIG007 on shapes judges found misread on real backends (round 71), each rebuilt as a small repository
of our own: a join out of the table to an alias of another model, a policy's test where every query finds rows by
another index, a relationship named by `foreign_keys=`, a delete of a variable named for another class, rows added
through a class held in an attribute or a polymorphic subclass."""

from __future__ import annotations

import pytest

from analyzers.findings import Severity
from tests.growing import found_growing
from tests.test_perf001_growth import READS, SHELF
from tests.test_perf001_reads import calls
from tests.test_precision import HEADER, found, revision

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


TICKETS = HEADER + """
class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
"""

TICKETS_POLICY = revision("""
op.create_table("owners", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("tickets", sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id")), sa.Column("expires_at", sa.DateTime))
op.create_index("ix_tickets_expires_at", "tickets", ["expires_at"])
op.execute("ALTER TABLE tickets ENABLE ROW LEVEL SECURITY")
op.execute("CREATE POLICY ticket_owner ON tickets USING (owner_id = current_setting('app.owner')::int)")
""")

REDEEM = """
from datetime import datetime
from sqlalchemy import delete
from app.models import Ticket


async def redeem(session, key):
    return await session.get(Ticket, key, with_for_update=True)


async def purge(session):
    await session.execute(delete(Ticket).where(Ticket.expires_at < datetime.now()))
"""


def test_a_policys_test_is_no_scan_where_every_query_finds_rows_by_a_range_on_an_indexed_column(tmp_path):
    """The policy adds `owner_id = ...` to every query of tickets; the only queries are a get by the primary key and a
    purge by `expires_at < now`, which the index on expires_at serves (or the get alone) (in an integration's module, whose queries of
    the application's models the policy applies to as well): the policy's test finds no rows, info. A listing with
    no such test leaves the policy's test to find its rows: warning."""
    files = {"app/models.py": TICKETS, "migrations/versions/0001_init.py": TICKETS_POLICY,
             "app/integrations/tickets.py": REDEEM, "app/views.py": "from app.integrations.tickets import redeem, purge\n"}
    (f,) = [f for f in found_growing(tmp_path / "a", files, "PERF001") if f.anchor == "table:tickets.owner_id"]
    assert f.severity == Severity.INFO, f.message
    assert ("but each of the 2 queries of tickets that dbreview could follow also compares with a value a column an index "
            "leads (expires_at, which the index (expires_at) is led by, or another)") in f.message
    listing = REDEEM + "\n\nasync def every(session):\n    return (await session.scalars(select(Ticket))).all()\n"
    listing = listing.replace("import delete", "import delete, select")
    (g,) = [g for g in found_growing(tmp_path / "b", {**files, "app/integrations/tickets.py": listing}, "PERF001")
            if g.anchor == "table:tickets.owner_id"]
    assert g.severity == Severity.WARNING and "the policy ticket_owner on tickets adds a test of it" in g.message
    only_get = REDEEM.partition("async def purge")[0]
    (h,) = [h for h in found_growing(tmp_path / "c", {**files, "app/integrations/tickets.py": only_get}, "PERF001")
            if h.anchor == "table:tickets.owner_id"]
    assert h.severity == Severity.INFO, h.message  # a get by the primary key: no listing left to the policy's test
    assert ("but the one query of tickets that dbreview could follow also compares with a value a column an index leads "
            "(id, which the primary key (id) is led by, or another)") in h.message


SURVEY = HEADER + """
from sqlalchemy.orm import relationship

class Source(Base):
    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prompts: Mapped[list["Prompt"]] = relationship("Prompt", foreign_keys="Item.source_id")

class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), nullable=True)
    __mapper_args__ = {"polymorphic_on": "kind"}

class Prompt(Item):
    __mapper_args__ = {"polymorphic_identity": "prompt"}
"""

FIRST_PROMPT = """
from sqlalchemy import select
from app.models import Source


def first_prompt(session, source_id):
    source = session.scalars(select(Source).where(Source.id == source_id)).one()
    return source.prompts[0]
"""


def test_a_relationship_to_a_subclass_with_no_table_of_its_own_loads_the_parents_table_by_its_key(tmp_path):
    """`relationship("Prompt", foreign_keys="Item.source_id")`, Prompt a single-table subclass of Item: reading
    `source.prompts` loads items by source_id, a read that scans items (a warning, naming it)."""
    files = {"app/models.py": SURVEY, "app/prompts.py": FIRST_PROMPT, "app/views.py": "from app.prompts import first_prompt\n"}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:items.source_id"]
    assert f.severity == Severity.WARNING, f.message
    assert "the relationship Source.prompts loads its rows by it (the code reads it at app/prompts.py:8)" in f.message


MEMBERS = HEADER + """
from sqlalchemy.orm import relationship

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    links: Mapped[list["LoginLink"]] = relationship()

class LoginLink(Base):
    __tablename__ = "login_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

class UserRole(Base):
    __tablename__ = "user_roles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
"""

REVOKE = """
from app.db import db
from app.models import User
from app.roles import role_of


def revoke(user: User, org_id):
    user_role = role_of(user, org_id)
    db.session.delete(user_role)
"""


def test_a_delete_of_what_a_helper_returns_is_not_a_delete_of_what_it_is_given(tmp_path):
    """`user_role = role_of(user, org)` then `session.delete(user_role)`: the helper's argument is a User, its result
    is not (the name says a UserRole, which exists): no User is deleted, so nothing loads User.links on a delete."""
    files = {"app/models.py": MEMBERS, "app/revoke.py": REVOKE, "app/views.py": "from app.revoke import revoke\n"}
    (f,) = [f for f in found_growing(tmp_path, files, "PERF001") if f.anchor == "table:login_links.user_id"]
    assert f.severity == Severity.INFO
    assert "deleting a User" not in f.message and "app/revoke.py" not in f.message, f.message


HELD = """
from app import models


class Catalogue:
    book_model = models.Book

    def add(self, session, **kwargs):
        session.add(self.book_model(**kwargs))
"""

HELD_IN_INIT = """
from app.models import Book


class Catalogue:
    def __init__(self):
        self.made = Book

    def add(self, session, **kwargs):
        session.add(self.made(**kwargs))
"""

NOVELS = SHELF + """

class Novel(Book):
    __tablename__ = "novels"
    id: Mapped[int] = mapped_column(ForeignKey("books.id"), primary_key=True)
    __mapper_args__ = {"polymorphic_identity": "novel"}
"""


@pytest.mark.parametrize("files", [
    {"app/catalogue.py": HELD},
    {"app/catalogue.py": HELD_IN_INIT},
    {"app/models.py": NOVELS, "app/novels.py": "from app.models import Novel\ndef add(session):\n    session.add(Novel())\n"},
], ids=["class-attribute", "self-attribute", "joined-subclass"])
def test_rows_made_through_a_class_an_attribute_holds_or_a_joined_subclass_grow_the_table(tmp_path, files):
    """`book_model = models.Book` in a class's body (or `self.made = Book`), then `self.book_model(**kwargs)` in its
    methods, makes rows of books; so does `Novel()`, a subclass with a table of its own (joined-table inheritance),
    whose rows are books rows too: the table grows, and the scan by the key is a warning."""
    every = {"app/models.py": SHELF, "app/books.py": READS, **calls("books", "of_genre", "labelled"), **files}
    f = {f.anchor: f for f in found(tmp_path, every, "PERF001")}["table:books.genre_id"]
    assert f.severity == Severity.WARNING, f.message
    assert "the query at app/books.py:5 filters on it, so each such read scans books" in f.message


def test_a_class_an_attribute_holds_is_no_row_until_it_is_called(tmp_path):
    """Holding the class (`book_model = models.Book`) and calling something else on self makes no row."""
    idle = HELD.replace("session.add(self.book_model(**kwargs))", "session.add(self.other(**kwargs))")
    every = {"app/models.py": SHELF, "app/books.py": READS, **calls("books", "of_genre", "labelled"), "app/catalogue.py": idle}
    f = {f.anchor: f for f in found(tmp_path, every, "PERF001")}["table:books.genre_id"]
    assert f.severity == Severity.INFO and "found no application code that adds rows to books" in f.message
