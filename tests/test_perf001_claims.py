"""PERF001 (a foreign key with no index): claims kept to what dbreview checked (issue 7, round 13's classes), each
rebuilt as a small repository of our own: what it could not follow is named, a schema's scalar field is no read of a
relationship, a value given by a call leaves the test readable."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_perf001_reads import calls
from tests.test_precision import HEADER, found

KENNEL = HEADER + """
from sqlalchemy.orm import relationship

class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Dog(Base):
    __tablename__ = "dogs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    name: Mapped[str] = mapped_column(String)
"""


def _dog(findings):
    (f,) = [f for f in findings if f.anchor == "table:dogs.owner_id"]
    return f


def test_no_read_found_says_what_was_not_followed(tmp_path):
    """With no read by the key, the claim is about the queries dbreview could follow, and it names a query whose
    filter it could not read and SQL that names the table and the column."""
    plain = _dog(found(tmp_path / "a", {"app/models.py": KENNEL}, "PERF001"))
    assert plain.severity == Severity.INFO
    assert ("no query of the application that dbreview could follow filters or joins dogs on it, and no relationship "
            "loads dogs rows by it, so only the foreign key check") in plain.message
    assert "not followed" not in plain.message
    hidden = """
from sqlalchemy import select, text
from app.models import Dog
from app.filters import visible
def dogs(session, who):
    return session.scalars(select(Dog).where(visible(who))).all()
def raw(session, owner):
    return session.execute(text("SELECT id FROM dogs WHERE owner_id = :o"), {"o": owner}).all()
"""
    f = _dog(found(tmp_path / "b", {"app/models.py": KENNEL, "app/reads.py": hidden, "app/filters.py": "def visible(w):\n    return w\n",
                                    **calls("reads", "dogs", "raw")}, "PERF001"))
    assert f.severity == Severity.INFO and f.anchor == plain.anchor
    assert ("(not followed: 1 query of Dog with a filter it could not read or built elsewhere, the first at "
            "app/reads.py:6; SQL naming dogs and owner_id at app/reads.py:8, which it does not weigh as a read)") in f.message


PARK = KENNEL.replace('''    id: Mapped[int] = mapped_column(Integer, primary_key=True)
''', '''    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dogs = relationship("Dog")
''', 1)


def test_a_schema_field_of_a_scalar_type_is_no_read_of_a_relationship(tmp_path):
    """`dogs: str` on a pydantic schema holds a string, not Owner.dogs's rows: no read; `dogs: list[DogOut]` may be
    one (a schema read from the ORM object), as may be counted."""
    scalar = "from pydantic import BaseModel\nclass Summary(BaseModel):\n    dogs: str\n    total: int | None = None\n"
    f = _dog(found(tmp_path / "a", {"app/models.py": PARK, "app/schemas.py": scalar}, "PERF001"))
    assert f.severity == Severity.INFO
    assert "the relationship Owner.dogs loads its rows by it, but dbreview found no code that reads Owner.dogs" in f.message
    rows = "from pydantic import BaseModel\nclass DogOut(BaseModel):\n    name: str\nclass OwnerOut(BaseModel):\n    dogs: list[DogOut]\n"
    g = _dog(found(tmp_path / "b", {"app/models.py": PARK, "app/schemas.py": rows}, "PERF001"))
    assert g.severity == Severity.WARNING and "the relationship Owner.dogs loads its rows by it" in g.message


def test_a_value_given_by_a_call_leaves_the_test_readable(tmp_path):
    """`Dog.owner_id == current(user).id`: the call gives the value the key is compared with, so the read by owner_id
    is read (not "a condition dbreview could not read") and scans; a call that is the condition itself stays unread."""
    reads = """
from sqlalchemy import delete
from app.models import Dog
from app.who import current
def forget(session, user):
    session.execute(delete(Dog).where(Dog.owner_id == current(user).id, Dog.name == "rex"))
"""
    f = _dog(found(tmp_path / "a", {"app/models.py": KENNEL, "app/reads.py": reads, "app/who.py": "def current(u):\n    return u\n",
                                    **calls("reads", "forget")}, "PERF001"))
    assert f.severity == Severity.WARNING
    assert "the bulk delete at app/reads.py:6 filters on it, so each such read scans dogs" in f.message
