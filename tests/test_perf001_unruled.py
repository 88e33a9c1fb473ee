"""PERF001 (a foreign key with no index) where dbreview finds no read by the key (issue 7, twelfth session's classes):
it says what it found and that reads in shapes it does not follow it cannot rule out, never that there is none; and it
follows one such shape, a model's class method that hands its keywords to its class's query (`get_or_create`)."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.s08_performance import UNRULED
from tests.growing import found_growing as found
from tests.test_perf001_reads import calls
from tests.test_precision import HEADER

YARD = HEADER + """
from sqlalchemy.orm import relationship

class Lookups:
    @classmethod
    def get_or_create(cls, **kwargs):
        found = cls.query.filter_by(**kwargs).first()
        if found is None:
            found = cls(**kwargs)
        return found

    @classmethod
    def scoped(cls, **kwargs):
        kwargs["kind"] = "pet"
        return cls.query.filter_by(**kwargs)

class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Dog(Lookups, Base):
    __tablename__ = "dogs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    owner = relationship("Owner")
    name: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
"""


def _dog(findings):
    (f,) = [f for f in findings if f.anchor == "table:dogs.owner_id"]
    return f


def test_no_read_found_is_said_as_found_not_as_none(tmp_path):
    """No read by the key found: the finding says what dbreview found and what scan it can show, and ends saying that
    reads in shapes it does not follow it cannot rule out (a model's own helper, here one that changes its keywords)."""
    scoped = "from app.models import Dog\ndef pets(session, who):\n    return Dog.scoped(owner=who).all()\n"
    f = _dog(found(tmp_path, {"app/models.py": YARD, "app/reads.py": scoped, **calls("reads", "pets")}, "PERF001"))
    assert f.severity == Severity.INFO and f.anchor == "table:dogs.owner_id"
    assert ("dogs.owner_id is a foreign key with no index; dbreview found no query of the application that filters or "
            "joins dogs on it, and no relationship that loads dogs rows by it, so the only scan of dogs by owner_id that "
            "dbreview can show is the foreign key check on deleting (or changing the key of) a row of owners") in f.message
    assert "only the foreign key check" not in f.message and f.message.endswith(UNRULED)
    assert "a model's own query helpers" in UNRULED and "it cannot rule out" in UNRULED


def test_a_class_method_that_hands_its_keywords_to_its_query_reads_by_them(tmp_path):
    """`Dog.get_or_create(owner=who)`, where get_or_create (a base class's) runs `cls.query.filter_by(**kwargs)`: the
    relationship's name as a keyword compares owner_id, a read that scans dogs: a warning that names the call; the
    same call in a test, or with only other keywords, is no read."""
    reads = "from app.models import Dog\ndef profile(session, who):\n    return Dog.get_or_create(owner=who, name='rex')\n"
    f = _dog(found(tmp_path / "a", {"app/models.py": YARD, "app/reads.py": reads, **calls("reads", "profile")}, "PERF001"))
    assert f.severity == Severity.WARNING and f.location.start_line == 33
    assert ("dogs.owner_id is a foreign key with no index: the call at app/reads.py:3 of Dog.get_or_create(), whose query "
            "filters by its keywords (app/models.py:16), filters on it (that read also compares name with a value, which no "
            "index leads either") in f.message and "so each such read scans dogs" in f.message
    assert ("app/reads.py", 3) in {(r.location.path, r.location.start_line) for r in f.related}
    named = reads.replace("owner=who, name='rex'", "name='rex'")
    g = _dog(found(tmp_path / "b", {"app/models.py": YARD, "app/reads.py": named, **calls("reads", "profile")}, "PERF001"))
    assert g.severity == Severity.INFO and "get_or_create" not in g.message
    h = _dog(found(tmp_path / "c", {"app/models.py": YARD, "tests/test_reads.py": reads}, "PERF001"))
    assert h.severity == Severity.INFO and "get_or_create" not in h.message


LEDGER = HEADER + """
from app.keys import primary_key

class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Report(Base):
    __tablename__ = "reports"
    id = primary_key("Report")
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
"""
KEYS = ("from sqlalchemy import Column, Integer\nKINDS = {'Report': Integer}\ndef primary_key(name):\n"
        "    column = Column(KINDS[name], primary_key=True)\n    return column\n")  # through a name: not read


def test_a_read_that_also_compares_an_attribute_dbreview_found_no_column_of_is_no_sure_scan(tmp_path):
    """`Report.id == i, Report.org_id == o` where a helper of the project's declares id (`id = primary_key("Report")`,
    which dbreview does not read: it returns its column through a name): the primary key may find the row; dbreview
    says it cannot tell, an info, not a warning that the read scans reports; without that test the read scans."""
    reads = ("from app.models import Report\ndef one(session, i, o):\n"
             "    return session.query(Report).filter(Report.id == i, Report.org_id == o).one()\n")
    files = {"app/models.py": LEDGER, "app/keys.py": KEYS, "app/reads.py": reads, **calls("reads", "one")}
    (f,) = found(tmp_path / "a", files, "PERF001")
    assert f.anchor == "table:reports.org_id" and f.severity == Severity.INFO
    assert ("the query at app/reads.py:3 filters on it, and it also compares id with a value, which dbreview found no "
            "column of in Report (a helper or a base class it could not read may declare one): whether an index leads it, "
            "dbreview cannot tell, so the foreign key check on deleting (or changing the key of) a row of orgs scans "
            "reports, as does that read unless an index leads id") in f.message
    (g,) = found(tmp_path / "b", {**files, "app/reads.py": reads.replace("Report.id == i, ", "")}, "PERF001")
    assert g.severity == Severity.WARNING and "so each such read scans reports" in g.message
