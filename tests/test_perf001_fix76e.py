"""PERF001 (a foreign key with no index): shapes the tryout's judges found misread, each rebuilt as a small
repository of our own: a foreign key aimed by an f-string of a module constant, rows made in a module or function
named for their model when that name is also a set-up word (`samples.py`)."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.growing import found_growing
from tests.test_precision import HEADER, found

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
    (f,) = [f for f in found_growing(tmp_path, {"app/models.py": SHELVES, "app/views.py": view}, "PERF001")
            if f.anchor == "table:shelf_books.shelf_id"]
    assert "the relationship Shelf.books loads its rows through it (secondary shelf_books)" in f.message
    assert "a row of shelves" in f.message and "_SHELF_TABLE" not in f.message


def test_a_module_or_function_named_for_a_model_whose_name_is_a_set_up_word_adds_its_rows(tmp_path):
    """Where Sample is a model, `views/samples.py`'s `create_samples()` making `Sample(**args)` adds rows of samples:
    the word names the model, not demo data; `demo_samples()` still makes set-up rows, which are no growth."""
    models = HEADER + """
class Lab(Base):
    __tablename__ = "labs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Sample(Base):
    __tablename__ = "samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("labs.id"))
"""
    reads = ("from sqlalchemy import select\nfrom app.models import Sample\n"
             "def of_lab(session, lab_id):\n    return session.scalars(select(Sample).where(Sample.lab_id == lab_id)).all()\n")
    route = "from app.reads import of_lab\ndef route(session, lab_id):\n    return of_lab(session, lab_id)\n"
    demo = "from app.models import Sample\ndef demo_samples(session):\n    session.add(Sample(lab_id=1))\n"
    made = ("from app.models import Sample\ndef create_samples(session, args):\n"
            "    sample: Sample = Sample(**args)\n    session.add(sample)\n")
    files = {"app/models.py": models, "app/reads.py": reads, "app/routes.py": route, "app/demo.py": demo}
    (small,) = [f for f in found(tmp_path / "a", files, "PERF001") if f.anchor == "table:samples.lab_id"]
    assert small.severity == Severity.INFO and "(no Sample constructed, no insert into it)" in small.message
    (grows,) = [f for f in found(tmp_path / "b", {**files, "app/views/samples.py": made}, "PERF001")
                if f.anchor == "table:samples.lab_id"]
    assert grows.severity == Severity.WARNING and "no Sample constructed" not in grows.message
