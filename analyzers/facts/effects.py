"""What the operations of a migration function do to tables and columns, whatever their form (op.*,
SQL in op.execute, SQLAlchemy's Table.create), and what a revision's downgrade leaves undone of its
upgrade, found by playing one after the other on the schema as it was."""

from __future__ import annotations

from dataclasses import dataclass

from analyzers.facts.model import MigrationOp, Span, Unread

# SQL that changes rows or the session, not the schema.
DATA_SQL = frozenset((
    "UpdateStmt", "InsertStmt", "DeleteStmt", "SelectStmt", "set_config", "set", "set_local", "reset", "TruncateStmt",
    "LockStmt", "VacuumStmt", "CopyStmt", "NotifyStmt", "VariableShowStmt", "begin", "commit", "rollback", "start",
))


@dataclass(frozen=True, slots=True)
class Effect:
    kind: str  # create_table drop_table rename_table add_column drop_column rename_column unread
    table: str | None
    name: str | None  # the column; the new name of a renamed table
    new: str | None  # the new name of a renamed column
    span: Span
    op: MigrationOp  # the operation it comes from (its anchor, its span)
    columns: tuple[str, ...] = ()  # of a created table
    maybe: bool = False  # IF [NOT] EXISTS: the table or column may or may not be there before
    parent: str | None = None  # a partition's table: dropping it drops the partition


def effects(ops: list[MigrationOp]) -> list[Effect]:
    """The table and column changes of `ops`, in order. A temporary table (CREATE TEMP TABLE, or one
    created and dropped by these same ops from SQL) changes nothing that lasts."""
    out: list[Effect] = []
    temporary: set[str] = set()
    for op in ops:
        if op.name == "unread":
            out.append(Effect("unread", op.table, None, None, op.span, op))
        elif op.name == "execute":
            if op.sql is None or not op.sql.statements:
                out.append(Effect("unread", None, None, None, op.span, op))
                continue
            for st in op.sql.statements:
                out.extend(_sql(st, op, temporary))
        elif op.name == "create_table":
            out.append(Effect("create_table", op.table, None, None, op.span, op, tuple(c.name for c in op.columns)))
        elif op.name in ("drop_table", "rename_table"):
            out.append(Effect(op.name, op.table, op.target if op.name == "rename_table" else None, None, op.span, op))
        elif op.name == "add_column":
            out.extend(Effect("add_column", op.table, c.name, None, op.span, op) for c in op.columns)
        elif op.name == "drop_column":
            out.append(Effect("drop_column", op.table, op.target, None, op.span, op))
        elif op.name == "alter_column" and op.columns and op.columns[0].attr not in ("", op.target):
            out.append(Effect("rename_column", op.table, op.target, op.columns[0].attr, op.span, op))
    return out


def _sql(st, op: MigrationOp, temporary: set[str]) -> list[Effect]:
    d, span = st.details, st.span
    unread = _unread_sql(st)
    if unread is not None and st.kind != "create_table":  # a table made from odd SQL is still made
        return [Effect("unread", unread.table, None, None, span, op)]
    if st.kind == "create_table":
        if d.get("temporary"):
            temporary.add(st.table)
            return []
        return [Effect("create_table", st.table, None, None, span, op, tuple(d.get("columns", ())), bool(d.get("if_exists")),
                       d.get("partition_of"))]  # type: ignore[arg-type]
    maybe = bool(d.get("if_exists"))
    if st.kind == "drop" and d.get("type") == "OBJECT_TABLE":
        return [Effect("drop_table", name, None, None, span, op, maybe=maybe)
                for name in d.get("names", ()) if name not in temporary]
    if st.kind == "rename_table":
        return [Effect("rename_table", st.table, str(d.get("new")), None, span, op)]
    if st.kind == "rename_column":
        return [Effect("rename_column", st.table, str(d.get("old")), str(d.get("new")), span, op)]
    if st.kind == "alter_table":
        return [Effect("add_column", st.table, c, None, span, op, maybe=maybe) for c in d.get("added_columns", ())] + [
            Effect("drop_column", st.table, c, None, span, op, maybe=maybe) for c in d.get("dropped_columns", ())]
    return []


def unread_ops(ops: list[MigrationOp]) -> list[Unread]:
    """The operations of `ops` that could not be followed, and the SQL in them that could not be read."""
    out: list[Unread] = []
    for op in ops:
        if op.name == "unread":
            out.append(Unread("op", op.span, f"{op.target}: {op.reason}", op.table, op.text))
        elif op.name == "execute" and (op.sql is None or not op.sql.statements):
            out.append(Unread("sql", op.span, "op.execute of SQL built elsewhere or at run time", None, op.text))
        elif op.sql is not None:
            out.extend(u for st in op.sql.statements for u in [_unread_sql(st)] if u is not None)
    return out


# Statements that make or change tables, their columns or their Row-Level Security: one with a value spliced
# in where its table goes may concern any table. A role, a function, a trigger, an index, a GRANT on a
# database do not.
TABLE_SQL = frozenset((
    "create_table", "alter_table", "rename_table", "rename_column", "drop", "enable_rls", "force_rls", "disable_rls",
    "noforce_rls", "create_policy", "drop_policy", "grant", "revoke",
))


def _unread_sql(st) -> Unread | None:
    """A statement that could not be read whole: not parsed (matched to tables by its text), EXECUTE of
    SQL built at run time, or SQL on a table with a value spliced in (an UPDATE with one is still an
    UPDATE, and `CREATE USER {?}` concerns no table)."""
    if st.kind == "dynamic_sql":
        kind, table, text = (st.details.get(k) for k in ("template", "template_table", "template_text"))
        if kind is None:
            return Unread("sql", st.span, "EXECUTE of SQL built at run time")
        return _spliced(st, str(kind), table, str(text), "EXECUTE of SQL built at run time")  # type: ignore[arg-type]
    if st.kind == "unparsed" or st.details.get("unparsed"):
        return Unread("sql", st.span, "SQL that could not be parsed", text=st.text)
    if "{?}" in st.text:
        return _spliced(st, st.kind, st.table, st.text, "SQL with a value spliced in")
    return None


def _spliced(st, kind: str, table: str | None, text: str, reason: str) -> Unread | None:
    if kind not in TABLE_SQL or (kind in ("grant", "revoke") and not table and "TABLE" not in text.upper()):
        return None
    if kind == "drop" and st.details.get("type", "OBJECT_TABLE") != "OBJECT_TABLE" and st.kind != "dynamic_sql":
        return None  # DROP TRIGGER, DROP FUNCTION, DROP INDEX ... "{?}"
    known = table if table and "dbreview_dynamic" not in table else None
    return Unread("sql", st.span, reason, table=known)


def changes_schema(ops: list[MigrationOp]) -> bool:
    """Whether `ops` leave the schema otherwise than they found it: not when they only change rows,
    use a temporary table, or disable triggers around an UPDATE and enable them again."""
    for op in ops:
        if op.name == "bulk_insert":
            continue
        if op.name != "execute" or op.sql is None or not op.sql.statements:
            return True
    statements = [st for op in ops if op.sql for st in op.sql.statements]
    made_here = {st.table for st in statements if st.kind == "create_table"}
    disabled: set[str] = set()
    for st in statements:
        if st.kind in DATA_SQL or (st.kind == "create_index" and st.table in made_here):
            continue  # an index on a table these ops create goes with it (a temporary table's, dropped at the end)
        triggers = st.details.get("triggers") if st.kind == "alter_table" else None
        if triggers and not any(st.details.get(k) for k in ("added_columns", "dropped_columns", "added_constraints", "dropped_constraints")):
            (disabled.add if triggers == "disable" else disabled.discard)(st.table)
            continue
        if st.kind == "create_table" or (st.kind == "drop" and st.details.get("type") == "OBJECT_TABLE"):
            continue  # judged by what is left once they have all run
        return True
    return bool(disabled) or bool(_left(effects(ops)))


def _left(found: list[Effect]) -> list[tuple[Effect, str, tuple[str, str, bool]]]:
    """What lasts once the effects have run: a table created then dropped leaves nothing."""
    schema = _Schema()
    for e in found:
        schema.apply(e, first=True)
    return schema.left()


def not_undone(upgrade: list[MigrationOp], downgrade: list[MigrationOp]) -> list[tuple[Effect, str, tuple[str, str, bool]]]:
    """What the upgrade changes that the downgrade does not change back, with what is left: each as the
    upgrade's effect that made the change, a phrase saying what the downgrade misses, and what differs
    (kind "table" or "column", its name, whether it was there before)."""
    schema = _Schema()
    for e in effects(upgrade):
        schema.apply(e, first=True)
    for e in effects(downgrade):
        schema.apply(e)
    return schema.left()


class _Schema:
    """Tables and columns by name, each bound to an identity: the one it had before (met on first use),
    or a new one once created. A rename moves the identity; a table dropped and created again is a new
    identity, with new columns."""

    def __init__(self) -> None:
        self.tables: dict[str, object] = {}  # name -> identity: ("was", name) or a new object
        self.columns: dict[object, set[str]] = {}  # table identity -> its columns
        self.table_before: dict[str, bool | None] = {}  # whether the table existed before the first effect on it
        self.column_before: dict[tuple[object, str], bool | None] = {}  # (a table as it was, column) -> existed before
        self.cause: dict[tuple, Effect] = {}  # the first effect of the upgrade on a table or column
        self.partitions: dict[str, list[str]] = {}  # table -> its partitions, dropped with it
        self.clashes: dict[tuple, Effect] = {}  # a column the downgrade adds where the upgrade left one of its name

    def _table(self, name: str, creating: bool = False, maybe: bool = False) -> object | None:
        if name not in self.table_before:
            self.table_before[name] = None if maybe else not creating  # None: not known
            if not creating:
                self.tables[name] = ("was", name)
        return self.tables.get(name)

    def apply(self, e: Effect, first: bool = False) -> None:
        if e.kind == "unread" or not e.table:
            return
        if e.kind == "create_table":
            remade = e.table in self.table_before and e.table not in self.tables  # dropped by an earlier effect
            if first and not remade and e.op.guard_missing and e.table in e.op.guard_names:
                # `if has_table(t): <reshape it> else: create_table(t)`: where this runs, the table was not there
                # (a downgrade's says nothing of before the upgrade)
                self.table_before[e.table] = False
            self._table(e.table, creating=True, maybe=e.maybe)
            if first:
                self.cause.setdefault(("table", e.table), e)
            ident = self.tables[e.table] = object()
            self.columns[ident] = set(e.columns)
            if e.parent:
                self.partitions.setdefault(e.parent, []).append(e.table)
            return
        ident = self._table(e.table, maybe=e.maybe and e.kind == "drop_table")
        if ident is None:
            return  # not there (dropped already): nothing to change
        if e.kind in ("drop_table", "rename_table"):
            if first:
                self.cause.setdefault(("table", e.table), e)
            self.tables.pop(e.table)
            if e.kind == "drop_table":
                for partition in self.partitions.pop(e.table, ()):
                    self.tables.pop(partition, None)
            if e.kind == "rename_table" and e.name:
                self._table(e.name, creating=True)
                if first:
                    self.cause.setdefault(("table", e.name), e)
                self.tables[e.name] = ident
            return
        columns = self.columns.setdefault(ident, set())
        touched = [(e.name, e.kind == "add_column")] + ([(e.new, True)] if e.kind == "rename_column" else [])
        for name, adding in touched:
            if not name:
                return
            if isinstance(ident, tuple) and (ident, name) not in self.column_before:  # a table as it was
                self.column_before[(ident, name)] = None if e.maybe else not adding
                if not adding:
                    columns.add(name)
            if first:
                self.cause.setdefault(("column", ident, name), e)
        if e.kind == "add_column":
            if not first and e.name in columns:
                self.clashes.setdefault(("column", ident, e.name), e)
            columns.add(e.name)  # type: ignore[arg-type]
        elif e.kind == "drop_column":
            columns.discard(e.name)  # type: ignore[arg-type]
        elif e.kind == "rename_column" and e.name in columns:
            columns.discard(e.name)  # type: ignore[arg-type]
            columns.add(e.new)  # type: ignore[arg-type]

    def left(self) -> list[tuple[Effect, str, tuple[str, str, bool]]]:
        """What is not as it was, each said once, of the upgrade's effect that changed it."""
        out: list[tuple[Effect, str, tuple[str, str, bool]]] = []
        reported: set[int] = set()
        present = set(self.tables.values())
        changes = [(("table", name), before, name in self.tables, name) for name, before in self.table_before.items()]
        changes += [  # a table dropped or renamed away is said of the table, not of its columns
            (("column", ident, column), before, column in self.columns[ident], None)
            for (ident, column), before in self.column_before.items() if ident in present
        ]
        for key, before, now, name in changes:
            cause = self.cause.get(key)
            if before is None or before == now or cause is None or id(cause) in reported:
                continue
            reported.add(id(cause))
            clash = self.clashes.get(key)
            if clash is not None:
                what = (f"drops {cause.table}.{key[2]} and adds it again; its downgrade adds {cause.table}.{key[2]} back on "
                        f"line {clash.span.start} while the one the upgrade added is still there: that add fails (the column "
                        "exists), so the downgrade cannot run")
            elif cause.kind == "rename_table":
                what = f"renames table {cause.table} to {cause.name} but the downgrade does not rename it back"
            elif cause.kind == "rename_column":
                what = f"renames {cause.table}.{cause.name} to {cause.new} but the downgrade does not rename it back"
            else:
                what = _MISSED[(key[0], now)].format(name or f"{cause.table}.{key[2]}")
            out.append((cause, what, (key[0], str(key[-1]), bool(before))))
        return out


# What a downgrade misses, by what the upgrade made (a table or a column) and whether it is there after.
_MISSED = {
    ("table", True): "creates table {} but the downgrade does not drop it",
    ("table", False): "drops table {} but the downgrade does not recreate it",
    ("column", True): "adds {} but the downgrade does not drop it",
    ("column", False): "drops {} but the downgrade does not add it back",
}
