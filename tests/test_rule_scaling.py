"""The indexes that keep the rules linear in tables + migrations answer what a full walk answers.

`synthetic_sources` builds a target of many tables and revisions (bench/rules.py times the rules on a
large one); here a small one is enough to compare every indexed look-up with the walk it replaces.
Nothing here measures time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from analyzers.examples import facts_from_sources
from analyzers.facts.effects import TABLE_SQL
from analyzers.facts import names as names_module
from analyzers.facts.names import Names, module_name
from analyzers.facts.newer_syntax import parse_python
from analyzers.rules.schema import has_check, migration_sql, table_sql, unread_sql

MODELS_PER_FILE = 50

_HEADER = '''
import uuid
from sqlalchemy import ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass
'''


def table_name(i: int) -> str:
    # Every fifth table is about billing (BIL003 reads its owner_type), every seventh holds patients' records.
    kind = "billing_entries" if i % 5 == 0 else "patient_notes" if i % 7 == 0 else "records"
    return f"{kind}_{i:05d}"


def _model(i: int) -> str:
    return f'''

class Model{i:05d}(Base):
    __tablename__ = "{table_name(i)}"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    settings: Mapped[dict] = mapped_column(JSONB)
'''


def _upgrade_sql(i: int) -> str:
    """What one revision's op.execute runs for table i: RLS on most tables, a CHECK on some, a GIN index on
    others."""
    t = table_name(i)
    parts = []
    if i % 3:
        parts += [f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
                  f"CREATE POLICY tenant ON {t} USING (organization_id = current_setting('app.current_tenant_id')::uuid)"]
    if i % 4 == 0:
        parts.append(f"ALTER TABLE {t} ADD CONSTRAINT ck_{t}_status CHECK (status IN ('OPEN', 'CLOSED'))")
    if i % 6 == 0:
        parts.append(f"CREATE INDEX ix_{t}_settings ON {t} USING gin (settings)")
    return ";\n".join(parts) + ";" if parts else "SELECT 1;"


def _revision(r: int, tables: list[int]) -> str:
    ops = []
    for i in tables:
        ops.append(
            f'    op.create_table("{table_name(i)}", sa.Column("id", sa.Uuid(), primary_key=True),\n'
            f'                    sa.Column("organization_id", sa.Uuid(), nullable=False),\n'
            f'                    sa.Column("status", sa.String(20)), sa.Column("owner_type", sa.String(20)),\n'
            f'                    sa.Column("owner_id", sa.Uuid()), sa.Column("settings", JSONB()))\n'
            f'    op.create_index("ix_{table_name(i)}_org", "{table_name(i)}", ["organization_id"])\n'
            f'    op.execute("""{_upgrade_sql(i)}""")'
        )
        if i % 11 == 0:  # SQL pglast rejects, about this table: unread
            ops.append(f'    op.execute("ALTER TABLE {table_name(i)} FROBNICATE")')
        if i % 13 == 5:  # a value spliced in at run time: unread, and it may concern any table
            ops.append(f'    op.execute(f"GRANT SELECT ON {table_name(i)} TO {{role()}}")')
    if r % 25 == 20:
        ops.append("    op.execute(STATEMENTS)  # built elsewhere: unread")
    if r == 0:  # a table only SQL knows
        ops.append('    op.execute("CREATE TABLE sql_only_log (id uuid PRIMARY KEY, note text); '
                   'ALTER TABLE sql_only_log ENABLE ROW LEVEL SECURITY")')
    down = "None" if r == 0 else f'"{r - 1:04x}"'
    return (
        f'"""revision {r}"""\nfrom alembic import op\nimport sqlalchemy as sa\n'
        f"from sqlalchemy.dialects.postgresql import JSONB\n"
        f'STATEMENTS = []\nrevision = "{r:04x}"\ndown_revision = {down}\n\n\ndef upgrade():\n'
        + "\n".join(ops) + "\n\n\ndef downgrade():\n    pass\n"
    )


def synthetic_sources(tables: int, revisions: int) -> dict[str, str]:
    """A target of `tables` models (MODELS_PER_FILE to a module) and `revisions` Alembic revisions in one
    chain that create them and set up RLS, CHECKs and GIN indexes in SQL (revision r handles tables r,
    r + revisions, r + 2 * revisions ...)."""
    files: dict[str, str] = {}
    for start in range(0, tables, MODELS_PER_FILE):
        body = "".join(_model(i) for i in range(start, min(start + MODELS_PER_FILE, tables)))
        files[f"app/models/m{start // MODELS_PER_FILE:03d}.py"] = _HEADER + body
    for r in range(revisions):
        files[f"migrations/versions/{r:04d}_rev.py"] = _revision(r, list(range(r, tables, revisions)))
    return files


# -- the walks the indexes replace, as the rules wrote them ------------------------------------------------

def _walk_unread_sql(facts, table=None):
    out = []
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.name != "execute":
                continue
            if op.sql is None or not op.sql.statements:
                out.append(op.span)
                continue
            for st in op.sql.statements:
                kind, text, known = st.kind, st.text, st.table
                if st.kind == "dynamic_sql" and "template" in st.details:
                    kind, text, known = st.details["template"], st.details["template_text"], st.details["template_table"]
                if kind == "dynamic_sql":
                    concerns = True
                elif kind == "unparsed" or st.details.get("unparsed"):
                    concerns = table is None or table in text
                elif ("{?}" in text or st.kind == "dynamic_sql") and kind in TABLE_SQL:  # not an UPDATE, not a role
                    if kind in ("grant", "revoke") and not known and "TABLE" not in text.upper():
                        continue
                    if kind == "drop" and st.details.get("type", "OBJECT_TABLE") != "OBJECT_TABLE" and st.kind != "dynamic_sql":
                        continue
                    known = known if known and "dbreview_dynamic" not in known else None
                    concerns = table is None or known in (None, table)
                else:
                    continue
                if concerns:
                    out.append(st.span)
    return out


def _walk_has_check(facts, table, column):
    constraints = list(table.constraints)
    if table.name in facts.migration_tables:
        constraints += facts.migration_tables[table.name].constraints
    return any(c.kind == "check" and column in (c.expression or "") for c in constraints) or any(
        st.table == table.name and "CHECK" in st.text.upper() and column in st.text for st in facts.migration_sql
    )


@pytest.fixture(scope="module")
def facts():
    return facts_from_sources(synthetic_sources(tables=60, revisions=24))


def test_synthetic_target_holds_what_the_indexes_serve(facts):
    """A comparison over an empty index proves nothing: the target has tables, revisions, per-table SQL,
    CHECKs in SQL, GIN indexes and unread SQL of both kinds."""
    assert len(facts.tables) == 60 and len(facts.revisions) == 24
    kinds = {st.kind for st in facts.migration_sql}
    assert {"enable_rls", "create_policy", "create_index", "alter_table", "unparsed"} <= kinds
    assert any(op.name == "execute" and not (op.sql and op.sql.statements) for r in facts.revisions for op in r.upgrade)
    assert any("{?}" in st.text for st in facts.migration_sql)
    assert 0 < len(unread_sql(facts)) < len(facts.migration_sql)


def test_indexed_statements_are_the_full_walk(facts):
    index = migration_sql(facts)
    assert index.statements == facts.migration_sql
    names = set(facts.tables) | set(facts.migration_tables) | {st.table for st in facts.migration_sql if st.table}
    assert names - set(facts.tables), "statements on tables no model declares are indexed too"
    for name in sorted(names) + ["no_such_table"]:
        walked = [st for st in facts.migration_sql if st.table == name]
        assert list(table_sql(facts, name)) == walked
        assert all(a is b for a, b in zip(table_sql(facts, name), walked))
    assert sum(len(v) for v in index.by_table.values()) == sum(1 for st in facts.migration_sql if st.table)


def test_unread_sql_by_table_is_the_full_walk(facts):
    assert unread_sql(facts) == _walk_unread_sql(facts)
    for name in sorted(facts.tables) + ["records", "no_such_table", ""]:
        assert unread_sql(facts, name) == _walk_unread_sql(facts, name), name
        assert unread_sql(facts, name) == _walk_unread_sql(facts, name), "asked twice: the same answer"
    specific = [t for t in facts.tables if len(unread_sql(facts, t)) > len(unread_sql(facts, "no_such_table"))]
    assert specific, "some unread SQL names a table, so the per-table answers differ"


def test_has_check_is_the_full_walk(facts):
    answers = []
    for table in facts.tables.values():
        for column in table.columns:
            answers.append(has_check(facts, table, column))
            assert answers[-1] == _walk_has_check(facts, table, column), (table.name, column)
    assert True in answers and False in answers


def test_index_follows_a_new_list_of_revisions(facts):
    """Facts are not changed once linked; should a caller replace the revisions, the index is rebuilt."""
    other = facts_from_sources(synthetic_sources(tables=4, revisions=2))
    before = migration_sql(other)
    assert migration_sql(other) is before
    other.revisions = other.revisions[:1]
    assert migration_sql(other) is not before
    assert migration_sql(other).statements == other.migration_sql


# -- Names: imports found by walking statements only ------------------------------------------------------

_NESTED = '''
import os
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from sqlalchemy.orm import Session
elif os.environ.get("X"):
    import json as j
else:
    from . import sibling
try:
    import ujson as j
except ImportError:
    try:
        import simplejson as j
    except ImportError:
        from json import loads as j
else:
    from sqlalchemy import text
finally:
    from sqlalchemy import DateTime as DT
with open(__file__) as fh:
    from sqlalchemy import Column
for _ in range(1):
    from sqlalchemy import Integer
else:
    from sqlalchemy import String
while False:
    import decimal
async def f():
    async with x:
        from sqlalchemy.ext.asyncio import AsyncSession
    async for y in z:
        import asyncio as aio
def g():
    from sqlalchemy import text  # a function's own import, as ast.walk found it
    lam = lambda: __import__("x")
    class Inner:
        from sqlalchemy import Text as DT
match os.name:
    case "nt":
        import ntpath as p
    case _:
        import posixpath as p
class Model:
    from sqlalchemy import Float
'''


def _names_by_ast_walk(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """Names as they were read before: every node of the tree (ast.walk) when a module has a top-level
    if/try."""
    real = names_module.all_statements
    names_module.all_statements = ast.walk
    try:
        return Names(tree, module, is_package).aliases
    finally:
        names_module.all_statements = real


def test_names_finds_the_imports_ast_walk_found():
    tree = ast.parse(_NESTED)
    found = Names(tree, "app.models", False).aliases
    assert list(found.items()) == list(_names_by_ast_walk(tree, "app.models", False).items())
    assert found["Session"] == "sqlalchemy.orm.Session" and found["sibling"] == "app.sibling"
    assert found["DT"] == "sqlalchemy.Text"  # the last binding in ast.walk's order wins, as before
    assert found["p"] == "posixpath" and found["aio"] == "asyncio" and found["AsyncSession"].endswith("AsyncSession")


def test_names_on_real_modules_match_ast_walk():
    root = Path(__file__).resolve().parent.parent
    paths = sorted((root / "analyzers").rglob("*.py")) + sorted((root / "tests").rglob("*.py"))
    nested = 0
    for path in paths:
        tree = parse_python(path.read_text(encoding="utf-8"))  # our fixtures hold Python newer than 3.11
        if not any(isinstance(n, (ast.If, ast.Try)) for n in tree.body):
            continue
        nested += 1
        module, is_package = module_name(str(path.relative_to(root)))
        assert Names(tree, module, is_package).aliases == _names_by_ast_walk(tree, module, is_package), path
    assert nested
