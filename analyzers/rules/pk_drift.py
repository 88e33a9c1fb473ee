"""The primary key the model maps against the one the migrations leave on its table (MIG006's key drift).

The key the migrations build is replayed apart from the rest of the schema (link.replay keeps columns and
constraints, not which of them is the table's key): `create_table` with `primary_key=True` columns or a
`PrimaryKeyConstraint`, `create_primary_key`, `drop_constraint` of the key, dropped and renamed columns and tables,
and SQL in `op.execute` (CREATE TABLE ... PRIMARY KEY, ALTER TABLE ... ADD PRIMARY KEY / DROP CONSTRAINT ..._pkey).
Wherever a step could leave the key other than dbreview can tell (a create_table argument it does not read, a table
created twice, LIKE / INHERITS, a key built from an index, a step guarded by an inspector check), the table's key is
not known and nothing is compared."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analyzers.facts.conventions import convention_names, conventions_of
from analyzers.facts.link import revision_trees
from analyzers.facts.model import Facts, RevisionFact, Span, TableFact
from analyzers.rules import drift


@dataclass(slots=True)
class Key:
    """A table's primary key as the upgrades leave it. columns None: not known; (): the table has none."""

    columns: tuple[str, ...] | None
    span: Span  # the step that last set it (or created the table without one)
    names: set[str] = field(default_factory=set)  # what a DROP CONSTRAINT may call it


_PK_NAME = re.compile(r"(^pk_|_pkey$|_pk$|^pk$|primary)", re.I)


def _names(table: str, name: str | None, columns: tuple[str, ...], conventions) -> set[str]:
    return {n for n in (name, f"{table}_pkey", *convention_names(conventions, table, "primary_key", columns)) if n}


def replay_keys(revisions: list[RevisionFact], conventions: tuple[dict[str, str], ...] = ()) -> dict[str, Key]:
    """The primary key of every table the upgrades (in order) leave, by table name."""
    keys: dict[str, Key] = {}

    def dropped(table: str, name: str | None, typed: str | None = None) -> None:
        key = keys.get(table)
        if key is None or not name:
            return
        if name in key.names or (typed or "").strip("'\"") == "primary" or (key.columns and _PK_NAME.search(name)):
            keys[table] = Key((), key.span)

    def column_dropped(table: str, column: str | None, span: Span) -> None:
        key = keys.get(table)
        if key is not None and key.columns and column in key.columns:
            keys[table] = Key((), span)  # PostgreSQL drops the constraints that involve the column

    def column_renamed(table: str, old: str, new: str) -> None:
        key = keys.get(table)
        if key is not None and key.columns and old in key.columns:
            key.columns = tuple(new if c == old else c for c in key.columns)

    for rev in revisions:
        for op in rev.upgrade:
            if op.not_postgres:
                continue
            if op.sql is not None:
                for st in op.sql.statements:
                    d, table = st.details, st.table or ""
                    if st.kind == "create_table" and table and not d.get("temporary"):
                        if table in keys and d.get("if_exists"):
                            continue
                        pk = d.get("primary_key")
                        unknown = pk is None or d.get("unparsed") or table in keys
                        cols = None if unknown else tuple(pk)  # type: ignore[arg-type]
                        keys[table] = Key(cols, st.span, _names(table, None, cols or (), conventions))
                    elif st.kind == "alter_table" and table in keys:
                        for name in d.get("dropped_constraints", ()):  # type: ignore[union-attr]
                            dropped(table, name)
                        for column in d.get("dropped_columns", ()):  # type: ignore[union-attr]
                            column_dropped(table, column, st.span)
                        for con in d.get("added_constraints", ()):  # type: ignore[union-attr]
                            if con["kind"] == "primary_key":
                                cols = tuple(con.get("columns") or ())
                                keys[table] = Key(cols or None, st.span, _names(table, con.get("name"), cols, conventions))
                    elif st.kind == "rename_column" and table in keys:
                        column_renamed(table, str(d.get("old")), str(d.get("new")))
                    elif st.kind == "rename_table" and table in keys and d.get("new"):
                        keys[str(d["new"])] = keys.pop(table)
                    elif st.kind == "drop" and d.get("type") == "OBJECT_TABLE":
                        for name in d.get("names", ()):  # type: ignore[union-attr]
                            keys.pop(name, None)
                continue
            table = op.table or ""
            if op.name == "create_table" and table:
                cols = tuple([c.name for c in op.columns if c.primary_key]
                             + [n for con in op.constraints if con.kind == "primary_key" for n in con.columns])
                name = next((con.name for con in op.constraints if con.kind == "primary_key"), None)
                unknown = table in keys or op.unread_items or op.guarded or any(not c.name for c in op.columns)
                keys[table] = Key(None if unknown else cols, op.span, _names(table, name, cols, conventions))
            elif table not in keys:
                continue
            elif op.name == "create_primary_key" and op.constraints:
                con = op.constraints[0]
                keys[table] = Key(con.columns or None, op.span, _names(table, con.name, con.columns, conventions))
            elif op.name == "drop_constraint":
                dropped(table, op.target, op.options.get("type_"))
            elif op.name == "drop_column":
                column_dropped(table, op.target, op.span)
            elif op.name == "alter_column" and op.columns and op.target and op.columns[0].attr not in ("", op.target):
                column_renamed(table, op.target, op.columns[0].attr)
            elif op.name == "drop_table":
                keys.pop(table, None)
            elif op.name == "rename_table" and op.target:
                keys[op.target] = keys.pop(table)
            if op.guarded and table in keys and op.name in ("create_primary_key", "drop_constraint", "drop_column"):
                keys[table].columns = None  # whether it ran depends on what the database held
    return keys


def migrated_key(facts: Facts, model: TableFact, table: str) -> Key | None:
    """The primary key the migrations of the model's own service (or of every tree) leave on `table`."""
    root = drift.service_of(facts, model.path)
    cached = facts.derived.setdefault("migrated_keys", {})
    if root not in cached:
        revisions = facts.revisions
        if root is not None:
            own = {id(r) for tree in revision_trees(facts.revisions).values()
                   if drift.service_root(tree[0].path.rsplit("/", 1)[0]) == root for r in tree}
            revisions = [r for r in facts.revisions if id(r) in own]
        cached[root] = replay_keys(revisions, conventions_of(facts))
    return cached[root].get(table)


def model_key(model: TableFact) -> tuple[str, ...] | None:
    """The columns the model maps as its primary key (by column name); None when dbreview cannot tell (a key named
    by an expression, or none read on a class with bases it cannot read)."""
    by_attr = {c.attr or c.name: c.name for c in model.columns.values()}
    if model.mapper_primary_key is not None:
        if "?" in model.mapper_primary_key:
            return None
        return tuple(dict.fromkeys(by_attr.get(a, a) for a in model.mapper_primary_key))
    cols = [c.name for c in model.columns.values() if c.primary_key]
    cols += [by_attr.get(n, n) for con in model.constraints if con.kind == "primary_key" for n in con.columns]
    cols = list(dict.fromkeys(cols))
    if not cols or any(not re.fullmatch(r"\w+", c) for c in cols):
        return None
    return tuple(cols)


def unique_in_db(db: TableFact, key: tuple[str, ...]) -> tuple[str, ...] | None:
    """A unique constraint or unique index (not partial) of the migrated table over columns all among `key`: rows
    cannot share the values of `key` then."""
    wanted = set(key)
    found = [(c.name,) for c in db.columns.values() if c.unique]
    found += [con.columns for con in db.constraints if con.kind == "unique"]
    found += [ix.columns for ix in db.indexes if ix.unique and not ix.where]
    return next((tuple(k) for k in found if k and set(k) <= wanted), None)


def wider_unique(db: TableFact, key: tuple[str, ...]) -> tuple[str, ...] | None:
    """A unique constraint or index (not partial) of the migrated table over every column of `key` and more."""
    wanted = set(key)
    found = [con.columns for con in db.constraints if con.kind == "unique"]
    found += [ix.columns for ix in db.indexes if ix.unique and not ix.where]
    return next((tuple(k) for k in found if set(k) > wanted and all(re.fullmatch(r"\w+", c) for c in k)), None)
