"""SQLModel's `Field(sa_column=made_column())`: the column is the Column the function returns, not one typed by the
field's annotation (minute's created_datetime_column(), judged wrong: 'timezone-aware in the migration only')."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import found, revision

HELPERS = '''
from sqlalchemy import TIMESTAMP, Column
from sqlalchemy.sql.functions import now


def stamped_column():
    return Column(TIMESTAMP(timezone=True), nullable=False, server_default=now())
'''

MODELS = '''
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.columns import stamped_column


def local_stamp():
    return {column}


class Note(SQLModel, table=True):
    __tablename__ = "note"
    id: int = Field(primary_key=True)
    made_at: datetime = Field(sa_column={call}, default=None)
'''

CREATE = revision(
    'op.create_table("note", sa.Column("id", sa.Integer, primary_key=True),'
    ' sa.Column("made_at", sa.TIMESTAMP(timezone=True), server_default=sa.func.now(), nullable=False))',
    'op.drop_table("note")')


def _files(call: str, column: str = "None") -> dict[str, str]:
    return {"app/__init__.py": "", "app/columns.py": HELPERS, "app/models.py": MODELS.format(call=call, column=column),
            "alembic/versions/0001_note.py": CREATE}


def test_an_imported_function_s_aware_column_agrees_with_an_aware_migration(tmp_path):
    assert found(tmp_path, _files("stamped_column()"), "MIG006") == []


def test_a_function_of_the_module_is_read_too_and_its_naive_column_is_drift(tmp_path):
    files = _files("local_stamp()", "Column(TIMESTAMP, nullable=False)")
    files["app/models.py"] = "from sqlalchemy import TIMESTAMP, Column\n" + files["app/models.py"]
    (f,) = found(tmp_path, files, "MIG006")
    assert f.severity == Severity.WARNING and f.location.start_line == 17
    assert f.message.startswith("note.made_at is timezone-aware in the migration only")


def test_a_function_dbreview_cannot_follow_claims_no_type(tmp_path):
    files = _files("external_stamp()")
    files["app/models.py"] = "from vendorlib import external_stamp\n" + files["app/models.py"]
    assert found(tmp_path, files, "MIG006") == []
