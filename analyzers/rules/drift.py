"""Where a model and the table its migrations build disagree column by column: the SQL type, NULL or NOT NULL,
the indexes and unique constraints the model declares (MIG006 reports them). Only what both sides spell out
is compared: a type dbreview cannot resolve (a TypeDecorator that picks its type per dialect, a library's
type, an Enum that may be VARCHAR), a column made by SQL it only knows by name, or a table whose migrations
hold something it could not read gives no finding."""

from __future__ import annotations

import re
from typing import Iterator

from analyzers.facts.model import ColumnFact, Facts, Span, TableFact
from analyzers.rules.schema import table_sql

# SQL types by family: within a family the difference is a length or a spelling (String vs Text, JSON vs
# JSONB, Integer vs BigInteger), which autogenerate and reviewers treat apart; across families the column
# holds another kind of value.
_FAMILIES = {
    "string": ("String", "VARCHAR", "Unicode", "NVARCHAR", "CHAR", "NCHAR", "Text", "TEXT", "UnicodeText", "AutoString",
               "CITEXT", "CIText"),
    "uuid": ("UUID", "Uuid"),
    "integer": ("Integer", "INTEGER", "INT", "BigInteger", "BIGINT", "SmallInteger", "SMALLINT"),
    "numeric": ("Numeric", "NUMERIC", "DECIMAL"),
    "float": ("Float", "FLOAT", "REAL", "DOUBLE", "DOUBLE_PRECISION", "Double"),
    "boolean": ("Boolean", "BOOLEAN"),
    "timestamp": ("DateTime", "TIMESTAMP", "DATETIME"),
    "date": ("Date", "DATE"),
    "time": ("Time", "TIME"),
    "interval": ("Interval", "INTERVAL"),
    "json": ("JSON", "JSONB"),
    "binary": ("LargeBinary", "BYTEA", "BLOB", "BINARY", "VARBINARY"),
    "inet": ("INET", "CIDR"),
    "array": ("ARRAY",),
}
_FAMILY = {name: family for family, names in _FAMILIES.items() for name in names}
_TYPE_WORDS = {"string": "text", "uuid": "UUID", "integer": "integer", "numeric": "NUMERIC", "float": "floating point",
               "boolean": "boolean", "timestamp": "timestamp", "date": "date", "time": "time", "interval": "interval",
               "json": "JSON", "binary": "binary", "inet": "INET", "array": "ARRAY"}


def family(c: ColumnFact, model: bool) -> str | None:
    """The family of a column's type, or None when it cannot be told for certain."""
    args = c.type_args
    if args.get("unresolved") or (model and c.type_ref):
        return None  # a library's type, an alias or a TypeDecorator dbreview could not follow
    name = args.get("impl", c.type_name)
    if model and args.get("annotated") and c.py_type in ("list", "dict", "List", "Dict"):
        return None  # a collection annotation: the base's type_annotation_map usually decides (ARRAY, JSONB)
    return _FAMILY.get(name or "")


def type_drift(model: TableFact, col: ColumnFact, other: ColumnFact) -> str | None:
    mine, theirs = family(col, True), family(other, False)
    if mine is None or theirs is None or mine == theirs:
        return None
    if col.type_args.get("annotated") and (model.unknown_bases or col.foreign_keys):
        return None  # typed by its annotation only: a base's map, or the referenced column, may decide
    return (f"{model.name}.{col.name} is {_TYPE_WORDS[mine]} in the model ({col.type_args.get('impl', col.type_name)}) "
            f"but {_TYPE_WORDS[theirs]} in the migrations ({other.type_name}, {other.span.path}:{other.span.start}): "
            "the values the ORM binds are not those the column holds, and autogenerate will propose to alter the type")


def sql_touches(facts: Facts, table: str, column: str) -> bool:
    """Migration SQL that may change the column in a way the replay does not follow (ALTER COLUMN ... TYPE,
    SET NOT NULL, DROP NOT NULL)."""
    word = re.compile(rf"\b{re.escape(column)}\b")
    return any(st.kind in ("alter_table", "other", "unparsed") and word.search(st.text) for st in table_sql(facts, table))


def nullability_drift(model: TableFact, db: TableFact, facts: Facts) -> Iterator[tuple[ColumnFact, ColumnFact, bool]]:
    """(model column, migrated column, NULL allowed in the model) for each column whose NULL-ness differs."""
    for col in model.columns.values():
        other = db.columns.get(col.name)
        if other is None or col.primary_key or other.primary_key or other.type_name is None or col.from_library:
            continue
        if col.nullable is None and (model.unknown_bases or col.type_args.get("unresolved")):
            continue  # what the model implies rests on a type or base dbreview could not read
        if any(x is not None for x in (col.default, col.server_default, other.default, other.server_default)):
            continue  # a default fills it: the difference shows only when NULL is written on purpose
        if col.is_nullable != other.is_nullable and not sql_touches(facts, model.name, col.name):
            yield col, other, col.is_nullable


def _identifiers(columns: tuple[str, ...]) -> bool:
    return bool(columns) and all(c.isidentifier() for c in columns)


def _migrated_keys(facts: Facts, db: TableFact) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(every index and key the migrations build, the unique ones), as column tuples."""
    indexes: list[tuple[str, ...]] = []
    unique: list[tuple[str, ...]] = []
    for c in db.columns.values():
        if c.unique or c.primary_key:
            unique.append((c.name,))
        if c.index:
            indexes.append((c.name,))
    pk = tuple(c.name for c in db.columns.values() if c.primary_key)
    if pk:
        unique.append(pk)
    for con in db.constraints:
        if con.kind in ("unique", "primary_key"):
            unique.append(con.columns)
    for ix in db.indexes:
        (unique if ix.unique and not ix.where_python else indexes).append(ix.columns)
    for st in table_sql(facts, db.name):
        if st.kind == "create_index":
            cols = tuple(st.details.get("columns") or ())  # type: ignore[arg-type]
            (unique if st.details.get("unique") else indexes).append(cols)
    return indexes + unique, unique


def _names_in_migrations(facts: Facts) -> dict[str, set[str]]:
    """Every string quoted in a revision file, once: a name an index or constraint has there is built
    by some migration, even in a form the replay does not follow (a helper function, a loop over a
    dict). Per kind of quote, the pieces between consecutive ones: `"name"` occurs in the text exactly
    when `name` (holding no `"`) is one of them; sets, as hundreds of revisions are megabytes."""
    names = facts.derived.get("migration_names")
    if names is None:
        text = "\n".join(
            line for path in dict.fromkeys(r.path for r in facts.revisions) for line in facts.lines(Span(path, 1, 10**9)))
        names = facts.derived["migration_names"] = {q: set(text.split(q)[1:-1]) for q in "\"'"}
    return names  # type: ignore[return-value]


def _named(facts: Facts, name: str | None) -> bool:
    return bool(name) and any(q not in name and name in quoted for q, quoted in _names_in_migrations(facts).items())


def missing_keys(model: TableFact, db: TableFact, facts: Facts) -> list[tuple[Span, str, bool]]:
    """What the model declares indexed or unique that the migrations never build: (where, what, unique?)."""
    every, unique = _migrated_keys(facts, db)
    leads = {k[0] for k in every if k}
    unique_sets = [set(k) for k in unique]
    out: list[tuple[Span, str, bool]] = []
    for col in model.columns.values():
        if col.primary_key or col.name not in db.columns or col.from_library:
            continue
        if _named(facts, f"ix_{model.name}_{col.name}") or _named(facts, f"uq_{model.name}_{col.name}"):
            continue
        if col.unique and {col.name} not in unique_sets:
            out.append((col.span, f"unique {col.name}", True))
        elif col.index and not col.unique and col.name not in leads:
            out.append((col.span, f"index on {col.name}", False))
    for ix in model.indexes:
        cols = ix.columns
        if not _identifiers(cols) or any(c not in db.columns for c in cols) or ix.where_python or _named(facts, ix.name):
            continue
        if ix.unique and set(cols) not in unique_sets:
            out.append((ix.span, f"unique index {ix.name or ''} ({', '.join(cols)})".replace("  ", " "), True))
        elif not ix.unique and not any(set(k) == set(cols) or k[: len(cols)] == cols for k in every):
            out.append((ix.span, f"index {ix.name or ''} ({', '.join(cols)})".replace("  ", " "), False))
    for con in model.constraints:
        cols = con.columns
        if con.kind == "unique" and not _named(facts, con.name) and _identifiers(cols) and all(c in db.columns for c in cols) and set(cols) not in unique_sets:
            out.append((con.span, f"unique ({', '.join(cols)})", True))
    return out
