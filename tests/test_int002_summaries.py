"""INT002 (an id without a foreign key) on two designs judges called a choice, not a defect (issue 7): a summary
table the code rebuilds by `INSERT INTO ... SELECT` from the rows that hold the ids, and a column the code sets
to or compares with 0, a sentinel ("every project") no row is, which a foreign key would refuse."""

from __future__ import annotations

from tests.test_precision import HEADER, found

MODELS = HEADER + """
class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class ProjectTotal(Base):
    __tablename__ = "project_totals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)

class Exclusion(Base):
    __tablename__ = "exclusions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope_project_id: Mapped[int] = mapped_column(Integer)
"""
REBUILD = '''
from sqlalchemy import text


def rebuild(conn):
    conn.execute(text("DELETE FROM project_totals"))
    conn.execute(text(
        "INSERT INTO project_totals (project_id, total) "
        "SELECT p.id, count(*) FROM projects p GROUP BY p.id"))


def excluded(conn):
    return conn.execute(text(
        "SELECT p.id FROM projects p JOIN exclusions e "
        "ON e.scope_project_id = p.id OR e.scope_project_id = 0")).all()
'''


def _int002(tmp_path, code: str) -> dict:
    return {f.anchor: f for f in found(tmp_path, {"app/models.py": MODELS, "app/totals.py": code}, "INT002")}


def test_a_summary_rebuilt_by_insert_select_and_a_sentinel_zero_are_no_finding(tmp_path):
    assert _int002(tmp_path, REBUILD) == {}


def test_rows_inserted_one_by_one_and_no_zero_are_still_findings(tmp_path):
    by_values = REBUILD.replace('"SELECT p.id, count(*) FROM projects p GROUP BY p.id"', '"VALUES (:project, :total)"')
    by_values = by_values.replace(" OR e.scope_project_id = 0", "")
    by = _int002(tmp_path, by_values)
    assert sorted(by) == ["table:exclusions.scope_project_id", "table:project_totals.project_id"]
    totals, scope = by["table:project_totals.project_id"], by["table:exclusions.scope_project_id"]
    assert totals.severity.value == "info" and totals.location.start_line == 18
    assert totals.message.startswith("project_totals.project_id looks like a reference but has no foreign key")
    assert scope.severity.value == "warning" and "the code compares it with a row's id in SQL (app/totals.py:15)" in scope.message
