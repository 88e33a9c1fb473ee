"""`__tablename__ = JOBS_TABLE` where the string is a constant of another module: the class is mapped to that table,
and a joined-table subclass's table holds only its own columns (czgenepi's Workflow, `__tablename__ =
_WORKFLOW_TABLENAME` imported from entity.py, judged wrong: its subclasses' tables were said to miss the base's columns,
and PERF001 gave them its foreign keys)."""

from __future__ import annotations

import pytest

from tests.test_precision import found, revision

NAMES = 'JOBS_TABLE = "jobs"\n'

MODELS = '''
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase

from app.tables import JOBS_TABLE


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owners"
    id = Column(Integer, primary_key=True)


class Job(Base):
    __tablename__ = JOBS_TABLE
    id = Column(Integer, primary_key=True)
    kind = Column(String, nullable=False)
    owner_id = Column(Integer, ForeignKey(Owner.id), nullable=False)
    __mapper_args__ = {"polymorphic_on": kind}


class ExportJob(Job):
    __tablename__ = "export_jobs"
    __mapper_args__ = {"polymorphic_identity": "export"}
    job_id = Column(Integer, ForeignKey(Job.id), primary_key=True)
'''

CREATE = revision('''
op.create_table("owners", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("jobs", sa.Column("id", sa.Integer, primary_key=True), sa.Column("kind", sa.String, nullable=False),
                sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id"), nullable=False))
op.create_table("export_jobs", sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), primary_key=True))
''')


def _files(imported_from: str) -> dict[str, str]:
    return {"app/__init__.py": "", "app/names.py": NAMES, "app/tables/__init__.py": "from app.names import JOBS_TABLE\n",
            "app/models.py": MODELS.replace("app.tables", imported_from), "alembic/versions/0001_jobs.py": CREATE}


@pytest.mark.parametrize("imported_from", ["app.names", "app.tables"])  # its module, or a package that re-exports it
def test_a_joined_subclass_of_a_table_named_by_an_imported_constant_misses_no_column(tmp_path, imported_from):
    files = _files(imported_from)
    assert found(tmp_path, files, "MIG006") == []
    assert [f.message.split(" ", 1)[0] for f in found(tmp_path, files, "PERF001")] == ["jobs.owner_id"]
