"""MIG011 (a change makes PostgreSQL rewrite a table) where a revision changes types through a helper of its own
(`def alter(table, column, type_): op.alter_column(table, column, type_=type_)`): the type read is the one its
caller passes, not the parameter's name; a character column given another collation rewrites nothing."""

from __future__ import annotations

from tests.test_precision import found, revision

FIRST = revision('op.create_table("files", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String()), '
                 'sa.Column("size", sa.Integer()))')
HELPER = '''
def alter(table, column, type_):
    op.alter_column(table, column, type_=type_)
'''


def _later(upgrade: str) -> dict[str, str]:
    later = revision(upgrade, rev="0002", down="0001").replace("def upgrade():", HELPER + "def upgrade():")
    return {"migrations/versions/0001_a.py": FIRST, "migrations/versions/0002_b.py": later}


def test_a_collation_through_a_helper_rewrites_nothing(tmp_path):
    files = _later('alter("files", "name", type_=sa.String(collation="C"))')
    assert found(tmp_path, files, "MIG011") == []


def test_a_type_through_a_helper_is_the_callers(tmp_path):
    (f,) = found(tmp_path, _later('alter("files", "size", type_=sa.BigInteger())'), "MIG011")
    assert f.anchor == "migration:0002:type:files.size" and f.severity.value == "info"
    assert "changes the type of files.size from Integer to sa.BigInteger(); files exists since revision 0001" in f.message
