"""PostgreSQL enum types a revision's upgrade makes and its downgrade leaves behind (MIG002). Alembic's
`op.create_table` makes a native `Enum(..., name="x")` column's type (CREATE TYPE, without checking first) and
`op.drop_table` drops only the table: after the downgrade the next upgrade fails with `type "x" already exists`.
Said only where dbreview reads the whole downgrade: every call in it is Alembic's or SQLAlchemy's (a helper of
the project, a variable's `.drop(bind)` or a connection's SQL may drop the type), it names no DROP TYPE, and the
type's name appears nowhere in it."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.model import Facts, MigrationOp, RevisionFact, Span

_NATIVE = ("Enum", "ENUM")
# `CREATE TYPE [schema.]name AS ENUM`: the type made by SQL; a DO block that catches duplicate_object is not run twice
_CREATE_TYPE = re.compile(r'\bCREATE\s+TYPE\s+(?:"?\w+"?\.)?"?(\w+)"?\s+AS\s+ENUM\b', re.I)
_DROP_TYPE = re.compile(r"\bDROP\s+TYPE\b", re.I)
_DROPPED = re.compile(r'\bDROP\s+TYPE\s+(?:IF\s+EXISTS\s+)?((?:"?[\w.]+"?\s*,\s*)*"?[\w.]+"?)', re.I)
# Calls a downgrade may make that cannot drop a type: Alembic's operations, SQLAlchemy's constructors, builtins.
_PLAIN_OWNERS = ("op", "sa", "sqlalchemy", "postgresql", "mysql", "sqlite", "batch_op", "context")
_PLAIN_NAMES = ("print", "range", "reversed", "len", "list", "tuple", "dict", "str", "int", "text", "Column",
                "Integer", "String", "Text", "Boolean", "DateTime", "Enum", "ENUM")


@dataclass(frozen=True, slots=True)
class LeftType:
    name: str
    table: str  # the table whose drop in the downgrade leaves it
    made: Span  # where the upgrade makes it (the column, or the SQL)
    dropped: Span  # the downgrade's drop_table


def left_types(facts: Facts, rev: RevisionFact, others: dict[str, int]) -> list[LeftType]:
    """The enum types `rev`'s upgrade makes that its downgrade leaves behind, each once. `others`: how many
    revisions make each type name (a name two revisions make is shared, and not said of either), or drop it in
    their upgrade (a later revision that does away with the type: downgraded from there, nothing is left)."""
    made = made_types(rev)
    if not made:
        return []
    down = _function(facts, rev.path, "downgrade")
    if down is None or not _plain(down):
        return []
    if any(op.name == "unread" or op.name == "execute" and (op.sql is None or op.sql.text is None) for op in rev.downgrade):
        return []
    text = "\n".join([ast.unparse(down), *(op.sql.text or "" for op in rev.downgrade if op.sql is not None)])
    if _DROP_TYPE.search(text):
        return []
    out = []
    for name, (span, tables) in made.items():
        if others.get(name, 0) > 1 or re.search(rf"\b{re.escape(name)}\b", text):
            continue
        drop = next((op for op in rev.downgrade if op.name == "drop_table" and op.table in tables
                     and not op.guarded and not op.not_postgres), None)
        if drop is not None:
            out.append(LeftType(name, drop.table or "", span, drop.span))
    return out


def dropped_types(rev: RevisionFact) -> set[str]:
    """The types `rev`'s upgrade drops by SQL (`DROP TYPE IF EXISTS "x"`), by name without schema or quotes."""
    out: set[str] = set()
    for op in rev.upgrade:
        text = op.sql.text if op.sql is not None and op.sql.text else ""
        for m in _DROPPED.finditer(text):
            out.update(n.strip().strip('"').rpartition(".")[2].strip('"') for n in m.group(1).split(","))
    return out


def made_types(rev: RevisionFact) -> dict[str, tuple[Span, set[str]]]:
    """Each enum type `rev`'s upgrade makes on PostgreSQL: its name -> (where, the tables of the upgrade with a
    column of it)."""
    made: dict[str, tuple[Span, set[str]]] = {}
    users: dict[str, set[str]] = {}
    for op in rev.upgrade:
        if op.guarded or op.not_postgres:
            continue
        if op.name == "create_table" and op.table:
            for col in op.columns:
                name = _enum_name(col.type_name, col.type_args)
                if name is None:
                    continue
                users.setdefault(name, set()).add(op.table)
                if col.type_args.get("create_type") != "False":
                    made.setdefault(name, (col.span, set()))
        for name in _sql_types(op):
            made.setdefault(name, (op.span, set()))
    return {name: (span, users.get(name, set())) for name, (span, _) in made.items()}


def _enum_name(type_name: str | None, args: dict[str, str]) -> str | None:
    if type_name not in _NATIVE or args.get("native_enum") == "False" or args.get("unresolved"):
        return None
    try:
        name = ast.literal_eval(args.get("name") or "")
    except (ValueError, SyntaxError):
        return None
    return name if isinstance(name, str) and name.isidentifier() else None


def _sql_types(op: MigrationOp) -> list[str]:
    sql = op.sql
    if sql is None or sql.text is None or sql.formatted or re.search(r"\bEXCEPTION\b|\$\$", sql.text, re.I):
        return []
    return _CREATE_TYPE.findall(sql.text)


def _function(facts: Facts, path: str, name: str) -> ast.FunctionDef | None:
    try:
        tree = ast.parse("\n".join(facts.lines(Span(path, 1, 1_000_000))))
    except SyntaxError:
        return None
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _plain(func: ast.FunctionDef) -> bool:
    """Whether every call of the downgrade is Alembic's, SQLAlchemy's or a builtin, and none is a `.drop(bind)`
    (`sa.Enum(...).drop(bind)`, `status_enum.drop(bind)`): nothing else in it can drop a type."""
    for node in ast.walk(func):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr == "drop":
            return False
        root = node.func
        while isinstance(root, (ast.Attribute, ast.Call)):
            root = root.value if isinstance(root, ast.Attribute) else root.func
        if not (isinstance(root, ast.Name) and (root.id in _PLAIN_OWNERS or root is node.func and root.id in _PLAIN_NAMES)):
            return False
    return True
