"""Section 3: Database Migrations, run on a live database: the locks a revision takes on tables that
earlier revisions created (and that may hold rows), the statements that fail there, and the steps the
code deployed before the migration cannot survive.

Which revisions: the newest RECENT generations of each tree (analyzers/facts/history.py, recent()).
A reviewer reviews those; older revisions ran long ago on every database, often on tables that had no
rows yet, and rewriting them changes nothing that is deployed. A revision that fails whenever it runs
(CONCURRENTLY in a transaction, MIG008) is checked at any age."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterator

from analyzers.facts.effects import DATA_SQL, changes_schema, effects
from analyzers.facts.guards import chain_finds
from analyzers.facts.history import Life, column_then, created_objects, history, recent
from analyzers.facts.model import ColumnFact, Facts, MigrationOp, RevisionFact, Span, SqlStatement
from analyzers.findings import Finding, Location, Related, Severity, identity_key
from analyzers.rules import start_up
from analyzers.facts.paths import is_test_path
from analyzers.facts.sql import sets_storage_only
from analyzers.rules.base import Rule
from analyzers.rules.drift import sql_touches
from analyzers.rules.growth import stays_small
from analyzers.rules.outside_writes import bulk_insert_table
from analyzers.rules.runs_on import on_postgres, runs_on
from analyzers.rules.schema import named_in_code

# The revision every example runs on: it creates `orders`, so that the next one changes an existing table.
_FIRST = '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("customers", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("customer_id", sa.Integer),
                    sa.Column("total", sa.Integer), sa.Column("note", sa.String(50)))
def downgrade():
    op.drop_table("orders")
    op.drop_table("customers")
'''


def later(upgrade: str, downgrade: str = "pass", head: str = "") -> dict[str, str]:
    """A history of two revisions: 0001 creates customers and orders, 0002 runs `upgrade` (indented body)."""
    body = "\n".join("    " + line for line in upgrade.strip().splitlines())
    down = "\n".join("    " + line for line in downgrade.strip().splitlines())
    return {
        "migrations/versions/0001_orders.py": _FIRST,
        "migrations/versions/0002_change.py": f'''
from alembic import op
import sqlalchemy as sa
{head}
revision = "0002"
down_revision = "0001"
def upgrade():
{body}
def downgrade():
{down}
''',
    }


@dataclass(slots=True)
class Change:
    """One operation (or one statement of its SQL) of a revision's upgrade, on a table that an earlier
    revision created: `life` says which."""

    rev: RevisionFact
    op: MigrationOp
    st: SqlStatement | None
    table: str
    life: Life | None  # None: made outside the migrations (see made_outside())
    fresh_columns: set[str]  # columns this revision added to the table before this change
    empty_columns: set[str] = field(default_factory=set)  # of those, the ones no step has written rows into yet
    held: Step | None = None  # an earlier step of the same transaction that took ACCESS EXCLUSIVE on the table
    ddl_before: Step | None = None  # the first schema change of the same transaction before this change, on any table
    elsewhere: Life | None = None  # made outside this tree's revisions: by those of another tree (same database or not)

    @property
    def span(self) -> Span:
        return self.st.span if self.st is not None else self.op.span

    @property
    def who(self) -> str:
        return f"revision {self.rev.revision}"

    @property
    def since(self) -> str:
        if self.life is None:
            other = self.elsewhere
            if other is not None:
                return (f"{self.table} is created by revision {other.creator.revision} of another Alembic tree "
                        f"({other.span.path}:{other.span.start}), not by this tree's, whose history starts from a schema "
                        "built another way")
            return f"{self.table} exists from before the migrations (no revision dbreview read creates it; the models define it)"
        return f"{self.table} exists since revision {self.life.creator.revision}"

    def on_fresh(self, columns: tuple[str, ...] | list[str]) -> bool:
        """Whether every column named is one this revision added before this change and no step has
        filled since: all NULL or its default, under the ACCESS EXCLUSIVE lock its ALTER TABLE holds until
        commit."""
        return bool(columns) and set(columns) <= self.empty_columns and self.held is not None

    def column_before(self, facts: Facts, column: str) -> Life | bool | None:
        """The column's life before this change; True for a column of a table made outside the migrations
        that no revision of the tree adds (there from the start, as its table)."""
        if column in self.fresh_columns:
            return None
        hist = history(facts)
        key = f"{self.table}.{column}"
        if self.life is None:  # a column a revision of the tree added is there only after it
            return hist.before(self.rev, "column", key) or (hist.tree_of.get(id(self.rev), ""), "column", key) not in hist.lives
        return hist.before(self.rev, "column", key)


@dataclass(frozen=True, slots=True)
class Step:
    """An earlier step of a revision's transaction, as a finding names it: `add_column on line 12`."""

    what: str
    line: int
    on: str | None = None  # the tables whose locks it took, where a finding about another table names them

    def __str__(self) -> str:
        return f"{self.what} on line {self.line}"


def changes(facts: Facts, *, every: bool = False) -> Iterator[Change]:
    """Each change that the recent revisions' upgrades (every revision's, with every=True) make to tables
    that earlier revisions created (or, in a history that starts from a schema built another way, that the
    models define and no revision creates: made_outside()), in order. Tables the revision creates itself, before the change, are
    new: no rows, no readers. Steps only another database runs (`if dialect.name == "mysql":`) are left
    out. Each change knows what the transaction did before it: the columns it added to the table, the
    step that already holds ACCESS EXCLUSIVE on it, the first schema change (not one on a table made in the
    same transaction, which nobody else can see; a COMMIT or an autocommit block ends the transaction, and
    what it holds; an env.py that connects in AUTOCOMMIT commits each
    statement on its own, so no lock outlives the step that took it)."""
    hist, window, outside = history(facts), recent(facts), made_outside(facts)
    autocommit_envs: dict[str, bool] = {}
    for rev in facts.revisions:
        if not (every or id(rev) in window) or for_sqlite(rev):
            continue
        folder = rev.path.rsplit("/", 1)[0]
        if folder not in autocommit_envs:
            autocommit_envs[folder] = bool(_AUTOCOMMIT_ENV.search(_env_text(facts, rev)))
        fresh: set[str] = set()
        added: dict[str, set[str]] = {}
        empty: dict[str, set[str]] = {}
        held: dict[str, Step] = {}
        ddl: Step | None = None
        for op in rev.upgrade:
            if op.not_postgres:
                continue
            alone = op.autocommit or autocommit_envs[folder]  # committed on its own, not in the revision's transaction
            if alone:  # autocommit_block() commits Alembic's transaction first
                held, ddl = {}, None
            parts: list[SqlStatement | None] = list(op.sql.statements) if op.sql else [None]
            if op.guarded and (_already_there(hist, rev, op) or chain_finds(facts, rev, op)):
                continue  # `if not has(...)`: a no-op on a database built by the chain, which has it: it holds no lock
            if op.name == "bulk_insert" or op.name == "execute" and not (op.sql and op.sql.statements):
                empty = {}  # rows written, or SQL not read: no added column is known to be empty any more
            for st in parts:
                table = _target(op, st)
                life = hist.before(rev, "table", table) if table and table not in fresh else None
                before = life is not None or (table not in fresh and table in outside.get(hist.tree_of.get(id(rev), ""), ()))
                if st is not None and st.kind in ("UpdateStmt", "InsertStmt", "CopyStmt"):  # rows written
                    empty = {t: cols for t, cols in empty.items() if table and t != table}
                if before:
                    yield Change(rev, op, st, table, life, set(added.get(table, ())), set(empty.get(table, ())),  # type: ignore[arg-type]
                                 held.get(table), ddl, hist.in_other_tree(rev, "table", table) if life is None else None)
                if st is not None and st.kind in ("commit", "rollback"):
                    held, ddl = {}, None
                    continue
                step = Step(st.kind if st is not None and op.name == "execute" else op.name, (st or op).span.start)
                if table and _exclusive(op, st) and not alone and table not in held:
                    held[table] = step
                if ddl is None and not alone and (st is None or st.kind not in DATA_SQL) and changes_schema([op]) \
                        and (locked := tuple(t for t in _locked_by(op, st, table) if t not in fresh)) != ():
                    ddl = replace(step, on=", ".join(locked) or None)  # a table made in this transaction: none waits on it
                for e in effects([op]) if st is None else _statement_effects(op, st):
                    if e.kind == "create_table" and e.table:
                        fresh.add(e.table)
                    elif e.kind == "rename_table" and e.table in fresh and e.name:
                        fresh.add(e.name)
                    elif e.kind == "add_column" and e.table and e.name:
                        added.setdefault(e.table, set()).add(e.name)
                        if not _volatile_default(op, st, e.name):  # gen_random_uuid(): every row gets its own value
                            empty.setdefault(e.table, set()).add(e.name)


def _all_null(c: Change, column: str) -> bool:
    """Whether every row holds NULL in the column: this revision added it, with no default, and no step has
    written it since. NULLs never conflict in a unique key, so such a key cannot meet duplicates."""
    if column not in c.empty_columns:
        return False
    added = [col for op in c.rev.upgrade if op.name == "add_column" and op.table == c.table for col in op.columns if col.name == column]
    return bool(added) and all(col.server_default is None and col.default is None for col in added)


# Steps that lock their own table only (a foreign key, made or dropped, locks the table it references too).
_OWN_TABLE_ONLY = ("add_column", "drop_column", "alter_column", "create_index", "drop_index", "create_unique_constraint",
                   "create_check_constraint", "create_primary_key")


def _locked_by(op: MigrationOp, st: SqlStatement | None, table: str | None) -> tuple[str, ...]:
    """The tables a schema change locks for others, as far as known: its own table for a step that locks no other
    ("" where not known), or for a new table those its foreign keys reference; none for a new table without one,
    which blocks nobody."""
    if not (st is None and op.name == "create_table"):
        return (table,) if table and st is None and op.name in _OWN_TABLE_ONLY else ("",)
    referenced = [fk.table for c in op.columns for fk in c.foreign_keys]
    referenced += [con.target.split(".", 1)[0] for con in op.constraints if con.kind == "foreign_key" and con.target]
    return tuple(dict.fromkeys(referenced))


def made_outside(facts: Facts) -> dict[str, set[str]]:
    """Per Alembic tree whose history starts from a schema built another way (a root that creates no table:
    create_all, then `alembic stamp`), the application's model tables that no revision of it creates, in a
    tree read whole: they are there, with whatever rows they hold, before any revision runs."""
    from analyzers.rules.s03_migrations import _history_starts_elsewhere
    from analyzers.rules.schema import tree_gaps, trees

    cached = facts.derived.get("made_outside")
    if cached is None:
        hist, cached = history(facts), {}
        models = {name for name, t in facts.tables.items() if not t.database and not is_test_path(t.path)}
        for revisions in trees(facts.revisions).values():
            if not revisions or not _history_starts_elsewhere(revisions) or tree_gaps(facts, revisions):
                continue
            tree = hist.tree_of.get(id(revisions[0]), "")
            cached[tree] = {t for t in models if (tree, "table", t) not in hist.lives}
        facts.derived["made_outside"] = cached
    return cached  # type: ignore[return-value]


def _volatile_default(op: MigrationOp, st: SqlStatement | None, column: str) -> bool:
    if st is None:
        return any(c.name == column and c.server_default and _VOLATILE.search(c.server_default) for c in op.columns)
    return any(c["column"] == column and _VOLATILE.search(str(c["default"] or "")) for c in _column_change(st, "add_column"))


_EXCLUSIVE_OPS = ("add_column", "drop_column", "alter_column", "drop_constraint", "create_check_constraint",
                  "create_unique_constraint", "create_primary_key", "rename_table", "drop_table", "drop_index")


def _exclusive(op: MigrationOp, st: SqlStatement | None) -> bool:
    """Whether a step takes ACCESS EXCLUSIVE on its table: most ALTER TABLE forms, a drop, a rename; not
    a foreign key (SHARE ROW EXCLUSIVE), a VALIDATE or a plain CREATE INDEX (SHARE)."""
    if st is None:
        return op.name in _EXCLUSIVE_OPS
    if st.kind == "alter_table":
        found = st.details.get("changes") or ()
        return not found or any(
            c.get("what") != "validate_constraint" and not (c.get("what") == "add_constraint" and c.get("kind") == "foreign")
            for c in found  # type: ignore[union-attr]
        )
    return st.kind in ("rename_table", "rename_column") or (st.kind == "drop" and st.details.get("type") == "OBJECT_TABLE")


def _already_there(hist, rev: RevisionFact, op: MigrationOp) -> bool:
    """Whether what `op` makes was made by an earlier revision: guarded by the inspector, it does nothing."""
    made = [(kind, key) for kind, key, _ in created_objects(op)]
    made += [("column", f"{e.table}.{e.name}") for e in effects([op]) if e.kind == "add_column"]
    made += [("table", e.table) for e in effects([op]) if e.kind == "create_table" and e.table]
    return bool(made) and all(hist.before(rev, kind, key) for kind, key in made)


_WRITES_ROWS = re.compile(r"\.(execute|exec_driver_sql|query|add|add_all|merge|bulk_\w+|delete|update)\s*\(|\b(update|delete|insert)\s*\(")


def rows_fixed_before(facts: Facts, c: Change) -> bool:
    """Whether a step of the revision before `c` may write rows (SQL, a bulk insert, an op that could not be
    read, a session or connection call in the upgrade's code): then whether the data meets the new rule
    first is not something dbreview can tell."""
    for op in c.rev.upgrade:
        if op is c.op:
            break
        if op.name in ("execute", "bulk_insert", "unread") or op.sql is not None:
            return True
    start = c.rev.upgrade_span.start if c.rev.upgrade_span else 1
    lines = [line.split("#", 1)[0] for line in facts.lines(Span(c.rev.path, start, max(c.span.start - 1, start)))[1:]]
    helpers = _writing_helpers(facts, c.rev.path)
    return any(_WRITES_ROWS.search(line) or any(re.search(rf"(?<![\w.]){h}\s*\(", line) for h in helpers) for line in lines)


def _writing_helpers(facts: Facts, path: str) -> frozenset[str]:
    """The functions a revision's module defines that may write rows: a session or connection call in their
    body, or a call to another such function of the module (`dedupe_slugs()` called first by the upgrade)."""
    key = ("writing_helpers", path)
    if key not in facts.derived:
        import ast

        text = "\n".join(facts.lines(Span(path, 1, 10**9)))
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        bodies = {f.name: [line.split("#", 1)[0] for line in (ast.get_source_segment(text, f) or "").splitlines()[1:]]
                  for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name != "upgrade"}
        writing = {name for name, body in bodies.items() if any(_WRITES_ROWS.search(line) for line in body)}
        while grown := {name for name, body in bodies.items() if name not in writing and any(
                re.search(rf"(?<![\w.]){w}\s*\(", line) for w in writing for line in body)}:
            writing |= grown
        facts.derived[key] = frozenset(writing)
    return facts.derived[key]  # type: ignore[return-value]


def precondition(facts: Facts, c: Change, breaks: str) -> str:
    """What the step needs of the rows already there (`breaks`: the rows that make it fail), said where no
    earlier step of the revision may have fixed them; '' otherwise."""
    if rows_fixed_before(facts, c):
        return ""
    return (f"; it also fails, and the upgrade with it, on a database where {breaks}: no earlier step of this "
            "revision changes those rows")


def _index_expressions(facts: Facts, op: MigrationOp) -> list[str]:
    """The key of an expression index as written in its create_index call (`lower(email)` for
    `[sa.func.lower(sa.Column("email"))]`); none when the call cannot be read back."""
    import ast

    text = "\n".join(facts.lines(op.span))
    try:
        call = next(n for n in ast.walk(ast.parse(text.strip())) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith("create_index"))
    except (SyntaxError, StopIteration, ValueError):
        return []
    given = call.args[2] if len(call.args) > 2 else next((k.value for k in call.keywords if k.arg == "columns"), None)
    if not isinstance(given, (ast.List, ast.Tuple)):
        return []
    out = []
    for element in given.elts:
        shown = ast.unparse(element)
        shown = re.sub(r"""\b(?:sa\.|sqlalchemy\.)?(?:Column|column|text|literal_column)\(\s*(['"])(.*?)\1\s*\)""", r"\2", shown)
        out.append(re.sub(r"\b(?:sa\.|sqlalchemy\.)?func\.", "", shown))
    return out


def _timestamps(type_source: str) -> bool:
    """A timestamp type as written: `sa.DateTime(...)`, `TIMESTAMP`, a project's `UTCDateTime(...)`."""
    name = re.split(r"[(\s]", type_source.strip(), maxsplit=1)[0].rsplit(".", 1)[-1]
    return bool(name) and (name.lower() in ("timestamp", "timestamptz") or name.endswith("DateTime"))


def _zoned(type_source: str) -> bool:
    return bool(re.search(r"timezone\s*=\s*True|^\s*(\w+\.)*(TIMESTAMPTZ|timestamptz)\b|with time zone", type_source, re.I))


def _implied_unique(facts: Facts, c: Change, key: tuple[str, ...]) -> bool:
    """Whether the table already had, just before this revision, a unique key (a primary key, a unique
    column, constraint or index without a predicate) on some of `key`'s columns: the rows already there
    cannot share `key` then. Keys dropped by an earlier revision no longer count; one the same revision
    drops (to rebuild it) still does."""
    ancestors = history(facts).ancestors.get(id(c.rev), frozenset())
    keys: dict[str, tuple[str, ...]] = {}  # name (or a made-up one) -> columns
    for rev in facts.revisions:
        if id(rev) not in ancestors:
            continue
        for op in rev.upgrade:
            if op.table != c.table:
                continue
            if op.name == "create_table":
                keys["pk"] = tuple(col.name for col in op.columns if col.primary_key)
                keys.update({f"col:{col.name}": (col.name,) for col in op.columns if col.unique})
            if op.name in ("create_table", "create_unique_constraint", "create_primary_key"):
                for con in op.constraints:
                    if con.kind in ("unique", "primary_key") and con.columns:
                        keys[con.name or f"{con.kind}:{','.join(con.columns)}"] = tuple(con.columns)
            if op.name == "create_index" and op.index is not None and op.index.unique and not op.index.where and op.index.columns:
                keys[op.index.name or f"ix:{','.join(op.index.columns)}"] = tuple(op.index.columns)
            if op.name in ("drop_constraint", "drop_index") and op.target:
                keys.pop(op.target, None)
    return any(cols and set(cols) <= set(key) for cols in keys.values())


def _replaces_a_check(c: Change) -> bool:
    """Whether the revision drops a constraint of the table before this change (indico 461958bf2774 drops
    ck_logs_valid_enum_realm, then adds the wider valid_enum_realm): whether the new CHECK refuses rows the
    old one let in, dbreview does not judge, so it says nothing of the rows."""
    for op in c.rev.upgrade:
        if op is c.op:
            return False
        if op.name == "drop_constraint" and op.table == c.table:
            return True
    return False


def for_sqlite(rev: RevisionFact) -> bool:
    """A revision of a tree kept for SQLite (prefect keeps one per database): PostgreSQL's locks do not apply."""
    return "sqlite" in rev.path.rsplit("/", 1)[0].lower()


def _target(op: MigrationOp, st: SqlStatement | None) -> str | None:
    """The table an operation or statement changes: DROP TABLE names it among its objects, UPDATE as its relation."""
    if st is None:
        return op.table
    names = st.details.get("names") if st.kind == "drop" and st.details.get("type") == "OBJECT_TABLE" else None
    return st.table or st.details.get("dml_table") or (names[0] if names else None)  # type: ignore[return-value, index]


def _statement_effects(op: MigrationOp, st: SqlStatement):
    from analyzers.facts.effects import _sql

    return _sql(st, op, set())


def _truthy(op: MigrationOp, key: str) -> bool:
    return op.options.get(key, "False") not in ("False", "None", "0")


def _column_change(st: SqlStatement | None, what: str) -> list[dict]:
    return [c for c in st.details.get("changes", ()) if c.get("what") == what] if st is not None else []  # type: ignore[union-attr]


def _added_back(c: Change, e):
    """The later step of the same upgrade that adds back the column `e` drops, under its name; None if none does."""
    at = next(i for i, op in enumerate(c.rev.upgrade) if op is c.op)
    sql = list(c.op.sql.statements) if c.st is not None and c.op.sql else []
    later_sql = sql[next(i for i, st in enumerate(sql) if st is c.st) + 1:] if sql else ()
    after = [*(x for st in later_sql for x in _statement_effects(c.op, st)), *effects(c.rev.upgrade[at + 1:])]
    return next((x for x in after if x.kind == "add_column" and x.table == c.table and x.name == e.name), None)


_GENERATED = re.compile(r"GENERATED\s+ALWAYS\s+AS|\bComputed\(", re.I)  # a generated (computed) column

class _OnePerRevision:
    """A rule whose findings in one revision share their cause (one migration written one way): each
    revision gets one finding, the others of that revision as related locations. An id that two trees
    share (copies of one history, an edition each) is a revision per file."""

    ID: str

    def each(self) -> Iterator[tuple[str, Finding]]:
        """(the table, its finding)."""
        raise NotImplementedError

    # What holds only where older instances still serve during the upgrade: a project that upgrades its
    # database at start-up, before serving, is told so ('' for a rule whose finding holds however it deploys).
    START_UP = ""
    # What the finding claims is PostgreSQL's (its locks, its errors): nothing where the application is known
    # to run on other databases only.
    POSTGRES = False

    def check(self):
        if self.POSTGRES and runs_on(self.facts).not_postgres:
            return
        files = Counter(r.revision for r in self.facts.revisions)
        groups: dict[tuple[str, str], list[tuple[str, Finding]]] = {}
        for table, f in self.each():
            revision = f.anchor.split(":")[1]  # one id in two trees (copies of one history): each file a revision of its own
            groups.setdefault((revision, f.location.path if files[revision] > 1 else ""), []).append((table, f))
        for found in groups.values():
            f = on_postgres(self.facts, self._one(found)) if self.POSTGRES else self._one(found)
            yield at_start_up(self.facts, f, self.START_UP) if self.START_UP else f

    def _one(self, found: list[tuple[str, Finding]]) -> Finding:
        """The revision's first finding, the others as related locations; one statement repeated by a loop
        (the same line, the same anchor) counts once. Where the others are on other tables, it names
        every table: the first is not always the one that matters."""
        (lead, first), rest, tables = found[0], [], []
        seen = {(first.location, first.anchor)}
        for table, f in found[1:]:
            if (f.location, f.anchor) not in seen:
                seen.add((f.location, f.anchor))
                rest.append(f)
                tables.append(table)
        if not rest:
            return first
        on = f", on {_names(list(dict.fromkeys(tables)))}" if set(tables) - {lead} else ""
        top = min((f.severity for f in (first, *rest)), key=lambda s: s.rank)
        return replace(
            first, message=f"{first.message} (and {len(rest)} more like it in this revision{on})"
                           f"{_mixed(first, rest, top, [lead, *tables])}",
            severity=top, related=first.related + tuple(Related(f.location, f.message) for f in rest),
            covers=tuple(dict.fromkeys(k for _, f in found for k in (identity_key(self.ID, f.anchor), *f.covers))),
        )


def _mixed(first: Finding, rest: list[Finding], top: Severity, tables: list[str]) -> str:
    """Where the revision's steps differ in severity, the group takes the highest (an info on its first step
    must not hide a warning on the next) and says which lines are which, or which tables where lines do not
    tell them apart (steps of one call of a function the revision hands them to, or of one loop); neither, when
    the tables do not either."""
    every = (first, *rest)
    if all(f.severity == first.severity for f in rest):
        return ""
    at = [str(f.location.start_line) for f in every]

    def tells(named: list[str]) -> bool:
        return all(len({f.severity for f, other in zip(every, named) if other == n}) == 1 for n in named)

    what, named = ("line", at) if tells(at) else ("", tables)
    if not tells(named):
        return ""

    def lines(sev: Severity) -> str:
        return f"{what} {_names(list(dict.fromkeys(n for f, n in zip(every, named) if f.severity == sev)))}".lstrip()

    lower = sorted({f.severity for f in every} - {top}, key=lambda s: s.rank)
    return f"; {top} for {lines(top)}" + "".join(f", {sev} only for {lines(sev)}" for sev in lower)


def _names(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


_RANK = ("rewrite", "backfill", "index", "validate")  # which step a revision's lock on a table is blamed on


class _LockRule(_OnePerRevision):
    """A rule about a lock a revision holds on an existing table. Where one revision holds ACCESS EXCLUSIVE
    on a table and runs several costly steps under it (a rewrite, a backfill, an index build, a scan that
    validates a constraint), one finding blames the lock on the costliest kind of step, by _RANK, and names
    the others, which get no finding of their own: splitting one of them off shortens nothing while the
    others still hold the lock."""

    START_UP = start_up.LOCK
    KIND: str

    def steps(self) -> Iterator[tuple[Change, Finding, str]]:
        """(the change, its finding, what it does in a few words: `builds index ix_a`)."""
        raise NotImplementedError

    def each(self):
        groups = _lock_groups(self.facts)
        for c, f, _ in self.steps():
            if _replaces_key(self.facts, c.rev, c.table):
                continue  # old code cannot run on either side of it: the revision needs downtime whatever it locks
            if _guard_may_skip(c.op):  # `if not has_booking_index(...)`: what the database holds decides whether it runs
                f = replace(f, message=f"{f.message}; it sits inside an `if` that asks the database what is there, so it "
                            "runs only where that check finds it missing", severity=Severity.INFO)
            if not self._under_lock(c):
                yield c.table, f
                continue
            mine = groups[(id(c.rev), c.table)]
            if min(_RANK.index(kind) for kind, _, _ in mine) < _RANK.index(self.KIND):
                continue  # the finding of the costlier step names this one
            others = list(dict.fromkeys((line, what) for kind, line, what in sorted(mine, key=lambda m: m[1]) if kind != self.KIND))
            if others:
                said = ", ".join(f"{what} on line {line}" for line, what in others[:4])
                f = replace(f, message=f"{f.message}; under the same lock it also {said}"
                            + (f" and {len(others) - 4} more" if len(others) > 4 else ""),
                            related=f.related + tuple(Related(Location(c.rev.path, line, line), f"{what}, under the same lock")
                                                      for line, what in others))
            yield c.table, f

    def _under_lock(self, c: Change) -> bool:
        return c.held is not None or self.KIND == "rewrite"


def _replaces_key(facts: Facts, rev: RevisionFact, table: str) -> bool:
    """Whether the revision drops the table's primary key (its constraint, or a column of it, as the revision
    that created the table declared it): every row's identity changes under the code deployed before, so the
    revision needs that code stopped, and how long it locks the table adds nothing to that."""
    cache: dict[tuple[int, str], bool] = facts.derived.setdefault("replaces_key", {})  # type: ignore[assignment]
    if (id(rev), table) not in cache:
        cache[(id(rev), table)] = any(
            op.name == "drop_constraint" and op.table == table and op.options.get("type_", "").strip("'\"") == "primary"
            or any(e.kind == "drop_column" and e.table == table and e.name in _key_columns(facts, rev, table) for e in effects([op]))
            for op in rev.upgrade if not op.not_postgres
        )
    return cache[(id(rev), table)]


def _key_columns(facts: Facts, rev: RevisionFact, table: str) -> set[str]:
    """The primary key columns that the revision which created `table` (before `rev`) gave it; none when its
    create_table could not be found (made by SQL)."""
    life = history(facts).before(rev, "table", table)
    made = next((op for op in life.creator.upgrade if op.name == "create_table" and op.span == life.span), None) if life else None
    if made is None:
        return set()
    return {c.name for c in made.columns if c.primary_key} | {
        name for con in made.constraints if con.kind == "primary_key" for name in con.columns}


def _guard_may_skip(op: MigrationOp) -> bool:
    """A step inside an inspector check that asks about something other than what the step makes (any
    index on the column, a table's presence): a database built by the migrations may skip it. One that
    asks for the very object it makes runs wherever the history says it is missing (and where an earlier
    revision made it, `changes` leaves it out)."""
    made = {key.rsplit(".", 1)[-1] for _, key, _ in created_objects(op)}
    return op.guarded and not made & set(op.guard_names)


def _lock_groups(facts: Facts) -> dict[tuple[int, str], list[tuple[str, int, str]]]:
    """For each revision and table, the costly steps run under the ACCESS EXCLUSIVE lock the revision holds
    on it: (kind, line, what it does)."""
    cached = facts.derived.get("lock_groups")
    if cached is None:
        cached = {}
        for rule in (TableRewrite, BackfillInSchemaMigration, IndexWithoutConcurrently, ValidatedUnderLock):
            r = rule(facts)
            for c, _, what in r.steps():
                if r._under_lock(c):
                    cached.setdefault((id(c.rev), c.table), []).append((rule.KIND, c.span.start, what))
        facts.derived["lock_groups"] = cached
    return cached  # type: ignore[return-value]


def at_start_up(facts: Facts, f: Finding, consequence: str = start_up.LOCK) -> Finding:
    """A finding in a project that upgrades its database at start-up, before it serves: it says so, points
    there, and is info (what it warns of happens only where older instances still serve)."""
    found = start_up.start_up_upgrade(facts, f.location.path)
    if found is None:
        return f
    span = found[0]
    return replace(f, message=f.message + start_up.note(facts, f.location.path, consequence), severity=Severity.INFO,
                   related=f.related + (Related(Location(span.path, span.start, span.end), "the database is upgraded here, at start-up"),))


class IndexWithoutConcurrently(_LockRule, Rule):
    """An index is built on an existing table without CONCURRENTLY.

    What it checks:
        In the newest revisions, `op.create_index(...)` without `postgresql_concurrently=True`, `CREATE INDEX`
        without `CONCURRENTLY`, and unique constraints built in place (`op.create_unique_constraint`,
        `ADD CONSTRAINT ... UNIQUE` without `USING INDEX`), on a table that an earlier revision created, or,
        where the history starts from a schema built another way (its first revision creates no table: the
        models' create_all, then `alembic stamp`), a table of the models that no revision creates (it is there,
        with its rows, before any revision runs; every lock rule counts it so).
        Tables the same revision creates are new and empty: not reported. "Newest" means the last 10
        generations of each Alembic tree (a head and the nine revisions before it on each path), as for
        every lock rule (MIG007, MIG009-MIG014): a reviewer reviews those; older revisions ran long ago on
        every database, often on tables that had no rows yet, and rewriting them changes nothing deployed.
        Trees kept for SQLite are left alone. An index on columns the same revision added (and wrote no
        rows into) is built under the ACCESS EXCLUSIVE lock that ALTER TABLE holds until commit: not
        reported. On other columns of a table an earlier step of the transaction already locked ACCESS
        EXCLUSIVE, the finding is an info that names that step: CONCURRENTLY cannot run inside it; and where
        the revision also rewrites the table or its rows under that lock (MIG011, MIG013), their finding
        names the build and it has none of its own. A build inside an inspector check may not run: info,
        and it says so; one whose check looks for an index on the same columns (get_indexes, which on
        PostgreSQL also returns a unique constraint's index) that an earlier revision made never runs on a
        database built by the migrations: no finding (nor for any lock step guarded so). In a project that upgrades its database at start-up, before serving (an entrypoint's
        `alembic upgrade head` before the server, alembic's `command.upgrade` from a lifespan), every lock
        finding (MIG007, MIG010, MIG011, MIG013, MIG014) says so, points there, and is info. A revision that
        drops a table's primary key (its constraint, or a column of it) needs the code deployed before stopped
        whatever it locks: no lock finding on that table. Where one finding stands for steps on several
        tables, it names every one, and MIG007 also names the tables the revision indexes the same way that
        no revision creates (made outside the migrations: their size is unknown). A unique index or constraint
        over rows already there also says that the upgrade fails on a database where two rows share the key
        (its predicate named), unless an earlier step of the revision may write rows, which dbreview cannot judge,
        or a column of the key is one the revision added with no default and wrote nothing into (every row holds
        NULL there, and NULLs never conflict).
        A plain build whose comment right above (or above another step of the revision on that table) names the
        table and says it is small is info: its author chose it, and the lock lasts as long as that table's build.
        So is a build on a table whose model no application code adds rows to (analyzers/rules/growth.py: no
        construction of its class, of a subclass of it, or through an attribute holding it, no insert into it, no relationship through it added to; settings, a catalog the
        migrations seed), which the message says: it holds what it was given and does not grow with use.
        A revision's finding takes the highest severity of its steps and, where they differ, says which lines
        are which (an info on the first build never hides a warning on the next).
    Why it matters:
        A plain CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on
        the table waits, for minutes on a big table. A unique constraint added in place is worse: ALTER
        TABLE holds ACCESS EXCLUSIVE, so reads wait too.
    Example:
        op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    Instead:
        `with op.get_context().autocommit_block(): op.create_index(..., postgresql_concurrently=True)`;
        for a unique constraint, build the unique index concurrently, then
        `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX ...`.
    Not reported where the application is known to run on other databases only (`scan --explain-layout` names them).
    """

    ID = "MIG007"
    POSTGRES = True
    ITEM = "3.3"
    SEVERITY = Severity.WARNING
    VALID = (
        later('''
with op.get_context().autocommit_block():
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"], postgresql_concurrently=True)
'''),
        later('''
op.create_table("refunds", sa.Column("id", sa.Integer, primary_key=True), sa.Column("order_id", sa.Integer))
op.create_index("ix_refunds_order_id", "refunds", ["order_id"])  # a new table: empty
'''),
        later('''
op.add_column("orders", sa.Column("status", sa.String(20)))
op.create_index("ix_orders_status", "orders", ["status"])  # a new, all-NULL column, the table already locked
'''),
        later('''
with op.get_context().autocommit_block():
    op.execute("CREATE UNIQUE INDEX CONCURRENTLY orders_note_key ON orders (note)")
op.execute("ALTER TABLE orders ADD CONSTRAINT orders_note_key UNIQUE USING INDEX orders_note_key")
'''),
    )
    INVALID = (
        later('op.create_index("ix_orders_customer_id", "orders", ["customer_id"])'),
        later('op.execute("CREATE INDEX ix_orders_total ON orders (total)")'),
        later('op.create_unique_constraint("uq_orders_note", "orders", ["note"])'),
    )

    KIND = "index"

    def _one(self, found: list[tuple[str, Finding]]) -> Finding:
        f = super()._one(found)
        unknown = _built_on_unplaced_tables(self.facts, f.location.path)
        if not unknown:
            return f
        return replace(f, message=f"{f.message}; it also builds indexes the same way on {_names(unknown)}, which no revision "
                                  "here creates (made some other way): how many rows they hold dbreview cannot tell")

    def steps(self):
        for c in changes(self.facts):
            op, st = c.op, c.st
            if st is None and op.name == "create_index" and not _truthy(op, "postgresql_concurrently"):
                name = op.index.name if op.index else None
                found, what = self._index(c, name, op.index.columns if op.index else ()), f"builds index {name or '(unnamed)'}"
            elif st is not None and st.kind == "create_index" and not st.details.get("concurrent"):
                name = st.details.get("name")
                found, what = self._index(c, name, st.details.get("columns") or ()), f"builds index {name or '(unnamed)'}"  # type: ignore[arg-type]
            elif st is None and op.name == "create_unique_constraint":
                con = op.constraints[0] if op.constraints else None
                found, what = self._unique(c, con.name if con else None, con.columns if con else ()), \
                    f"builds unique constraint {con.name if con and con.name else '(unnamed)'}"
            else:
                found, what = next(((self._unique(c, change.get("name"), change.get("columns") or ()),
                                     f"builds unique constraint {change.get('name') or '(unnamed)'}")
                                    for change in _column_change(st, "add_constraint")
                                    if change["kind"] in ("unique", "primary") and not change.get("using_index")), (None, ""))
            if found is not None:
                yield c, self._needs_unique_rows(c, found), what

    def _needs_unique_rows(self, c: Change, found: Finding) -> Finding:
        """A unique index or constraint over rows already there: its build fails where two of them share the
        key. Said with the key as written, and the index's predicate."""
        op, st = c.op, c.st
        columns: tuple[str, ...] = ()
        where = None
        if st is None and op.name == "create_index" and op.index is not None and op.index.unique:
            columns, where = op.index.columns, op.index.where
            columns = columns or tuple(_index_expressions(self.facts, op))
        elif st is None and op.name == "create_unique_constraint" and op.constraints:
            columns = op.constraints[0].columns
        elif st is not None and st.kind == "create_index" and st.details.get("unique"):
            columns, where = tuple(st.details.get("columns") or ()), st.details.get("where")  # type: ignore[arg-type]
        elif st is not None:
            change = next((ch for ch in _column_change(st, "add_constraint") if ch["kind"] == "unique"), None)
            columns = tuple(change.get("columns") or ()) if change else ()
        if not columns or _implied_unique(self.facts, c, tuple(str(x) for x in columns)) or any(_all_null(c, str(x)) for x in columns):
            return found
        key = ", ".join(str(x) for x in columns)
        rows = f"two rows of {c.table} already share ({key})" + (f" among those where {where}" if where else "")
        said = precondition(self.facts, c, rows)
        return replace(found, message=found.message + said) if said else found

    def _index(self, c: Change, name: object, columns: tuple[str, ...]):
        if c.on_fresh(columns):
            return None  # built under the lock its new column's ALTER TABLE holds anyway: CONCURRENTLY gains nothing
        if c.held is not None:
            return self._under_held(c, f"{f'index {name}' if name else 'an unnamed index'} on {c.table}", f"index:{c.table}:{name}")
        small = _said_small(self.facts, c)
        unused = None if small else stays_small(self.facts, c.table)
        return self.finding(
            f"{c.who} builds {f'index {name}' if name else 'an unnamed index'} on {c.table} without CONCURRENTLY; {c.since}, so writes to it wait "
            "for the whole build (SHARE lock)" + (f"; its author's comment says the table stays small ({small!r}): a plain build on "
                                                  "purpose, as short as the table is" if small else _small_by_use(unused)),
            c.span, f"migration:{c.rev.revision}:index:{c.table}:{name}", severity=Severity.INFO if small or unused else None,
            related=unused[1] if unused else (),
        )

    def _unique(self, c: Change, name: object, columns: tuple[str, ...]):
        if c.on_fresh(columns):
            return None
        if c.held is not None:
            return self._under_held(c, f"the index of unique constraint {name or '(unnamed)'} on {c.table}", f"unique:{c.table}:{name}")
        unused = stays_small(self.facts, c.table)
        return self.finding(
            f"{c.who} adds unique constraint {name or '(unnamed)'} to {c.table} in place; {c.since}, so reads and "
            "writes wait while its index is built (ACCESS EXCLUSIVE lock): build the index CONCURRENTLY and add "
            "the constraint USING INDEX" + _small_by_use(unused),
            c.span, f"migration:{c.rev.revision}:unique:{c.table}:{name}", item="3.4",
            severity=Severity.INFO if unused else None, related=unused[1] if unused else (),
        )

    def _under_held(self, c: Change, what: str, anchor: str):
        """The table is already locked ACCESS EXCLUSIVE by an earlier step of the transaction: CONCURRENTLY
        cannot help inside it, and the build lengthens that lock (info: its cost is the table's size)."""
        return self.finding(
            f"{c.who} builds {what} while the ACCESS EXCLUSIVE lock that its {c.held} took is held until "
            f"commit; {c.since}, so reads and writes wait for the whole build too. CONCURRENTLY would need the "
            "index in a step of its own, outside this transaction",
            c.span, f"migration:{c.rev.revision}:{anchor}", severity=Severity.INFO,
        )


_SMALL = re.compile(r"\b(small|tiny|few rows|a handful)\b", re.I)


def _small_by_use(unused: tuple[str, list] | None) -> str:
    """A lock finding's words on a table the application never adds rows to: it holds what it was given, so its
    build is as short as that (growth.stays_small)."""
    return (f"; but {unused[0]}: a table that does not grow with use holds what it was given, and its build lasts as long "
            "as those rows take" if unused else "")


def _said_small(facts: Facts, c: Change) -> str | None:
    """The comment right above the step, or above another step of the revision on the same table, when it names
    the table and says it is small (`# search_filter_group holds per-user saved filters and stays small`): its
    author's reason for a plain build (of every index the revision builds there), first 80 characters."""
    for op in (c.op, *(o for o in c.rev.upgrade if o.table == c.table and o is not c.op)):
        lines: list[str] = []
        at = op.span.start - 1
        while at >= 1 and (line := "".join(facts.lines(Span(c.rev.path, at, at))).strip()).startswith("#"):
            lines.insert(0, line.lstrip("# "))
            at -= 1
        said = " ".join(lines)
        if _SMALL.search(said) and re.search(rf"\b{re.escape(c.table)}\b", said):
            return said[:80]
    return None


def _built_on_unplaced_tables(facts: Facts, path: str) -> list[str]:
    """The tables the revision at `path` indexes without CONCURRENTLY (inside its transaction) that neither it
    nor an earlier revision creates: they exist (the upgrade needs them), made outside the migrations. The models'
    tables of a history that starts from a schema built another way are not among them: `changes` knows those."""
    hist, out, outside = history(facts), [], made_outside(facts)
    for rev in (r for r in facts.revisions if r.path == path):
        made: set[str] = set()
        for op in rev.upgrade:
            made.update(e.table for e in effects([op]) if e.kind == "create_table" and e.table)
            if op.not_postgres or op.autocommit:
                continue
            tables = [op.table] if op.name == "create_index" and not _truthy(op, "postgresql_concurrently") else []
            tables += [st.table for st in (op.sql.statements if op.sql else ()) if st.kind == "create_index" and not st.details.get("concurrent")]
            tree = hist.tree_of.get(id(rev), "")
            out += [t for t in tables if t and t not in made and not hist.lives.get((tree, "table", t)) and t not in outside.get(tree, ())]
    return list(dict.fromkeys(out))


def _env_text(facts: Facts, rev: RevisionFact) -> str:
    """The env.py of the revision's Alembic environment, as text ('' when there is none)."""
    folder = rev.path.rsplit("/", 1)[0]
    while folder:
        for m in facts.modules:
            if m.path == f"{folder}/env.py":
                return "\n".join(facts.lines(Span(m.path, 1, 10**6)))
        folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
    return ""


_OUTSIDE_TRANSACTION = re.compile(r"transactional_ddl\s*=\s*False|AUTOCOMMIT", re.I)
# env.py's connection in autocommit mode (`connection.execution_options(isolation_level="AUTOCOMMIT")`)
_AUTOCOMMIT_ENV = re.compile(r"""isolation_level\s*=\s*["']AUTOCOMMIT["']""", re.I)


def one_transaction(facts: Facts, rev: RevisionFact) -> bool:
    """Whether, on PostgreSQL, the revision's upgrade is one transaction: no autocommit block, no COMMIT of its
    own, and env.py neither turns transactional DDL off nor connects in AUTOCOMMIT. A failed run then leaves
    nothing of it behind."""
    return not any(op.autocommit or any(st.kind in ("commit", "rollback") for st in (op.sql.statements if op.sql else ()))
                   for op in rev.upgrade) and not _OUTSIDE_TRANSACTION.search(_env_text(facts, rev))


class ConcurrentlyInTransaction(Rule):
    """A migration's steps run outside the transaction they need: CONCURRENTLY inside it, or steps after a COMMIT.

    What it checks:
        `postgresql_concurrently=True` or `CREATE/DROP INDEX CONCURRENTLY` outside
        `op.get_context().autocommit_block()`, with no COMMIT before it in the revision, when env.py
        neither turns transactional DDL off nor connects in AUTOCOMMIT. Every revision is checked: one
        that fails, fails on each fresh `alembic upgrade head`. And, in the newest revisions (as for the lock
        rules, MIG007), an upgrade that runs `COMMIT` (`op.execute("COMMIT")`, to leave Alembic's
        transaction) and then two or more steps, one of which changes the schema, with no BEGIN between:
        each of them commits on its own (that finding is filed under item 3.2). A `SET LOCAL` after the COMMIT is named: outside a transaction block it lasts for no statement.
    Why it matters:
        Alembic runs migrations inside a transaction on PostgreSQL, and CREATE INDEX CONCURRENTLY
        "cannot run inside a transaction block": the deploy stops at this revision. After a COMMIT of its
        own, a failure midway leaves the schema half-changed (the steps before it kept, alembic_version not
        advanced), and running the upgrade again starts from steps that are already done.
    Example:
        op.create_index("ix_orders_total", "orders", ["total"], postgresql_concurrently=True)
    Instead:
        `with op.get_context().autocommit_block():` around the concurrent statements, and only those (or a
        statement PostgreSQL refuses in a transaction, such as `ALTER TYPE ... ADD VALUE` before version 12);
        the other steps in Alembic's transaction, or in a revision of their own.
    """

    ID = "MIG008"
    ITEM = "3.3"
    SEVERITY = Severity.WARNING
    VALID = IndexWithoutConcurrently.VALID[:1] + (later('''
op.execute("COMMIT")  # leave Alembic's transaction
op.execute("CREATE INDEX CONCURRENTLY ix_orders_total ON orders (total)")
'''),)
    INVALID = (
        later('op.create_index("ix_orders_total", "orders", ["total"], postgresql_concurrently=True)'),
        later('op.execute("DROP INDEX CONCURRENTLY ix_orders_total")'),
        later('''
op.execute("COMMIT")
op.execute("ALTER TYPE order_state RENAME TO order_state_old")
op.execute("CREATE TYPE order_state AS ENUM ('open', 'paid')")
op.execute("ALTER TABLE orders ALTER COLUMN note TYPE order_state USING note::text::order_state")
'''),
    )

    def check(self):
        yield from self._concurrently()
        yield from self._after_commit()

    def _after_commit(self):
        """Recent revisions whose upgrade commits Alembic's transaction, then runs several steps, one a schema
        change, each committed alone."""
        window = recent(self.facts)
        for rev in self.facts.revisions:
            if id(rev) not in window or for_sqlite(rev) or _OUTSIDE_TRANSACTION.search(_env_text(self.facts, rev)):
                continue
            commit, steps, local = _steps_after_commit(rev)
            if commit is None or len(steps) < 2 or not any(schema for _, _, schema in steps):
                continue
            shown = ", ".join(f"{what} on line {line}" for what, line, _ in steps[:3]) + (", ..." if len(steps) > 3 else "")
            yield self.finding(
                f"revision {rev.revision} runs COMMIT on line {commit.start}, which ends Alembic's transaction: the "
                f"{len(steps)} steps after it ({shown}) each commit on their own, so a failure midway leaves the schema "
                "half-changed with alembic_version not advanced, and running the upgrade again starts from steps "
                "already done" + (f"; the SET LOCAL on line {local} after it, outside a transaction block, lasts for "
                                  "no statement" if local else ""),
                commit, f"migration:{rev.revision}:commit-midway", item="3.2",
            )

    def _concurrently(self):
        envs: dict[str, bool] = {}
        for rev in self.facts.revisions:
            if for_sqlite(rev):
                continue
            committed = False
            for op in rev.upgrade:
                for st in op.sql.statements if op.sql else [None]:
                    if st is not None and st.kind in ("commit", "rollback", "unparsed"):
                        committed = True  # or, unread, it may have: no claim rests on SQL dbreview could not read
                    concurrent = (_truthy(op, "postgresql_concurrently") if st is None
                                  else bool(st.details.get("concurrent")) or "CONCURRENTLY" in st.text.upper() and st.kind == "ReindexStmt")
                    if not concurrent or op.autocommit or committed:
                        continue
                    folder = rev.path.rsplit("/", 1)[0]
                    if folder not in envs:
                        envs[folder] = bool(_OUTSIDE_TRANSACTION.search(_env_text(self.facts, rev)))
                    if envs[folder]:
                        continue
                    span = st.span if st is not None else op.span
                    yield self.finding(
                        f"revision {rev.revision} runs CONCURRENTLY inside Alembic's transaction: PostgreSQL refuses it "
                        "('cannot run inside a transaction block') and the upgrade stops here",
                        span, f"migration:{rev.revision}:concurrently:{span.start}",
                    )


# Statements that read or set session state: no step of the schema's or the rows' to be left half-done.
_NO_STEP = ("set", "set_local", "reset", "VariableShowStmt", "SelectStmt", "set_config", "commit", "rollback")


def _steps_after_commit(rev: RevisionFact) -> tuple[Span | None, list[tuple[str, int, bool]], int | None]:
    """The upgrade's last COMMIT outside an autocommit block, the steps after it ((what, line, changes the schema),
    none once a BEGIN opens a transaction again), and the line of a SET LOCAL among them."""
    commit, steps, local = None, [], None
    for op in rev.upgrade:
        if op.not_postgres or op.autocommit:
            continue
        for st in op.sql.statements if op.sql else [None]:
            if st is not None and st.kind == "commit":
                commit, steps, local = st.span, [], None
            elif commit is None:
                continue
            elif st is not None and st.kind in ("begin", "start"):
                commit = None
            elif st is not None and st.kind == "set_local":
                local = local or st.span.start
            elif st is None and op.name not in ("execute", "unread"):
                steps.append((op.name, op.span.start, changes_schema([op])))
            elif st is not None and st.kind not in _NO_STEP:
                steps.append((_statement_name(st), st.span.start, st.kind not in DATA_SQL))
    return commit, steps, local


def _statement_name(st: SqlStatement) -> str:
    """`ALTER TABLE updates`, `UPDATE updates`, `CREATE TYPE`: the statement's first words and its table, as a
    finding lists the steps."""
    words = st.text.split()
    if st.details.get("dml_table"):
        return f"{words[0].upper()} {st.details['dml_table']}"
    head = " ".join(words[:2]).upper()
    return f"{head} {st.table}" if st.table else head


_IDENTITY = re.compile(r"\b(Identity|Computed)\s*\(", re.I)
_SERIAL = re.compile(r"^(small|big)?serial", re.I)


_INTEGERS = frozenset(("Integer", "BigInteger", "SmallInteger", "INTEGER", "BIGINT", "SMALLINT"))


class NotNullColumnWithoutDefault(_OnePerRevision, Rule):
    """A NOT NULL column is added to an existing table without a server default.

    What it checks:
        In the newest revisions, `op.add_column(t, sa.Column(..., nullable=False))` with no
        `server_default` (and `ADD COLUMN ... NOT NULL` without `DEFAULT`), on a table that an earlier
        revision created. Identity, generated and serial columns fill themselves and are left alone. A
        Python-side `default=` does not count: the ORM applies it to new rows only.
    Why it matters:
        PostgreSQL fills the new column of every existing row with NULL, and the NOT NULL check fails:
        "column ... contains null values". The migration works on an empty development database and
        fails on the first database that has rows.
    Example:
        op.add_column("orders", sa.Column("currency", sa.String(3), nullable=False))
    Instead:
        Give it a `server_default` (drop the default in a later step if the code always sets it), or add
        it nullable, backfill, then `SET NOT NULL`.
    Not reported where the application is known to run on other databases only (`scan --explain-layout` names them).
    """

    ID = "MIG009"
    POSTGRES = True
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    VALID = (
        later('op.add_column("orders", sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"))'),
        later('op.add_column("orders", sa.Column("currency", sa.String(3), nullable=True))'),
        later('op.execute("ALTER TABLE orders ADD COLUMN seq bigserial NOT NULL")'),
    )
    INVALID = (
        later('op.add_column("orders", sa.Column("currency", sa.String(3), nullable=False))'),
        later('op.execute("ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL")'),
    )

    def each(self):
        for c in changes(self.facts):
            if c.st is None and c.op.name == "add_column":
                for col in c.op.columns:
                    if self._needs_default(col):
                        yield c.table, self._found(c, col.name, col.default is not None)
            for change in _column_change(c.st, "add_column"):
                if change["not_null"] and change["default"] is None and not (change["identity"] or change["generated"]) \
                        and not _SERIAL.match(str(change["type"] or "")):
                    yield c.table, self._found(c, str(change["column"]), False)

    def _needs_default(self, col: ColumnFact) -> bool:
        if not (col.nullable is False or col.primary_key) or col.server_default is not None or col.autoincrement == "identity":
            return False
        if col.primary_key and col.type_name in _INTEGERS and col.autoincrement not in ("False", "false"):
            return False  # an integer primary key added alone renders SERIAL: its sequence fills the rows there are
        return not _IDENTITY.search("\n".join(self.facts.lines(col.span)))

    def _found(self, c: Change, column: str, python_default: bool):
        note = " (its Python-side default= is applied by the ORM to new rows only)" if python_default else ""
        return self.finding(
            f"{c.who} adds {c.table}.{column} NOT NULL without a server default{note}; {c.since}, and on a database "
            f"where {c.table} has rows the ALTER TABLE fails ('column \"{column}\" contains null values')",
            c.span, f"migration:{c.rev.revision}:not-null:{c.table}.{column}",
        )


class ValidatedUnderLock(_LockRule, Rule):
    """A constraint on an existing table is checked against every row while the table is locked.

    What it checks:
        In the newest revisions, on a table that an earlier revision created: a foreign key or CHECK
        added without `NOT VALID` (`op.create_foreign_key`, `op.create_check_constraint` without
        `postgresql_not_valid=True`, `ADD CONSTRAINT ... FOREIGN KEY/CHECK` in SQL), and SET NOT NULL on a
        column an earlier revision created (`op.alter_column(..., nullable=False)`) unless the earlier revisions
        already made it NOT NULL (PostgreSQL skips the scan then; where SQL the replay does not follow made or
        changed it, the finding says it could not read that) or a CHECK (column IS NOT NULL) on it was VALIDATEd
        before, in this revision or an earlier one (PostgreSQL 12+ proves NOT NULL from it), and a character column
        made narrower (`String()` to `String(255)`, the old type from `existing_type` or the earlier revisions: PostgreSQL checks every row and rewrites the table and its
        indexes, as a shorter limit is no binary-compatible change). A constraint on columns the same revision added (and
        wrote no rows into) is not reported: they hold NULL or their default, and the ADD COLUMN already holds ACCESS EXCLUSIVE
        until commit, so NOT VALID gains nothing; where an earlier step already holds that lock, the
        finding names it and says what helps (NOT VALID here, VALIDATE in a revision of its own), unless a costlier step runs under that same lock (a rewrite, a backfill, an index
        build), whose finding then names this check. A CHECK or SET NOT NULL also says that the upgrade fails on a
        database whose rows break it (a NULL, a row the CHECK refuses), unless an earlier step of the revision
        may write rows (SQL, a session or connection call), which dbreview cannot judge. Steps in a branch only another database runs
        (`if dialect.name == "mysql":`) are left out, as by every lock rule. Info: how long the scan takes depends on the table's size,
        which the code does not tell.
    Why it matters:
        The check reads the whole table under a lock: SHARE ROW EXCLUSIVE on both tables for a foreign
        key, ACCESS EXCLUSIVE for a CHECK or SET NOT NULL, so writes (and for the latter reads too) wait.
    Example:
        op.create_foreign_key("fk_orders_customer", "orders", "customers", ["customer_id"], ["id"])
    Instead:
        Add it `NOT VALID` (`postgresql_not_valid=True`), then `VALIDATE CONSTRAINT` in a later step,
        which takes a lighter lock; for NOT NULL, a `CHECK (col IS NOT NULL) NOT VALID`, validated, then
        SET NOT NULL (PostgreSQL 12+ skips the scan).
    Not reported where the application is known to run on other databases only (`scan --explain-layout` names them).
    """

    ID = "MIG010"
    POSTGRES = True
    ITEM = "3.6"
    SEVERITY = Severity.INFO
    VALID = (
        later('op.create_foreign_key("fk_orders_customer", "orders", "customers", ["customer_id"], ["id"], postgresql_not_valid=True)'),
        later('op.execute("ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID")'),
        later('''
op.add_column("orders", sa.Column("paid", sa.Boolean(), nullable=True))
op.alter_column("orders", "paid", nullable=False)  # added by this revision: no rows to scan yet
'''),
        later('''
op.add_column("orders", sa.Column("refund_of", sa.Integer))
op.create_foreign_key("fk_orders_refund_of", "orders", "orders", ["refund_of"], ["id"])  # all NULL, already locked
'''),
        later('''
if op.get_bind().dialect.name == "mysql":
    op.create_foreign_key("fk_orders_customer", "orders", "customers", ["customer_id"], ["id"])
'''),
    )
    INVALID = (
        later('op.create_foreign_key("fk_orders_customer", "orders", "customers", ["customer_id"], ["id"])'),
        later('op.execute("ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0)")'),
        later('op.alter_column("orders", "total", existing_type=sa.Integer(), nullable=False)'),
        later('op.alter_column("orders", "note", type_=sa.String(length=20), existing_type=sa.String(50))'),
    )

    KIND = "validate"

    def steps(self):
        for c in changes(self.facts):
            op = c.op
            if c.st is None and op.name in ("create_foreign_key", "create_check_constraint") and not _truthy(op, "postgresql_not_valid"):
                kind = "foreign key" if op.name == "create_foreign_key" else "CHECK"
                con = op.constraints[0] if op.constraints else None
                if not c.on_fresh(self._columns(c, con.columns if con else (), con.expression if con else None)):
                    yield c, self._constraint(c, kind, con.name if con else None), f"validates {kind} {con.name if con and con.name else '(unnamed)'}"
            elif c.st is None and op.name == "alter_column" and c.column_before(self.facts, op.target or ""):
                if op.columns and op.columns[0].nullable is False and (found := self._not_null(c, op.target or "")):
                    yield c, found, f"sets {op.target} NOT NULL"
                new, old = op.options.get("type_", ""), _old_type(self.facts, c, op.target or "")
                if _STRINGS.match(new) and _STRINGS.match(old) and _length(new) < _length(old):
                    yield c, self.finding(
                        f"{c.who} narrows {c.table}.{op.target} from {old} to {new}: every row is checked against the new "
                        "length, and the table and its indexes rewritten (a shorter varchar limit is no binary-compatible change), "
                        "under an ACCESS EXCLUSIVE lock",
                        c.span, f"migration:{c.rev.revision}:narrow:{c.table}.{op.target}", item="3.2",
                    ), f"narrows {op.target}"
            for change in _column_change(c.st, "add_constraint"):
                if change["kind"] in ("foreign", "check") and not change["not_valid"] and not c.on_fresh(change.get("columns") or ()):
                    kind = "foreign key" if change["kind"] == "foreign" else "CHECK"
                    yield c, self._constraint(c, kind, change.get("name")), f"validates {kind} {change.get('name') or '(unnamed)'}"
            for change in _column_change(c.st, "set_not_null"):
                if c.column_before(self.facts, str(change["column"])) and (found := self._not_null(c, str(change["column"]))):
                    yield c, found, f"sets {change['column']} NOT NULL"

    def _columns(self, c: Change, columns: tuple[str, ...], expression: str | None) -> tuple[str, ...]:
        """The table's columns a constraint is on, or that its CHECK expression names."""
        if columns or not expression:
            return columns
        words = dict.fromkeys(re.findall(r"[A-Za-z_]\w*", expression))
        return tuple(w for w in words if w in c.fresh_columns or c.column_before(self.facts, w))

    def _constraint(self, c: Change, kind: str, name: object):
        lock = "SHARE ROW EXCLUSIVE lock, writes wait" if kind == "foreign key" else "ACCESS EXCLUSIVE lock, reads and writes wait"
        message = (f"{c.who} adds {kind} {name or '(unnamed)'} to {c.table} without NOT VALID; {c.since}, and every row is "
                   f"checked while it is locked ({lock})")
        if c.held is not None:  # NOT VALID alone shortens nothing here: the scan must leave this transaction
            message = (f"{c.who} adds {kind} {name or '(unnamed)'} to {c.table} under the ACCESS EXCLUSIVE lock its {c.held} "
                       f"took, held until commit; {c.since}, and every row is checked before that lock ends, so reads and "
                       "writes wait for the scan: added NOT VALID here and validated (VALIDATE CONSTRAINT) in a revision of "
                       "its own, the scan would run after this lock ends, under one that lets reads and writes through")
        if kind == "CHECK" and not _replaces_a_check(c):  # a CHECK rebuilt in place: the rows met the old one
            message += precondition(self.facts, c, f"a row of {c.table} already breaks the CHECK")
        return self.finding(
            message,
            c.span, f"migration:{c.rev.revision}:validate:{c.table}:{name}", item="3.6" if kind == "foreign key" else "3.5",
            # a name given through batch_op.f(...) was read as None before: a review saved then keeps its decision
            covers=(identity_key(self.ID, f"migration:{c.rev.revision}:validate:{c.table}:None"),) if name else (),
        )

    def _not_null(self, c: Change, column: str):
        """None where the earlier revisions already made the column NOT NULL: PostgreSQL then skips the scan."""
        created = c.column_before(self.facts, column)
        if _validated_not_null(self.facts, c, column):
            return None
        then = column_then(self.facts, c.rev, c.op, c.table, column)
        unread = then is None or then.type_name is None or sql_touches(self.facts, c.table, column)
        if not unread and not then.is_nullable:  # type: ignore[union-attr]
            return None
        if then is None and not sql_touches(self.facts, c.table, column):  # a table from before the migrations
            by_ops = _not_null_by_ops(self.facts, c, column)  # its column added by an earlier step: read from the steps
            if by_ops:
                return None
            unread = by_ops is None
        since = f"since revision {created.creator.revision}" if isinstance(created, Life) else "from before the migrations"
        what = f"{c.who} sets {c.table}.{column} NOT NULL (the column exists {since})"
        if unread:  # made or changed by SQL the replay does not follow: it may be NOT NULL already
            what += (": dbreview could not read whether the earlier revisions already made it NOT NULL (then PostgreSQL "
                     "skips the scan); if they did not, every row is scanned under an ACCESS EXCLUSIVE lock")
        else:
            what += ": every row is scanned under an ACCESS EXCLUSIVE lock"
        return self.finding(
            what + precondition(self.facts, c, f"{c.table}.{column} holds a NULL"),
            c.span, f"migration:{c.rev.revision}:set-not-null:{c.table}.{column}", item="3.2",
        )


# A CHECK that says only that a column is not NULL, in SQL or as SQLAlchemy writes it (`column("x").is_not(None)`).
_IS_NOT_NULL = re.compile(r"""^\(?\s*"?(\w+)"?\s+IS\s+NOT\s+NULL\s*\)?$|^(?:\w+\.)?column\(\s*['"](\w+)['"]\s*\)\.is_?not\(\s*None\s*\)$""", re.I)


def _not_null_by_ops(facts: Facts, c: Change, column: str) -> bool | None:
    """Whether the steps before this one that add or alter `table.column` (in this revision's ancestors, then its
    own) leave it NOT NULL, None where no step added it: the replay has no table to say so when the table is older
    than the migrations."""
    seen = history(facts).ancestors.get(id(c.rev), frozenset())
    not_null: bool | None = None
    for rev in (*(r for r in facts.revisions if id(r) in seen), c.rev):
        for op in rev.upgrade:
            if op is c.op:
                return not_null
            if op.table != c.table:
                continue
            if op.name == "add_column" and op.columns and op.columns[0].name == column:
                not_null = op.columns[0].nullable is False or op.columns[0].primary_key
            elif op.name == "alter_column" and op.target == column and op.columns and op.columns[0].nullable is not None \
                    and not_null is not None:
                not_null = not op.columns[0].nullable
            elif op.name == "drop_column" and op.target == column:
                not_null = None
    return not_null


def _validated_not_null(facts: Facts, c: Change, column: str) -> bool:
    """Whether a CHECK (column IS NOT NULL) on the table was validated before this step (VALIDATE CONSTRAINT, in
    this revision or an earlier one): PostgreSQL 12+ proves SET NOT NULL from it and skips the scan."""
    checks: set[str] = set()  # the table's constraints that only say the column is not NULL
    validated: set[str] = set()
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.table == c.table and op.name == "create_check_constraint":
                checks.update(con.name for con in op.constraints if con.name and _says_not_null(con.expression, column))
            for st in op.sql.statements if op.sql else ():
                if st is c.st:
                    return bool(checks & validated)
                if st.kind == "alter_table" and st.table == c.table:
                    checks.update(str(con["name"]) for con in st.details.get("added_constraints", ())
                                  if con.get("kind") == "check" and _says_not_null(con.get("expression"), column))
                    validated.update(str(ch["name"]) for ch in _column_change(st, "validate_constraint"))
            if op is c.op:
                return bool(checks & validated)
    return False


def _says_not_null(expression: object, column: str) -> bool:
    found = _IS_NOT_NULL.match(str(expression or "").strip())
    return bool(found) and column in found.groups()


_STRINGS = re.compile(r"^([\w.]*\.)?(String|Text|Unicode|UnicodeText|VARCHAR|TEXT|CITEXT|AutoString)\b|^(varchar|text|character varying)", re.I)
_VOLATILE = re.compile(r"\b(gen_random_uuid|uuid_generate_v[14]\w*|random|clock_timestamp|timeofday|nextval)\s*\(", re.I)


def _old_type(facts: Facts, c: Change, column: str) -> str:
    """The column's type before an op.alter_column: its existing_type, else the type the earlier revisions gave
    it, spelled as in a migration; "" where neither tells (a character type whose length the replay does
    not know counts as unknown: `VARCHAR(9)` read as unlimited would turn a widening into a narrowing)."""
    if c.op.options.get("existing_type"):
        return c.op.options["existing_type"]
    then = column_then(facts, c.rev, c.op, c.table, column)
    if then is None or not then.type_name or then.type_args.get("unresolved") or sql_touches(facts, c.table, column):
        return ""
    if then.type_args.get("length"):
        return f"{then.type_name}({then.type_args['length']})"
    unbounded = then.type_name.lower() in ("text", "unicodetext", "citext")
    return "" if _STRINGS.match(then.type_name) and not unbounded else then.type_name


def _was_character(facts: Facts, c: Change, column: str) -> bool:
    """Whether the earlier revisions made the column a character type, of a length _old_type may not know: a
    character type of no length, or another collation (`sa.String(collation="C")`), rewrites nothing then (a
    collation's indexes are rebuilt)."""
    then = column_then(facts, c.rev, c.op, c.table, column)
    return then is not None and bool(then.type_name) and not then.type_args.get("unresolved") \
        and not sql_touches(facts, c.table, column) and bool(_STRINGS.match(then.type_name))


def _same_type(facts: Facts, c: Change, column: str, altered: list[ColumnFact]) -> bool:
    """Whether the earlier revisions already gave the column the type it is altered to: an Enum of the same
    name (one PostgreSQL type), or the same type with the same arguments. Nothing is rewritten then."""
    then = column_then(facts, c.rev, c.op, c.table, column)
    new = altered[0] if altered else None
    if then is None or new is None or not new.type_name or then.type_name != new.type_name or sql_touches(facts, c.table, column):
        return False
    if new.type_name in ("Enum", "ENUM"):
        name = new.type_args.get("name", "").strip("'\"")
        return bool(name) and then.type_args.get("name", "").strip("'\"") == name
    return then.type_args == new.type_args


_NUMERIC = ("numeric", "decimal")
_PRECISION = re.compile(r"(?:Numeric|NUMERIC|DECIMAL|Decimal)\(\s*(?:precision\s*=\s*)?(\d+)\s*(?:,\s*(?:scale\s*=\s*)?(\d+))?\s*\)")


def _numeric_widened(facts: Facts, c: Change, column: str, altered: list[ColumnFact]) -> bool:
    """Whether the column goes from NUMERIC(p, s) to NUMERIC(p2, s), p2 >= p: at the same scale PostgreSQL (9.2 and
    later) raises the precision without rewriting the table or its indexes. The type before is the one the earlier
    revisions gave it, where they tell (existing_type may say a plain Numeric that they made NUMERIC(10, 5)), else
    existing_type's."""
    new = altered[0] if altered else None
    if new is None or (new.type_name or "").lower() not in _NUMERIC or not new.type_args.get("precision"):
        return False
    then = column_then(facts, c.rev, c.op, c.table, column)
    if then is not None and (then.type_name or "").lower() in _NUMERIC and then.type_args.get("precision") \
            and not sql_touches(facts, c.table, column):
        old = (then.type_args["precision"], then.type_args.get("scale", "0"))
    elif (m := _PRECISION.search(c.op.options.get("existing_type", ""))) is not None:
        old = (m.group(1), m.group(2) or "0")
    else:
        return False  # an unconstrained NUMERIC given a precision: its values are checked, the table rewritten
    precision, scale = new.type_args["precision"], new.type_args.get("scale", "0")
    return all(x.isdigit() for x in (*old, precision, scale)) and int(precision) >= int(old[0]) and int(scale) == int(old[1])


def _length(type_source: str) -> float:
    """The length limit a character type's source sets (`sa.String(length=255)`, `VARCHAR(36)`); none: infinite."""
    m = re.search(r"\(\s*(?:length\s*=\s*)?(\d+)", type_source)
    return int(m.group(1)) if m else float("inf")


class TableRewrite(_LockRule, Rule):
    """A change makes PostgreSQL rewrite an existing table.

    What it checks:
        In the newest revisions, on a table that an earlier revision created: a column's type changed
        (`op.alter_column(..., type_=...)`, `ALTER COLUMN ... TYPE`), unless both types are character
        types (widening a varchar, turning it to text or giving it another collation does not rewrite;
        narrowing is MIG010's) or the earlier revisions already gave the column that type (an Enum of the
        same name), or a NUMERIC's precision raised at the same scale (`Numeric(10, 5)` to `Numeric(15, 5)`, the
        type before read from the earlier revisions where they give it, else from existing_type). A type passed through a helper of the revision (`def alter(t, c, type_):
        op.alter_column(t, c, type_=type_)`) is the one its caller writes. The old type is
        `existing_type`, else what the earlier revisions made it (on a table made outside the migrations too, for a
        column a revision added); where neither tells and the new type is a
        character type, the finding says so and that the rewrite depends on it. A column added with a volatile
        default (`gen_random_uuid()`, `random()`, `clock_timestamp()`, `nextval(...)`): each row gets its
        own value. Info: how long it takes depends on the table's size. A change between timestamp and
        timestamptz says that PostgreSQL 12 and later skip its rewrite where the session's TimeZone is UTC.
    Why it matters:
        The table and its indexes are rewritten under an ACCESS EXCLUSIVE lock: nothing reads or writes it
        until the rewrite ends.
    Example:
        op.alter_column("orders", "total", type_=sa.Numeric(12, 2), existing_type=sa.Integer())
    Instead:
        Add a new column, backfill it in batches, switch the code to it, drop the old one later; for a
        default, add the column without it, set the default, backfill in batches.
    Other steps of the revision under the same lock (an index build, a backfill, a constraint's scan) are
    named in this finding rather than in their own.
    Not reported where the application is known to run on other databases only (`scan --explain-layout` names them).
    """

    ID = "MIG011"
    POSTGRES = True
    ITEM = "3.2"
    SEVERITY = Severity.INFO
    VALID = (
        later('op.alter_column("orders", "note", type_=sa.String(200), existing_type=sa.String(50))'),
        later('op.add_column("orders", sa.Column("created_at", sa.DateTime(), server_default=sa.text("now()")))'),
    )
    INVALID = (
        later('op.alter_column("orders", "total", type_=sa.Numeric(12, 2), existing_type=sa.Integer())'),
        later('op.add_column("orders", sa.Column("token", sa.Uuid(), server_default=sa.text("gen_random_uuid()")))'),
        later('op.execute("ALTER TABLE orders ALTER COLUMN total TYPE bigint")'),
    )

    KIND = "rewrite"

    def steps(self):
        for c in changes(self.facts):
            op = c.op
            if c.st is None and op.name == "alter_column" and "type_" in op.options and c.column_before(self.facts, op.target or ""):
                new, old = op.options["type_"], _old_type(self.facts, c, op.target or "")
                unbounded = _length(new) == float("inf")  # no length it could narrow to
                if not (_STRINGS.match(new) and (_STRINGS.match(old) or unbounded and _was_character(self.facts, c, op.target or ""))) \
                        and not _same_type(self.facts, c, op.target or "", op.columns) \
                        and not _numeric_widened(self.facts, c, op.target or "", op.columns):
                    yield c, self._type(c, op.target or "", new, old), f"rewrites {c.table} for {op.target}'s new type"
            elif c.st is None and op.name == "add_column":
                for col in op.columns:
                    if col.server_default and _VOLATILE.search(col.server_default):
                        yield c, self._volatile(c, col.name, col.server_default), f"rewrites {c.table} to fill {col.name}"
            for change in _column_change(c.st, "alter_type"):
                if c.column_before(self.facts, str(change["column"])) and not _STRINGS.match(str(change["type"] or "")):
                    yield c, self._type(c, str(change["column"]), str(change["type"]), _old_type(self.facts, c, str(change["column"]))), f"rewrites {c.table} for {change['column']}'s new type"
            for change in _column_change(c.st, "add_column"):
                if change["default"] and _VOLATILE.search(str(change["default"])):
                    yield c, self._volatile(c, str(change["column"]), str(change["default"])), f"rewrites {c.table} to fill {change['column']}"

    def _type(self, c: Change, column: str, new: str, old: str):
        was = f" from {old}" if old else ""
        if not old and _STRINGS.match(new):  # neither existing_type nor the replay tells whether this only widens
            return self.finding(
                f"{c.who} changes the type of {c.table}.{column} to {new}; {c.since}, and dbreview could not read its type "
                "before (no existing_type, and the earlier revisions do not tell): unless it is a character type this only "
                "widens, PostgreSQL rewrites the table and its indexes under an ACCESS EXCLUSIVE lock",
                c.span, f"migration:{c.rev.revision}:type:{c.table}.{column}",
            )
        if _timestamps(old) and _timestamps(new) and _zoned(old) != _zoned(new):
            return self.finding(
                f"{c.who} changes the type of {c.table}.{column}{was} to {new} (timestamp {'with' if _zoned(old) else 'without'} "
                f"time zone to {'with' if _zoned(new) else 'without'}); {c.since}. PostgreSQL 12 and later skip the rewrite "
                "of this change where the session's TimeZone is UTC; on an older server or in another time zone it rewrites "
                "the table and its indexes, and in every case it takes an ACCESS EXCLUSIVE lock",
                c.span, f"migration:{c.rev.revision}:type:{c.table}.{column}",
            )
        return self.finding(
            f"{c.who} changes the type of {c.table}.{column}{was} to {new}; {c.since}, and PostgreSQL rewrites it and "
            "its indexes under an ACCESS EXCLUSIVE lock",
            c.span, f"migration:{c.rev.revision}:type:{c.table}.{column}",
        )

    def _volatile(self, c: Change, column: str, default: str):
        return self.finding(
            f"{c.who} adds {c.table}.{column} with the volatile default {default}; {c.since}, and every row is "
            "rewritten with its own value under an ACCESS EXCLUSIVE lock",
            c.span, f"migration:{c.rev.revision}:volatile-default:{c.table}.{column}",
        )


class DestructiveStep(_OnePerRevision, Rule):
    """A table or column that the running code may still use is dropped or renamed.

    What it checks:
        In the newest revisions, `op.drop_table`, `op.drop_column`, `op.rename_table`, a renamed column
        (`op.alter_column(..., new_column_name=...)`) and their SQL forms, on tables and columns that an
        earlier revision created. Info: dropping is often the point; the question is whether the code
        deployed before the migration still reads the old name. A dropped table that no model maps and no
        Python code outside tests and migrations names is said to be unused by the code that ships with the
        revision; a project that upgrades at start-up, before serving, is told that old code meets the new
        schema only in a rolling deploy. A column dropped and added back under its name in the same upgrade
        (to change its default or type), its values copied nowhere first, is a warning in every revision,
        however old, and whatever the deploy: each database the revision still runs on loses the column's
        values. Not where the revision empties the table first (a DELETE with no WHERE), where the new column
        is NOT NULL with no default (adding it fails on a table with rows: MIG009), nor where its type is of
        another kind (an integer made a UUID, JSON made bytes: the values could not have been kept as they were).
        A table dropped and created again under its name in the same upgrade is said as such: the columns it lost,
        or that its rows are gone; no finding where it keeps every column and the revision fills it again
        (`op.bulk_insert`, an INSERT).
    Why it matters:
        Migrations run before (or while) the new code rolls out: the old code still selects the dropped
        or renamed column, and its queries fail until every instance is replaced. A drop also loses the
        data for good; the downgrade brings back an empty column. A column dropped and added again holds
        the new default in every row: what each row held is gone.
    Example:
        op.drop_column("orders", "note")
    Instead:
        Expand and contract: stop using the column in one release, drop it in a later one; rename by
        adding the new column, writing both, then dropping the old one.
    """

    ID = "MIG012"
    ITEM = "3.2"
    SEVERITY = Severity.INFO
    START_UP = "code deployed before meets the new schema only where older instances still serve during the upgrade"
    VALID = (later('''
op.create_table("tmp_orders", sa.Column("id", sa.Integer))
op.drop_table("tmp_orders")
'''),)
    INVALID = (
        later('op.drop_column("orders", "note")'),
        later('op.alter_column("orders", "note", new_column_name="comment")'),
        later('op.execute("DROP TABLE customers CASCADE")'),
        later('''
op.drop_column("orders", "note")
op.add_column("orders", sa.Column("note", sa.String(50), server_default="none", nullable=False))
'''),
    )

    def check(self):
        self._back: dict[str, list[tuple[str, Finding]]] = {}
        yield from super().check()
        # A column dropped and added back loses its values wherever the revision runs, however old it is, and
        # whatever the deploy: one finding per revision, apart from the drops the running code may miss.
        yield from (self._one(found) for found in self._back.values())

    def each(self):
        window = recent(self.facts)
        for c in changes(self.facts, every=True):
            for e in effects([c.op]) if c.st is None else _statement_effects(c.op, c.st):
                if self._regenerated(c, e):
                    continue  # added back as a generated column: PostgreSQL computes every row's value from the others
                back = self._lost(c, e)
                if back is not None:
                    self._back.setdefault(c.rev.revision or "", []).append((c.table, back))
                    continue
                if id(c.rev) not in window:
                    continue
                if e.table != c.table:
                    if e.kind == "drop_table" and e.table and not e.maybe and history(self.facts).before(c.rev, "table", e.table):
                        yield e.table, self._found(c, e.table, "drops table", e.table)  # DROP TABLE a, b
                    continue
                if e.kind == "drop_table" and not e.maybe:
                    remade = self._remade(c)
                    if remade is None:
                        yield c.table, self._found(c, c.table, "drops table", c.table)
                    elif remade:
                        yield c.table, self._finding(c, c.table, remade)
                elif e.kind == "rename_table":
                    yield c.table, self._found(c, c.table, f"renames table {c.table} to {e.name}", c.table)
                elif e.kind == "drop_column" and e.name and not e.maybe and c.column_before(self.facts, e.name):
                    yield c.table, self._found(c, f"{c.table}.{e.name}", "drops column", c.table)
                elif e.kind == "rename_column" and e.name and c.column_before(self.facts, e.name):
                    yield c.table, self._found(c, f"{c.table}.{e.name}", f"renames {c.table}.{e.name} to {e.new}", c.table)

    def _found(self, c: Change, what: str, verb: str, table: str):
        said = f"{verb} {what}" if verb.startswith("drops") else verb
        if not verb.startswith("drops"):
            return self._finding(c, what, f"{c.who} {said}: code deployed before this migration that still uses {what} fails until it is replaced")
        name = what.rsplit(".", 1)[-1]
        swap = self._renamed_in_place(c, table, name) if "." in what else None
        if swap is not None:
            return self._finding(c, what, f"{c.who} {said} and renames {swap} to {name} in its place: code deployed before "
                                          f"this migration finds {what} again, holding the values and type of {swap}")
        kept = self._read_first(c, name)
        fate = "its data is gone for good" if kept is None else (
            f"its data was copied first ({kept[0]} on line {kept[1]})" if kept[0] != "SELECT" else
            f"the revision reads its rows first (line {kept[1]}), so they may be kept elsewhere")
        if "." not in what and self.facts.tables and not named_in_code(self.facts, what):
            return self._finding(c, what, f"{c.who} {said}: no model maps it and no Python code of the application names it "
                                          "any more, so the code that ships with this revision does not use it; only code "
                                          f"deployed before that did would fail until it is replaced; {fate}")
        return self._finding(c, what, f"{c.who} {said}: code deployed before this migration that still uses {what} fails "
                                      f"until it is replaced; {fate}")

    def _finding(self, c: Change, what: str, message: str, severity: Severity | None = None):
        return self.finding(message, c.span, f"migration:{c.rev.revision}:destructive:{what}", severity=severity)

    def _lost(self, c: Change, e) -> Finding | None:
        """The finding for a column of an existing table that the step drops and a later step of the same upgrade
        adds back under its name, with a type of the same kind (its values could have been kept): unless the
        revision copied them first or emptied the table, or the new column is NOT NULL with no default (adding it
        then fails on a table with rows: MIG009's)."""
        if not (e.kind == "drop_column" and e.table == c.table and e.name and not e.maybe and c.column_before(self.facts, e.name)):
            return None
        name, table = e.name, c.table
        add = _added_back(c, e)
        if add is None or self._read_first(c, name) is not None or _emptied_before(c, table):
            return None
        new = next((col for col in add.op.columns if col.name == name), None)
        old = column_then(self.facts, c.rev, c.op, table, name)
        if new is not None and (new.nullable is False and not new.server_default
                                or old is not None and _kind(old.type_name) != _kind(new.type_name)):
            return None  # the add fails where there are rows, or the values could not have been kept as they were
        default = new.server_default if new is not None and new.server_default else "its new default (or NULL)"
        return self._finding(c, f"{table}.{name}", f"{c.who} drops column {table}.{name} and adds it back on line "
                                                   f"{add.span.start}: every existing row of {table} loses its {name}, which "
                                                   f"comes back as {default} in every row; to change a column's default or "
                                                   "type, alter it in place (ALTER COLUMN ... SET DEFAULT, or TYPE ... "
                                                   "USING) and update the rows that need it", Severity.WARNING)

    def _regenerated(self, c: Change, e) -> bool:
        """A column the step drops that a later step of the upgrade adds back as a generated column (`GENERATED ALWAYS
        AS (...) STORED`, `sa.Computed(...)`): its values are computed again, nothing is lost or missing."""
        add = _added_back(c, e) if e.kind == "drop_column" and e.table == c.table and e.name else None
        return add is not None and bool(_GENERATED.search(" ".join(
            [add.op.sql.text or "" if add.op.sql else "", *self.facts.lines(add.op.span)])))

    @staticmethod
    def _read_first(c: Change, name: str) -> tuple[str, int] | None:
        """The last statement before the drop, in the same revision, that copies from what it drops (an
        INSERT ... SELECT, an UPDATE that reads it; else a SELECT that reads it): (its verb, its line)."""
        word, found = re.compile(rf"\b{re.escape(name)}\b"), None
        for op in c.rev.upgrade:
            if op is c.op:
                break
            statements = op.sql.statements if op.sql else []
            for st in statements:
                verb = {"InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "SelectStmt": "SELECT"}.get(st.kind)
                # a statement sent alone is read as written (its own text masks a string with braces: '{?}')
                text = op.sql.text or st.text if op.sql and len(statements) == 1 else st.text
                # what it reads, not the table it writes (`INSERT INTO scoring_system` beside a column of that name);
                # an INSERT of VALUES copies nothing
                text = _WRITTEN.sub("", text, count=1)
                if verb == "INSERT" and not re.search(r"\bSELECT\b", text, re.I):
                    continue
                if verb and word.search(text) and (found is None or found[0] == "SELECT" or verb != "SELECT"):
                    found = (verb, st.span.start)
        return found

    def _remade(self, c: Change) -> str | None:
        """For a table the step drops and a later step of the same upgrade creates again under its name: what
        code deployed before meets (the columns it lost, or its rows gone), "" where it meets the table whole and
        the revision fills it again (`op.bulk_insert`, an INSERT); None where the table is not made again."""
        at = next(i for i, op in enumerate(c.rev.upgrade) if op is c.op)
        after = c.rev.upgrade[at + 1:]
        create = next((e for e in effects(after) if e.kind == "create_table" and e.table == c.table), None)
        if create is None:
            return None
        hist, prefix = history(self.facts), f"{c.table}."
        old = sorted({key[2][len(prefix):] for key in hist.lives if key[1] == "column" and key[2].startswith(prefix)
                      and hist.before(c.rev, "column", key[2])})
        lost = [name for name in old if name not in create.columns]
        again = f"{c.who} drops table {c.table} and creates it again on line {create.span.start}"
        if lost:
            return (f"{again} without {', '.join(lost)}: code deployed before this migration that still uses them fails "
                    "until it is replaced; the table's rows are gone for good")
        filled = any(op.name == "bulk_insert" and bulk_insert_table(self.facts, op) == c.table or op.sql is not None and any(
            st.kind == "InsertStmt" and st.details.get("dml_table") == c.table for st in op.sql.statements) for op in after)
        return "" if filled else (f"{again} with the columns it had: code deployed before this migration still finds "
                                  "it, but its rows are gone for good (none are copied or inserted back)")

    @staticmethod
    def _renamed_in_place(c: Change, table: str, name: str) -> str | None:
        """The column that a later step of the revision renames to the dropped column's name (a swap)."""
        after = c.rev.upgrade[next(i for i, op in enumerate(c.rev.upgrade) if op is c.op) + 1:]
        return next((e.name for e in effects(after) if e.kind == "rename_column" and e.table == table and e.new == name), None)


_WRITTEN = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE)\s+[\w.\"`]+", re.I)


# Kinds of column type whose values convert in place (ALTER COLUMN ... TYPE): a column re-made as another kind
# (an integer id made a UUID, JSON made encrypted bytes) could not have kept its values as they were.
_KINDS = (("text", r"char|text|string|clob|citext"), ("number", r"int|numeric|decimal|float|double|real|money"),
          ("bool", r"bool"), ("time", r"date|time|interval"))


def _kind(type_name: str | None) -> str | None:
    """The kind of a column type by its name (`sa.VARCHAR`, `AutoString`: "text"); None where not known; the
    name itself for the others (JSONB, UUID, LargeBinary)."""
    if not type_name:
        return None
    low = type_name.rsplit(".", 1)[-1].lower()
    return next((kind for kind, pattern in _KINDS if re.search(pattern, low)), low)


def _emptied_before(c: Change, table: str) -> bool:
    """Whether an earlier step of the revision deletes every row of `table` (a DELETE with no WHERE)."""
    for op in c.rev.upgrade:
        if op is c.op:
            return False
        if any(st.kind == "DeleteStmt" and st.details.get("dml_table") == table and not re.search(r"\bwhere\b", st.text, re.I)
               for st in (op.sql.statements if op.sql else ())):
            return True
    return False


class BackfillInSchemaMigration(_LockRule, Rule):
    """Rows of an existing table are rewritten inside a migration that also changes the schema.

    What it checks:
        In the newest revisions, an `UPDATE` or `DELETE` on a table that an earlier revision created, after
        a schema change in the same transaction (a data-only revision, or rows cleaned before the DDL that
        needs them, hold no DDL lock: not reported; a new table with no foreign key is no such change, as its
        locks block nobody, nor is an index or a change of a table the same revision made before). The finding names the step whose lock is held (and the table it locks, where that
        step locks its own table only), and the
        index builds and constraint scans that run under the same lock (they get no finding of their own);
        a statement a loop runs many times is one location. Info: a small table makes this harmless. Not
        where env.py connects in AUTOCOMMIT (`isolation_level="AUTOCOMMIT"`): each statement commits on its
        own there, and no DDL lock is held while the rows are rewritten.
    Why it matters:
        The whole upgrade is one transaction: the locks its DDL took are held until every row has been
        rewritten, and a long backfill holds them for its whole length; when it fails, the schema change
        is rolled back with it.
    Example:
        op.add_column("orders", sa.Column("status", sa.String(20)))
        op.execute("UPDATE orders SET status = 'paid'")
    Instead:
        Put the backfill in a revision of its own (or a script run after the deploy), in batches.
    """

    ID = "MIG013"
    ITEM = "3.2"
    SEVERITY = Severity.INFO
    POSTGRES = True  # MySQL commits each ALTER TABLE on its own: no lock of it outlives the statement
    VALID = (
        later('op.execute("UPDATE orders SET total = 0 WHERE total IS NULL")'),  # data only
        later('''
op.execute("DELETE FROM orders WHERE total < 0")  # before the DDL: only row locks while it runs
op.create_check_constraint("total_positive", "orders", "total >= 0")
'''),
        later('''
op.create_table("refunds", sa.Column("id", sa.Integer, primary_key=True))
op.execute("INSERT INTO refunds (id) VALUES (1)")
'''),
    )
    INVALID = (later('''
op.add_column("orders", sa.Column("status", sa.String(20)))
op.execute("UPDATE orders SET status = 'paid'")
'''),)

    KIND = "backfill"

    def steps(self):
        schema: dict[int, bool] = {}
        for c in changes(self.facts):
            if c.st is None or c.st.kind not in ("UpdateStmt", "DeleteStmt") or c.ddl_before is None:
                continue  # rows changed before any DDL: no DDL lock is held while they are
            if id(c.rev) not in schema:
                schema[id(c.rev)] = changes_schema(c.rev.upgrade)
            if schema[id(c.rev)]:
                verb = "rewrites" if c.st.kind == "UpdateStmt" else "deletes"
                held = (f"the ACCESS EXCLUSIVE lock its {c.held} took on {c.table} is" if c.held
                        else f"the locks its {c.ddl_before} took{f' on {c.ddl_before.on}' if c.ddl_before.on else ''} are")
                yield c, self.finding(
                    f"{c.who} {verb} rows of {c.table} after a schema change in the same transaction; {c.since}, and "
                    f"{held} held until every row is done",
                    c.span, f"migration:{c.rev.revision}:backfill:{c.table}",
                ), f"{verb} rows"


_STRONG_LOCKS = ("add_column", "drop_column", "alter_column", "create_foreign_key", "create_check_constraint",
                 "create_unique_constraint", "drop_constraint", "drop_table", "rename_table", "create_primary_key")
_TIMEOUT = re.compile(r"lock_timeout", re.I)


class NoLockTimeout(Rule):
    """Strong locks are taken on existing tables with no lock_timeout.

    What it checks:
        Whether the newest revisions that ALTER, drop or index (without CONCURRENTLY) tables that earlier
        revisions created set `lock_timeout`, or env.py does for every revision (storage parameters set with
        `ALTER TABLE t SET (autovacuum_...)` take a SHARE UPDATE EXCLUSIVE lock that reads and writes never wait
        for, and count as no strong lock). One finding per Alembic
        tree, pointing at each such revision. Info: a convention, and a small deployment may not need it; the
        finding says when the wait matters (the migration runs while the application serves).
    Why it matters:
        ALTER TABLE waits for every transaction that touches the table, and while it waits, every new
        query on the table queues behind it: one long report query turns a millisecond migration into an
        outage. A lock_timeout makes the migration fail fast and retry instead.
    Example:
        op.add_column("orders", sa.Column("status", sa.String(20)))   # and no SET lock_timeout anywhere
    Instead:
        `op.execute("SET lock_timeout = '5s'")` at the start of such revisions, or in env.py's
        `run_migrations_online` for all of them.
    Not reported where the application is known to run on other databases only (`scan --explain-layout` names them).
    """

    ID = "MIG014"
    ITEM = "3.2"
    SEVERITY = Severity.INFO
    VALID = (later('''
op.execute("SET lock_timeout = '5s'")
op.add_column("orders", sa.Column("status", sa.String(20)))
'''),)
    INVALID = (later('op.add_column("orders", sa.Column("status", sa.String(20)))'),)

    def check(self):
        from analyzers.rules.schema import trees

        if runs_on(self.facts).not_postgres:  # lock_timeout is PostgreSQL's
            return
        locking: dict[int, Change] = {}
        for c in changes(self.facts):
            strong = c.op.name in _STRONG_LOCKS or (c.op.name == "create_index" and not _truthy(c.op, "postgresql_concurrently"))
            if c.st is not None:
                strong = (c.st.kind in ("alter_table", "rename_table", "rename_column") and not sets_storage_only(c.st)) or (
                    c.st.kind == "create_index" and not c.st.details.get("concurrent")) or (
                    c.st.kind == "drop" and c.st.details.get("type") == "OBJECT_TABLE")
            if strong and id(c.rev) not in locking and not any(
                st.kind in ("set", "set_local") and _TIMEOUT.search(st.text) for op in c.rev.upgrade if op.sql for st in op.sql.statements
            ):
                locking[id(c.rev)] = c
        for folder, revisions in trees(self.facts.revisions).items():
            mine = [locking[id(r)] for r in revisions if id(r) in locking]
            if not mine or _TIMEOUT.search(_env_text(self.facts, mine[0].rev)):
                continue
            sites = [(c.span, f"migration:{c.rev.revision}:lock-timeout", f"revision {c.rev.revision} locks {c.table}") for c in mine]
            f = on_postgres(self.facts, self.grouped(
                f"{len(mine)} recent revision(s) in {folder} take strong locks on existing tables (first: revision "
                f"{mine[0].rev.revision} on {mine[0].table}) and neither they nor env.py set lock_timeout: waiting for "
                "the lock, the migration queues every query on the table behind it",
                sites, f"migration-lock-timeout:{folder}",
            ))
            shown = at_start_up(self.facts, f)
            yield shown if shown is not f else replace(f, message=f.message + (
                "; that happens where the migration runs while the application serves (a rolling deploy, a job beside "
                "running instances); run with the application stopped, nothing queues behind it"))
