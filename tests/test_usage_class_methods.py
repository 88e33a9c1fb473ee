"""Queries inside a model's own methods (issue 8): `session.query(cls)`, `cls.query`, `select(cls)`,
`self.__class__` and `type(self)` are queries of the class the method is defined on, for the query facts
(analyzers/facts/usage.py) and so for the rules that read them (INT010, PERF001); a mixin's method, run on
whichever model inherits it, resolves to no table. `filter_by(**{...})` names the columns of its dict; a dict
dbreview cannot read leaves the filter unknown."""

from __future__ import annotations

from analyzers.examples import facts_from_sources
from analyzers.facts.python_module import extract_module
from analyzers.rules.code_use import app_queries
from analyzers.rules.s05_integrity import OneOrNoneOnNonUnique
from analyzers.rules.s08_performance import ForeignKeyWithoutIndex

MODELS = '''\
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from app.db import Session


class Base(DeclarativeBase):
    pass


class Lookups:
    """A mixin: cls is whichever model inherits it."""

    @classmethod
    def by_label(cls, label):
        return Session.query(cls).filter_by(label=label).one_or_none()


class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40))


class Book(Base, Lookups):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(40))
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id"))

    @classmethod
    def by_title(cls, title):
        return Session.query(cls).filter(cls.title == title).one_or_none()

    @classmethod
    def on_shelf(cls, shelf):
        return Session.execute(select(cls).where(cls.shelf_id == shelf.id)).scalars().all()

    def same_title(self):
        return Session.query(type(self)).filter(self.__class__.title == self.title).all()

    def __init_subclass__(cls, **kw):
        Session.query(cls).filter_by(title="x").one_or_none()
'''


def _usage(source: str):
    return extract_module("app/models.py", source).usage


def test_a_class_method_queries_the_class_it_is_defined_on() -> None:
    usage = _usage(MODELS)
    by = {q.function: q for q in usage.queries}
    assert (by["by_title"].model, by["by_title"].model_ref, by["by_title"].equals) == ("Book", "app.models.Book", ("title",))
    assert (by["on_shelf"].model, by["on_shelf"].keyed) == ("Book", ("Book.shelf_id",))
    assert (by["same_title"].model, by["same_title"].filtered[0]) == ("Book", "Book.title")
    assert by["by_label"].model == "Lookups"  # the mixin's own name: no table is mapped by it
    assert "__init_subclass__" not in by  # cls is the subclass being made there, not Book
    other = "from app.db import Session\nclass Book:\n    @classmethod\n    def named(cls, t):\n" \
            "        return Session.query(cls).filter_by(title=t).one_or_none()\n"
    facts = facts_from_sources({"app/models.py": MODELS, "app/db.py": "Session = None\n", "app/views.py": other})
    # a class of the same name that maps no table (a view's, a schema's) is not the model
    assert sorted(q.function for q, _ in app_queries(facts)) == ["by_title", "on_shelf", "same_title"]


def test_a_name_bound_again_is_not_the_class() -> None:
    source = MODELS + '''
class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)

    @classmethod
    def first_of(cls, kinds):
        for cls in kinds:
            return Session.query(cls).first()
'''
    assert "first_of" not in {q.function for q in _usage(source).queries}


def test_filter_by_reads_the_keys_of_a_dict_it_can_see() -> None:
    source = MODELS + '''
def literal(title):
    return Session.query(Book).filter_by(**{"title": title, "label": "x"}).one_or_none()

def bound_once(title):
    keys = {"title": title}
    return Session.query(Book).filter_by(**keys).one_or_none()

def from_the_caller(**filters):
    return Session.query(Book).filter_by(**filters).one_or_none()

def built_in_steps(title, label):
    keys = {"title": title}
    if label:
        keys["label"] = label
    return Session.query(Book).filter_by(**keys).one_or_none()
'''
    by = {q.function: q for q in _usage(source).queries}
    assert (by["literal"].equals, by["literal"].opaque_filter) == (("label", "title"), False)
    assert (by["bound_once"].equals, by["bound_once"].opaque_filter) == (("title",), False)
    assert by["from_the_caller"].opaque_filter and by["from_the_caller"].equals == ()
    assert by["built_in_steps"].opaque_filter  # the dict is changed after it is made: its keys are not known


def test_the_rules_read_a_class_methods_queries() -> None:
    facts = facts_from_sources({"app/models.py": MODELS, "app/db.py": "Session = None\n",
                                "app/routes.py": "from app.models import Book\n"
                                                 "def show(title):\n    return Book.by_title(title)\n"})
    [one] = OneOrNoneOnNonUnique(facts).check()
    assert one.anchor == "function:app/models.py:by_title:Book:one-or-none" and "by title" in one.message
    fk = {f.anchor: f for f in ForeignKeyWithoutIndex(facts).check()}
    assert "the query at app/models.py:37 filters on it" in fk["table:books.shelf_id"].message
