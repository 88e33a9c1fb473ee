"""PERF001 (a foreign key with no index): shapes the tryout's judges found misread, each rebuilt as a small
repository of our own: a foreign key aimed by an f-string of a module constant, and a query rebound through a
helper that filters it before it is run."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing as found
from tests.test_precision import HEADER

SHELVES = HEADER + """
from sqlalchemy import Column, PrimaryKeyConstraint, Table
from sqlalchemy.orm import relationship

_SHELF_TABLE = "shelves"

class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

placed = Table(
    "shelf_books",
    Base.metadata,
    Column("book_id", Integer, ForeignKey("books.id")),
    Column("shelf_id", Integer, ForeignKey(f"{_SHELF_TABLE}.id")),
    PrimaryKeyConstraint("book_id", "shelf_id"),
)

class Shelf(Base):
    __tablename__ = _SHELF_TABLE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    books = relationship(Book, secondary=placed)
"""


def test_a_foreign_key_aimed_by_an_f_string_of_a_module_constant_names_its_table(tmp_path):
    """`ForeignKey(f"{_SHELF_TABLE}.id")` with `_SHELF_TABLE = "shelves"` in the module points at shelves: the
    relationship Shelf.books loads shelf_books by shelf_id, and the key check names the table, not the f-string."""
    view = ("from sqlalchemy.orm import selectinload\nfrom app.models import Shelf\n"
            "def shelf(session, shelf_id):\n"
            "    return session.query(Shelf).options(selectinload(Shelf.books)).filter(Shelf.id == shelf_id).one()\n")
    (f,) = [f for f in found(tmp_path, {"app/models.py": SHELVES, "app/views.py": view}, "PERF001")
            if f.anchor == "table:shelf_books.shelf_id"]
    assert "the relationship Shelf.books loads its rows through it (secondary shelf_books)" in f.message
    assert "a row of shelves" in f.message and "_SHELF_TABLE" not in f.message
