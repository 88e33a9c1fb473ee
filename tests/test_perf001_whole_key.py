"""PERF001 (a foreign key with no index): a join that ties the foreign key to another table's column, and the leading
column of a key that holds it after others to the same table (the whole key, in any order, or its leading columns),
finds its rows through that key, not by a scan (issue 7); one that ties the key's later columns but not its leading
one still scans."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_perf001_reads import calls
from tests.growing import found_growing as found
from tests.test_precision import HEADER

PLAYBOOK = HEADER + """
from sqlalchemy import UniqueConstraint

class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Stage(Base):
    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("tenant", "plan_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[int] = mapped_column(Integer)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    position: Mapped[int] = mapped_column(Integer)

class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    tenant: Mapped[int] = mapped_column(Integer)
    plan: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
"""

WHOLE = """
import sqlalchemy as sa
from app.models import Run, Stage
def due(session, run_id):
    return session.execute(sa.select(Run, Stage).join(Stage, sa.and_(Stage.plan_id == Run.plan, Stage.position == Run.position,
                                                                      Stage.tenant == Run.tenant))).all()
"""


def _stage(tmp_path, reads: str):
    files = {"app/models.py": PLAYBOOK, "app/reads.py": reads, **calls("reads", "due")}
    (f,) = [f for f in found(tmp_path, files, "PERF001") if f.anchor == "table:stages.plan_id"]
    return f


def test_a_join_that_pins_every_column_of_a_unique_key_reads_through_it(tmp_path):
    f = _stage(tmp_path, WHOLE)
    assert f.severity == Severity.INFO and "scans stages, as does" not in f.message
    assert "also tests tenant, which the unique constraint" in f.message and "not by a scan of stages" in f.message


def test_a_join_that_pins_the_key_but_not_its_leading_column_still_scans(tmp_path):
    f = _stage(tmp_path, WHOLE.replace(",\n" + " " * 70 + "Stage.tenant == Run.tenant", ""))
    assert "Stage.tenant" not in WHOLE.replace(",\n" + " " * 70 + "Stage.tenant == Run.tenant", "")
    assert f.severity == Severity.WARNING
    assert "joins stages through it, so each such read scans stages" in f.message
