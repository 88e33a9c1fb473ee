"""What an inspector guard finds on a database built by the migrations alone.

A step such as `if not _has_booking_fk(inspector): op.create_foreign_key(...)` runs only where the check
finds nothing. When the check looks for the step's object by its shape only (the table, the columns, the
table a foreign key refers to) and an earlier revision made such an object that is still there, a
database built by the chain always has it: the step never runs there. Positive evidence only: the
earlier object made by op.create_table, op.add_column or op.create_* in a revision every path runs
before this one, or by an earlier step of the same revision (made on every path, or where its own check
finds it missing), and nothing since on that table that could have dropped it (a dropped constraint or
index, SQL or an op that could not be read)."""

from __future__ import annotations

from dataclasses import dataclass

from analyzers.facts.history import history
from analyzers.facts.model import Facts, MigrationOp, RevisionFact, Span

# Keys of what the inspector returns (`[c["name"] for c in insp.get_columns(t)]`): not names of the schema;
# and PostgreSQL's default schema (`get_table_names(schema="public")`), there on every database.
INSPECTOR_KEYS = frozenset({
    "name", "column_names", "constrained_columns", "referred_table", "referred_columns", "referred_schema", "type",
    "nullable", "default", "unique", "options", "dialect_options", "comment", "sqltext", "schema", "autoincrement",
    "expressions", "include_columns", "public",
})

# The inspector method that returns each kind of object the guard may look for, and the kinds of earlier
# objects it returns: on PostgreSQL get_indexes also returns the index behind a unique constraint.
_FINDS = {
    "foreign_key": ("get_foreign_keys", ("foreign_key",)),
    "unique": ("get_unique_constraints", ("unique",)),
    "index": ("get_indexes", ("index", "unique", "unique_index")),
}

# Statements that may drop a constraint or an index of their table (or of a table they do not name).
_MAY_DROP = frozenset(("alter_table", "drop", "rename_table", "rename_column", "dynamic_sql", "unparsed", "DoStmt"))


@dataclass(frozen=True, slots=True)
class Shape:
    """An object as a guard can see it: its kind, table and columns; a foreign key's target and actions,
    an index's uniqueness and predicate."""

    kind: str  # foreign_key | unique | index | unique_index
    table: str
    columns: tuple[str, ...]
    name: str | None = None
    refers: str | None = None  # a foreign key's table
    ondelete: str | None = None
    onupdate: str | None = None
    where: str | None = None
    span: Span | None = None

    def said(self) -> str:
        what = {"foreign_key": "foreign key", "unique": "unique constraint", "index": "index",
                "unique_index": "unique index"}[self.kind]
        cols = ", ".join(self.columns)
        return f"{what} {self.name + ' ' if self.name else ''}on {self.table} ({cols})" + (
            f" to {self.refers}" if self.refers else "")


@dataclass(frozen=True, slots=True)
class Found:
    """The earlier object a guard finds on a database built by the chain, and the revision that made it."""

    shape: Shape
    creator: RevisionFact


def step_shape(op: MigrationOp) -> Shape | None:
    """What a guarded op.create_foreign_key / create_unique_constraint / create_index makes."""
    if op.table is None:
        return None
    if op.name == "create_foreign_key" and op.constraints and op.constraints[0].target:
        c = op.constraints[0]
        return Shape("foreign_key", op.table, c.columns, c.name, c.target.rsplit(".", 1)[0], c.ondelete,  # type: ignore[union-attr]
                     op.options.get("onupdate", "").strip("'\"") or None)
    if op.name == "create_unique_constraint" and op.constraints:
        c = op.constraints[0]
        return Shape("unique", op.table, c.columns, c.name)
    if op.name == "create_index" and op.index is not None and op.index.columns:
        i = op.index
        return Shape("unique_index" if i.unique else "index", op.table, i.columns, i.name, where=i.where)
    return None


def made_shapes(op: MigrationOp) -> list[Shape]:
    """Foreign keys, unique constraints and indexes that an op of the Alembic API makes, with their columns."""
    table = op.table
    if table is None or op.sql is not None:
        return []
    out: list[Shape] = []
    if op.name in ("create_table", "add_column"):
        for col in op.columns:
            out += [Shape("foreign_key", table, (col.name,), None, fk.table, fk.ondelete, fk.onupdate, span=fk.span)
                    for fk in col.foreign_keys]
            if col.unique:
                out.append(Shape("unique", table, (col.name,), span=col.span))
    for c in op.constraints:
        if c.kind == "foreign_key" and c.target:
            out.append(Shape("foreign_key", table, c.columns, c.name, c.target.rsplit(".", 1)[0], c.ondelete, span=c.span))
        elif c.kind == "unique":
            out.append(Shape("unique", table, c.columns, c.name, span=c.span))
    shape = step_shape(op) if op.name == "create_index" else None
    return out + ([shape] if shape else [])


def chain_finds(facts: Facts, rev: RevisionFact, op: MigrationOp) -> Found | None:
    """The object an earlier revision made that `op`'s guard finds on a database built by the chain, so
    that `op` never runs there; None when that cannot be shown."""
    step = step_shape(op)
    if step is None or not op.guarded or not op.guard_missing or not step.columns:
        return None
    method, kinds = _FINDS["index" if step.kind == "unique_index" else step.kind]
    if method not in op.guard_calls or not _asks_only_for(op, step):
        return None  # it asks about something else too (a name, ondelete): what it finds is not known
    hist = history(facts)
    seen = hist.ancestors.get(id(rev), frozenset())
    earlier = [r for r in facts.revisions if id(r) in seen]

    def same(made: Shape) -> bool:
        return made.kind in kinds and made.table == step.table and made.columns == step.columns and made.refers == step.refers

    for creator in earlier:
        for made in (s for o in creator.upgrade if not (o.guarded or o.not_postgres) for s in made_shapes(o)):
            if same(made) and _still_there(hist, earlier, rev, creator, made):
                return Found(made, creator)
    steps = rev.upgrade[:next((i for i, o in enumerate(rev.upgrade) if o is op), 0)]
    for i, o in enumerate(steps):  # an earlier step of the revision itself, made on every path (or where missing)
        if o.not_postgres or o.guarded and not (o.guard_missing and (shape := step_shape(o)) and _asks_only_for(o, shape)):
            continue
        for made in made_shapes(o):
            if same(made) and not any(_may_drop(later, made.table) for later in steps[i + 1:]):
                return Found(made, rev)
    return None


def _asks_only_for(op: MigrationOp, step: Shape) -> bool:
    """Whether `op`'s guard asks only about its step's table and columns (and a foreign key's table)."""
    asked = {n for n in op.guard_names if n not in INSPECTOR_KEYS and n.isidentifier()}
    shape_names = {step.table, *step.columns, *([step.refers] if step.refers else [])}
    return bool(asked) and asked <= shape_names and step.table in asked and set(step.columns) <= asked


def _may_drop(o: MigrationOp, table: str) -> bool:
    """Whether `o` may drop a constraint or an index of `table`: a drop on it, or SQL or an op on it that
    could not be read."""
    if o.name in ("drop_constraint", "drop_index", "unread") and o.table in (table, None):
        return True
    return o.name == "execute" and (o.sql is None or not o.sql.statements or any(
        st.kind in _MAY_DROP and st.table in (table, None) for st in o.sql.statements))


def _still_there(hist, earlier: list[RevisionFact], rev: RevisionFact, creator: RevisionFact, made: Shape) -> bool:
    """Whether nothing after `creator` may have dropped `made`: its table and columns are the lives it
    made them in (or before), a named one still has its life, and no later revision drops a constraint or
    an index on the table, or runs SQL or an op on it that could not be read."""
    before = hist.ancestors.get(id(creator), frozenset()) | {id(creator)}
    lives = [hist.before(rev, "table", made.table)] + [hist.before(rev, "column", f"{made.table}.{c}") for c in made.columns]
    if any(life is None or id(life.begun) not in before for life in lives):
        return False
    if made.name and not (hist.before(rev, "index", made.name) if made.kind.endswith("index")
                          else hist.before(rev, "constraint", f"{made.table}.{made.name}")):
        return False
    later = [r for r in earlier if id(creator) in hist.ancestors.get(id(r), frozenset())]
    return not any(_may_drop(o, made.table) for r in later for o in r.upgrade)
