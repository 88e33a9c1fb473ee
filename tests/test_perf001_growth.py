"""PERF001 (issue 7, perf22): a scan by the key is a warning only where the table grows with use, which the code
shows by adding rows to it (analyzers/rules/growth.py); a table only the migrations seed, or one nothing of the
application adds to, stays small, and the finding is an info that says so. Fixtures of our own."""

from __future__ import annotations

import pytest

from analyzers.findings import Severity
from tests.test_perf001_reads import calls
from tests.test_precision import HEADER, found, revision

SHELF = HEADER + """
from sqlalchemy import Column, Table
from sqlalchemy.orm import relationship

class Genre(Base):
    __tablename__ = "genres"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    genre_id: Mapped[int] = mapped_column(ForeignKey("genres.id"))
    labels = relationship("Label", secondary="book_labels")

class Label(Base):
    __tablename__ = "labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

book_labels = Table(
    "book_labels", Base.metadata,
    Column("book_id", Integer, ForeignKey("books.id"), index=True),
    Column("label_id", Integer, ForeignKey("labels.id")),
)
"""

READS = """
from sqlalchemy import select
from app.models import Book, Label, book_labels
def of_genre(session, genre_id):
    return session.scalars(select(Book).where(Book.genre_id == genre_id)).all()
def labelled(session, label_id):
    return session.execute(select(book_labels).where(book_labels.c.label_id == label_id)).all()
"""


def _scan(tmp_path, **more):
    files = {"app/models.py": SHELF, "app/books.py": READS, **calls("books", "of_genre", "labelled"), **more}
    return {f.anchor: f for f in found(tmp_path, files, "PERF001")}


def test_a_scanned_table_nothing_adds_rows_to_is_info_saying_so(tmp_path):
    f = _scan(tmp_path)["table:books.genre_id"]
    assert f.severity == Severity.INFO
    assert ("the query at app/books.py:5 filters on it, so each such read scans books, as does the foreign key check on "
            "deleting (or changing the key of) a row of genres; but dbreview found no application code that adds rows to "
            "books (no Book constructed, no insert into it): a table that does not grow with use stays small") in f.message


def test_a_table_the_application_adds_rows_to_is_a_warning_that_does_not_name_the_place(tmp_path):
    adds = "from app.models import Book\ndef shelve(session, genre_id):\n    session.add(Book(genre_id=genre_id))\n"
    f = _scan(tmp_path, **{"app/shelving.py": adds})["table:books.genre_id"]
    assert f.severity == Severity.WARNING
    # the place is not named: by a relationship's or a class's name alone it may be another table's (judged wrong)
    assert f.message.endswith("so each such read scans books, as does the foreign key check on deleting (or changing "
                              "the key of) a row of genres")
    assert "adds rows" not in f.message and all("adds rows" not in (r.note or "") for r in f.related)


def test_rows_added_by_a_seed_function_a_script_or_a_migration_are_no_growth(tmp_path):
    seed = "from app.models import Book\ndef seed_books(session):\n    session.add(Book(genre_id=1))\n"
    script = "from app.models import Book\ndef main(session):\n    session.add(Book(genre_id=1))\n"
    bulk = revision('op.bulk_insert(sa.table("books", sa.column("genre_id")), [{"genre_id": 1}])')
    f = _scan(tmp_path, **{"app/seeding.py": seed, "scripts/load.py": script, "app/utils/populate.py": script,
                           "migrations/versions/0001_books.py": bulk})["table:books.genre_id"]
    assert f.severity == Severity.INFO
    assert ("dbreview found no application code that adds rows to books (no Book constructed, no insert into it), which "
            "only the migrations seed (migrations/versions/0001_books.py:") in f.message


def test_a_repository_that_makes_rows_of_a_class_it_is_given_leaves_growth_untold(tmp_path):
    repo = "class Repository:\n    model = None\n    def create(self, session, **data):\n        session.add(self.model(**data))\n"
    f = _scan(tmp_path, **{"app/repository.py": repo})["table:books.genre_id"]
    assert f.severity == Severity.INFO
    assert ("could not tell what class app/repository.py:4 makes rows of: how books grows, and so what a scan of it costs, "
            "dbreview cannot tell") in f.message


def test_link_rows_added_through_the_relationship_or_sql_grow_the_table(tmp_path):
    label = _scan(tmp_path / "a")["table:book_labels.label_id"]
    assert label.severity == Severity.INFO and "no application code that adds rows to book_labels" in label.message
    local = "def tag(labels, label):\n    labels.append(label)\n"  # a list of the function's own, not the relationship
    label = _scan(tmp_path / "l", **{"app/tagging.py": local})["table:book_labels.label_id"]
    assert label.severity == Severity.INFO
    tag = "def tag(book, label):\n    book.labels.append(label)\n"
    label = _scan(tmp_path / "b", **{"app/tagging.py": tag})["table:book_labels.label_id"]
    assert label.severity == Severity.WARNING
    sql = ("from sqlalchemy import text\ndef tag(session, b, l):\n"
           "    session.execute(text('INSERT INTO book_labels (book_id, label_id) VALUES (:b, :l)'), {'b': b, 'l': l})\n")
    label = _scan(tmp_path / "c", **{"app/tagging.py": sql})["table:book_labels.label_id"]
    assert label.severity == Severity.WARNING


@pytest.mark.parametrize("code", [
    "from app.models import Book\ndef shelve(db, data):\n    return Book.create(db, data=data)\n",
    "from app.models import Book\nclass BookRepository(CRUDBase[Book]):\n    pass\n",
    "from app.models import Book\ndef repo(session):\n    return RepositoryGeneric(session, Book)\n",
    "from sqlalchemy.dialects.postgresql import insert as pg_insert\nfrom app.models import Book\n"
    "def shelve(session, rows):\n    session.execute(pg_insert(Book).values(rows))\n",
])
def test_a_factory_a_repository_of_the_class_or_a_dialects_insert_adds_rows(tmp_path, code):
    f = _scan(tmp_path, **{"app/adding.py": code})["table:books.genre_id"]
    assert f.severity == Severity.WARNING


def test_a_base_class_factory_of_cls_leaves_growth_untold(tmp_path):
    base = "class CrudMixin:\n    @classmethod\n    def make(cls, session, **data):\n        session.add(cls(**data))\n"
    f = _scan(tmp_path, **{"app/crud.py": base})["table:books.genre_id"]
    assert f.severity == Severity.INFO and "could not tell what class app/crud.py:4 makes rows of" in f.message


def test_a_settings_row_with_many_unindexed_keys_is_one_finding(tmp_path):
    """A settings table nothing adds rows to, with a key to each of several groups: one info for the table (each key
    an info of its own said the same thing a dozen times, judged accurate but not actionable on pycroft)."""
    settings = HEADER + """
class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Settings(Base):
    __tablename__ = "settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    members_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    blocked_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    admins_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
"""
    (f,) = found(tmp_path, {"app/models.py": settings}, "PERF001")
    assert (f.anchor, f.severity) == ("table:settings:fk-index:stays-small", Severity.INFO)
    assert f.message.startswith("settings has 3 foreign keys with no index (members_id, blocked_id, admins_id); dbreview "
                                "found no application code that adds rows to settings")
    assert sorted(c.split(" ", 1)[1] for c in f.covers) == [
        "table:settings.admins_id", "table:settings.blocked_id", "table:settings.members_id"]
    adds = "from app.models import Settings\ndef save(session):\n    session.add(Settings(members_id=1, blocked_id=2, admins_id=3))\n"
    assert len(found(tmp_path / "grows", {"app/models.py": settings, "app/save.py": adds}, "PERF001")) == 3


def test_rows_added_through_a_class_name_two_modules_share_are_told_apart_by_the_import(tmp_path):
    """Hyperion (PERF001 judged wrong): `models_cdr.Ticket(...)` adds tickets, beside another module's Ticket; the
    warning was lowered because "no application code adds rows" to cdr_ticket."""
    payments = HEADER + "\nclass Ticket(Base):\n    __tablename__ = 'payment_ticket'\n    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
    shop = HEADER.replace("class Base(DeclarativeBase):\n    pass\n", "from app.payments.models_payments import Base\n") + """
class Generator(Base):
    __tablename__ = "shop_generator"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Ticket(Base):
    __tablename__ = "shop_ticket"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generator_id: Mapped[int] = mapped_column(ForeignKey("shop_generator.id"))
"""
    crud = ("from sqlalchemy import select\nfrom app.shop import models_shop\n\n\ndef by_generator(session, generator_id):\n"
            "    return session.scalars(select(models_shop.Ticket).where(models_shop.Ticket.generator_id == generator_id)).all()\n\n\n"
            "def sell(session, generator_id):\n    session.add(models_shop.Ticket(generator_id=generator_id))\n")
    files = {"app/__init__.py": "", "app/payments/__init__.py": "", "app/shop/__init__.py": "",
             "app/payments/models_payments.py": payments, "app/shop/models_shop.py": shop, "app/shop/crud.py": crud,
             "app/views.py": "from app.shop import crud\n\ndef page(session):\n    crud.by_generator(session, 1)\n    crud.sell(session, 1)\n"}
    (f,) = [f for f in found(tmp_path, files, "PERF001") if f.anchor == "table:shop_ticket.generator_id"]
    assert f.severity is Severity.WARNING and "adds rows" not in f.message
