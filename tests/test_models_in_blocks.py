"""Model classes a module declares inside a block it runs as it is imported (issue 7): a backend met for the
first time declared all its models under `with warnings.catch_warnings():` and dbreview found none of them.
Models in `with`, `try` and `if` blocks are models; those under `if TYPE_CHECKING:` never run and are not. A
project of our own, with what is found pinned."""

from __future__ import annotations

from analyzers.engine import scan
from tests.test_precision import _write

MODELS = """
import warnings
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()

with warnings.catch_warnings():
    warnings.simplefilter("ignore")

    class Shelf(Base):
        __tablename__ = "shelves"
        id = Column(Integer, primary_key=True)

    class Book(Base):
        __tablename__ = "books"
        id = Column(Integer, primary_key=True)
        shelf_id = Column(Integer, ForeignKey("shelves.id"))

try:
    class Loan(Base):
        __tablename__ = "loans"
        id = Column(Integer, primary_key=True)
        book_id = Column(Integer, ForeignKey("books.id"), index=True)
except ImportError:
    pass

if TYPE_CHECKING:
    class Ghost(Base):
        __tablename__ = "ghosts"
        id = Column(Integer, primary_key=True)
"""


def test_models_declared_in_a_with_or_try_block_are_found_and_type_checking_ones_are_not(tmp_path):
    result = scan(_write(tmp_path, {"library/models.py": MODELS}))
    assert sorted(result.facts.tables) == ["books", "loans", "shelves"]
    assert result.facts.tables["books"].class_name == "Book"
    perf = [f for f in result.result.findings if f.rule_id == "PERF001"]
    assert [("shelf_id" in f.message, f.location.path) for f in perf] == [(True, "library/models.py")]
