"""PERF001 (issue 7, fix10's classes): a warning only where the application's reads scan the table for want of an
index led by the key. Reads that come only with a parent's delete (the relationship load that deleting it through
the ORM makes) are as rare as the key check itself; reads that also compare a column another query needs an index
on anyway are served by that index. Both are info that say what decides the cost. Fixtures of our own."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_perf001_reads import calls
from tests.growing import found_growing as found
from tests.test_precision import HEADER

GARDEN = HEADER + """
from sqlalchemy.orm import relationship

class Bed(Base):
    __tablename__ = "beds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plants = relationship("Plant", cascade="all, delete-orphan")

class Plant(Base):
    __tablename__ = "plants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id"))
    name: Mapped[str] = mapped_column(String)
"""

REMOVE = """
from app.models import Bed
def remove(session, bed_id):
    bed = session.get(Bed, bed_id)
    session.delete(bed)
"""


def _plant(findings, anchor="table:plants.bed_id"):
    (f,) = [f for f in findings if f.anchor == anchor]
    return f


def test_a_relationship_loaded_only_by_deleting_its_parent_is_info(tmp_path):
    f = _plant(found(tmp_path / "a", {"app/models.py": GARDEN, "app/beds.py": REMOVE, **calls("beds", "remove")}, "PERF001"))
    assert f.severity == Severity.INFO
    assert ("the relationship Bed.plants loads its rows by it (deleting a Bed loads it: session.delete at app/beds.py:5), "
            "and dbreview found no other code that reads plants by it, so as far as dbreview can tell plants is scanned by "
            "it only when a row of beds is deleted (that load, and the foreign key check): what that costs depends on the "
            "table's size and on how often beds rows are deleted, which dbreview cannot know; reads in shapes dbreview "
            "does not follow") in f.message
    read = REMOVE + "def listing(session, bed_id):\n    bed = session.get(Bed, bed_id)\n    return bed.plants\n"
    g = _plant(found(tmp_path / "b", {"app/models.py": GARDEN, "app/beds.py": read, **calls("beds", "remove", "listing")},
                     "PERF001"))
    assert g.severity == Severity.WARNING and g.anchor == f.anchor  # read where no delete is made: a scan per read


COSTS = HEADER + """
class Kind(Base):
    __tablename__ = "kinds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Trip(Base):
    __tablename__ = "trips"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Cost(Base):
    __tablename__ = "costs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("kinds.id"))
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id"))
"""

COST_READS = """
from sqlalchemy import select
from app.models import Cost
def of_trip(session, trip_id):
    return session.scalars(select(Cost).where(Cost.trip_id == trip_id)).all()
def of_trip_and_kind(session, trip_id, kind_id):
    return session.scalars(select(Cost).where(Cost.trip_id == trip_id, Cost.kind_id == kind_id)).first()
"""


def test_a_read_served_by_the_index_another_query_needs_is_info(tmp_path):
    files = {"app/models.py": COSTS, "app/costs.py": COST_READS, **calls("costs", "of_trip", "of_trip_and_kind")}
    findings = found(tmp_path / "a", files, "PERF001")
    kind = _plant(findings, "table:costs.kind_id")
    assert kind.severity == Severity.INFO
    assert ("the query at app/costs.py:7 filters on it, but each such read also compares trip_id with a value, which no "
            "index leads either and which the query at app/costs.py:5 compares without kind_id: an index led by trip_id, "
            "which that query needs, serves these reads too; what an index led by kind_id alone adds is the foreign key "
            "check on deleting (or changing the key of) a row of kinds") in kind.message
    assert _plant(findings, "table:costs.trip_id").severity == Severity.WARNING  # the one that query needs
    alone = {**files, "app/costs.py": COST_READS.replace("Cost.trip_id == trip_id)).all()", "Cost.id == trip_id)).all()")}
    assert _plant(found(tmp_path / "b", alone, "PERF001"), "table:costs.kind_id").severity == Severity.WARNING


def test_self_attribute_of_another_class_is_no_read_of_the_relationship(tmp_path):
    """`self.plants` in a class that is neither the model, a base of it, nor a subclass: that class's own attribute."""
    layout = "class Layout:\n    def __init__(self, plants):\n        self.plants = plants\n\n" \
             "    def count(self):\n        if self.plants:\n            return len(self.plants)\n        return 0\n"
    f = _plant(found(tmp_path / "a", {"app/models.py": GARDEN, "app/layout.py": layout}, "PERF001"))
    assert f.severity == Severity.INFO and "no code that reads Bed.plants" in f.message
    mixin = "class Planted:\n    def count(self):\n        return len(self.plants)\n"
    models = GARDEN.replace("class Bed(Base):", "from app.planted import Planted\n\nclass Bed(Base, Planted):")
    g = _plant(found(tmp_path / "b", {"app/models.py": models, "app/planted.py": mixin}, "PERF001"))
    assert g.severity == Severity.WARNING  # a base of Bed: self may be a Bed


def test_a_relationship_its_own_class_reads_is_read_even_where_a_delete_loads_it(tmp_path):
    """`self.plants` in a method of Bed reads Bed.plants: a warning, not the delete-only info."""
    models = GARDEN.replace('''    plants = relationship("Plant", cascade="all, delete-orphan")
''', '''    plants = relationship("Plant", cascade="all, delete-orphan")

    def planted(self):
        return [p.name for p in self.plants]
''')
    f = _plant(found(tmp_path / "a", {"app/models.py": models, "app/beds.py": REMOVE, **calls("beds", "remove")}, "PERF001"))
    assert f.severity == Severity.WARNING and "dbreview found no other code" not in f.message
