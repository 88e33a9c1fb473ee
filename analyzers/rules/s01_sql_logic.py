"""Section 1, beside the SQL built from strings: raw SQL whose logic is wrong, read from pglast's tree of the
statement (application code and migrations). SQL pglast cannot parse is no finding."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analyzers.facts.model import Span, SqlUse
from analyzers.facts.sql import DYNAMIC, bind_names, statement_trees
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.s01_sql_strings import app_uses
from analyzers.rules.schema import is_tooling_path

_COMPARISONS = {"=", "<>", "!=", "<", ">", "<=", ">="}


def _children(node: object):
    """The pglast nodes directly under `node` (lists and tuples flattened)."""
    for name in getattr(type(node), "__slots__", ()):
        value = getattr(node, name, None)
        for v in value if isinstance(value, (list, tuple)) else (value,):
            if hasattr(type(v), "__slots__") and type(v).__module__.startswith("pglast"):
                yield v


def _walk(node: object, *, into_queries: bool = True):
    """`node` and every node under it; with `into_queries=False`, a nested query's own nodes are left out (a
    subquery is a scope of its own)."""
    yield node
    for child in _children(node):
        if not into_queries and type(child).__name__ in ("SelectStmt", "SubLink", "RangeSubselect"):
            continue
        yield from _walk(child, into_queries=into_queries)


def _ref(node: object) -> tuple[str | None, str] | None:
    """A column reference as (qualifier, column): `t.user_id` -> ("t", "user_id"), `user_id` -> (None, ...)."""
    if type(node).__name__ != "ColumnRef":
        return None
    names = [getattr(f, "sval", None) for f in node.fields]
    if not names or None in names:
        return None  # t.*
    return (names[-2] if len(names) > 1 else None), names[-1]


@dataclass
class Scope:
    """One query level: the relations its FROM names (by the name a reference uses: alias, else table), the
    table each stands for (None: a subquery or a function, whose columns are not known)."""

    relations: dict[str, str | None] = field(default_factory=dict)
    target: str | None = None  # UPDATE / DELETE: the name the rewritten table goes by


def _relations(items, scope: Scope) -> None:
    for item in items or ():
        kind = type(item).__name__
        if kind == "RangeVar":
            name = item.alias.aliasname if item.alias else item.relname
            scope.relations[name] = item.relname
        elif kind == "JoinExpr":
            _relations((item.larg, item.rarg), scope)
        elif getattr(item, "alias", None) is not None:
            scope.relations[item.alias.aliasname] = None


def _scope(stmt: object) -> Scope:
    scope = Scope()
    kind = type(stmt).__name__
    if kind in ("UpdateStmt", "DeleteStmt"):
        _relations((stmt.relation,), scope)
        scope.target = next(iter(scope.relations))
        _relations(stmt.fromClause if kind == "UpdateStmt" else stmt.usingClause, scope)
    elif kind == "SelectStmt":
        _relations(stmt.fromClause, scope)
    return scope


def _conditions(stmt: object):
    """The condition parts of one query level: WHERE, HAVING, and the ON of its joins."""
    for name in ("whereClause", "havingClause"):
        if getattr(stmt, name, None) is not None:
            yield getattr(stmt, name)
    for node in _walk(stmt, into_queries=False):
        if type(node).__name__ == "JoinExpr" and node.quals is not None:
            yield node.quals


def _queries(stmt: object):
    """Every query level of a statement: itself and each SELECT nested in it."""
    return [n for n in _walk(stmt) if type(n).__name__ in ("SelectStmt", "UpdateStmt", "DeleteStmt")]


def _columns_of(facts, table: str | None) -> set[str] | None:
    """The columns dbreview knows `table` to have; None when the table is not among the models and migrations."""
    found = facts.tables.get(table) if table else None
    return None if found is None or found.unknown_bases else set(found.columns)


def unbound_names(use: SqlUse, facts) -> list[tuple[str, str]]:
    """(name, what the comparison does) for each parameter written without its colon in `use`'s conditions.
    `facts` None: the tables' columns are not to be trusted (a migration runs on the schema of its day)."""
    trees = statement_trees(use.text or "", use.formatted) if use.text else None
    if not trees:
        return []
    params = set(use.params or ()) | bind_names(use.text or "")
    out: list[tuple[str, str]] = []
    for stmt in trees:
        for query in _queries(stmt):
            scope = _scope(query)
            for condition in _conditions(query):
                for node in _walk(condition, into_queries=False):
                    if type(node).__name__ != "A_Expr" or not node.name or getattr(node.name[-1], "sval", None) not in _COMPARISONS:
                        continue
                    said = _compared(node, scope, params, facts)
                    if said and said not in out:
                        out.append(said)
    return out


def _compared(expr, scope: Scope, params: set[str], facts) -> tuple[str, str] | None:
    left, right = _ref(expr.lexpr), _ref(expr.rexpr)
    for this, other in ((left, right), (right, left)):
        if this is None or this[0] is not None or this[1] not in params:
            continue
        name = this[1]
        if other is not None and other[1] == name:
            whose = f"{other[0]}.{name}" if other[0] else name
            return name, (f"`{whose} = {name}` compares the column with itself: true on every row where it is not "
                          "NULL, whatever value is passed")
        if other is None or facts is None:
            continue  # `slug = :slug`: the bare name is the column, the parameter is on the other side
        tables = list(scope.relations.values())
        known = [_columns_of(facts, t) for t in tables]
        if tables and None not in known and not any(name in cols for cols in known):
            listed = ", ".join(sorted({t for t in tables if t}))
            return name, (f"no table of the query ({listed}) has a column `{name}`: the statement fails, or reads a "
                          "column of an outer query")
    return None


def sent_sql(facts):
    """(SQL, its revision or None, whether it runs as a migration or tooling) for the SQL the application sends
    (tests left out) and the SQL of every revision."""
    for use, _ in app_uses(facts):
        yield use, None, is_tooling_path(use.span.path)
    for rev in facts.revisions:
        for op in [*rev.upgrade, *rev.downgrade]:
            if op.sql is not None:
                yield op.sql, rev.revision, True


def _advice(name: str) -> str:
    return f"write `:{name}` (the parameter passed with the statement)"


class ParameterWithoutColon(Rule):
    """A parameter of raw SQL is written without its colon, so it is read as a column.

    What it checks:
        Raw SQL (`text()`, `exec_driver_sql`, `cursor.execute`, `op.execute`), parsed with pglast: a comparison in
        WHERE, HAVING or a join's ON where one side is a bare name that is a parameter of the statement (a key of
        the parameters passed with it, or a name its other binds write with a colon) and either the other side
        is the same column (`blocked_users.user_id = user_id`: always true) or no table of the query, as the
        models and migrations declare them, has a column of that name. SQL pglast cannot parse, and queries over
        tables dbreview does not know, are no finding.
    Why it matters:
        `user_id` without `:` is the column `user_id`, not the value passed: the condition compares the column
        with itself and holds on every row, so the query returns, updates or deletes every user's rows instead
        of one user's. Nothing fails, and the parameter passed is silently ignored.
    Example:
        db.execute(text("DELETE FROM blocked_users WHERE blocked_users.user_id = user_id AND blocked_id = :blocked"),
                   {"user_id": user.id, "blocked": other.id})
    Instead:
        `WHERE blocked_users.user_id = :user_id`.
    """

    ID = "CFG011"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    INVALID = ({"app/blocks.py": '''
from sqlalchemy import text

def unblock(db, user, other):
    db.execute(text("DELETE FROM blocked_users WHERE blocked_users.user_id = user_id AND blocked_id = :blocked"),
               {"user_id": user.id, "blocked": other.id})
'''}, {"app/models.py": HEADER + '''
class Wallet(Base):
    __tablename__ = "wallets"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
''', "app/wallets.py": '''
from sqlalchemy import text

def balance(db, user_id):
    return db.execute(text("SELECT sum(balance) FROM wallets WHERE owner_id = user_id"), {"user_id": user_id}).scalar()
'''})
    VALID = ({"app/blocks.py": '''
from sqlalchemy import text

def unblock(db, user, other):
    db.execute(text("DELETE FROM blocked_users WHERE blocked_users.user_id = :user_id AND blocked_id = :blocked"),
               {"user_id": user.id, "blocked": other.id})

def overdue(db, due):
    return db.execute(text("SELECT id FROM invoices WHERE paid_at > due_at AND due_at < :due_at"), {"due_at": due})
'''},)

    def check(self):
        for use, revision, migration in sent_sql(self.facts):
            yield from self._check(use, revision, migration=migration)

    def _check(self, use: SqlUse, revision: str | None, *, migration: bool):
        where = f"migration {revision}" if revision else use.function or use.span.path
        for name, what in unbound_names(use, None if migration else self.facts):
            written = self._written_at(use.span, name)
            yield self.finding(
                f"SQL in {where} writes the parameter `{name}` without its colon, so PostgreSQL reads a column: "
                f"{what}: {_advice(name)}",
                use.span, f"sql-logic:{use.function or revision}:{name}", item="3.2" if revision else None,
                related=[(written, f"`{name}` without its colon")] if written else [],
            )

    def _written_at(self, span: Span, name: str) -> Span | None:
        """The line of the SQL that compares the bare `name`, when the text was written above the call that sends
        it (`sql = \"\"\"...\"\"\"` then `text(sql)`); None when the call's own lines show it."""
        bare = rf"(?<![\w:.\"']){re.escape(name)}(?![\w\"'])"
        compared = re.compile(rf"[=<>]\s*{bare}|{bare}\s*[=<>!]")
        if any(compared.search(line) for line in self.facts.lines(span)):
            return None
        start = max(1, span.start - 300)
        above = self.facts.lines(Span(span.path, start, span.start - 1))
        for offset in range(len(above) - 1, -1, -1):
            if compared.search(above[offset]):
                return Span(span.path, start + offset, start + offset)
        return None


def _outputs(item, facts) -> set[str]:
    """The column names a FROM item gives: a subquery's selected names, a known table's columns."""
    kind = type(item).__name__
    if kind == "RangeSubselect":
        names = set()
        for target in getattr(item.subquery, "targetList", None) or ():
            ref = _ref(target.val)
            names.add(target.name or (ref[1] if ref else None))
        return names - {None}
    if kind == "RangeVar":
        return _columns_of(facts, item.relname) or set()
    return set()


def _pinned(where) -> bool:
    """Does the WHERE pick the FROM's row by a literal (`users.name = 'ASPEN ADMIN'`): one row chosen on purpose."""
    return any(type(n).__name__ == "A_Expr" and [getattr(s, "sval", None) for s in n.name or ()] == ["="]
               and {type(n.lexpr).__name__, type(n.rexpr).__name__} == {"ColumnRef", "A_Const"} for n in _walk(where))


def unjoined_updates(use: SqlUse, facts, *, migration: bool) -> list[tuple[str, list[str], set[str]]]:
    """(table updated, the other tables of its FROM, the key columns both sides have) for each `UPDATE t ... FROM
    u` whose WHERE never names t: the join condition is missing, so every row of t is updated. A bare column in
    the WHERE that may be t's (t's columns are not known, or include it) counts as naming t. In a migration the
    models' columns are not the schema of the statement's day, so every bare column may be t's; there a FROM row
    picked by a literal, with no key both sides have, is the backfill meant (every row set from that one row)."""
    out = []
    for stmt in statement_trees(use.text or "", use.formatted) or () if use.text else ():
        if type(stmt).__name__ != "UpdateStmt" or not stmt.fromClause:
            continue
        scope = _scope(stmt)
        others = [n for n in scope.relations if n != scope.target]
        if not others:
            continue
        table = scope.relations[scope.target]
        columns = None if migration else _columns_of(facts, table)
        refs = [r for n in (_walk(stmt.whereClause) if stmt.whereClause is not None else ()) if (r := _ref(n))]
        if any(q == scope.target or (q is None and (columns is None or c in columns)) for q, c in refs):
            continue
        mine = _columns_of(facts, table) or set()
        theirs = set().union(*(_outputs(item, facts) for item in stmt.fromClause))
        shared = {c for c in mine & theirs if c.endswith("_id")}  # `id` is every table's: no sign of a join meant
        if migration and not shared and _pinned(stmt.whereClause):
            continue
        out.append((table, [f"{scope.relations[n]} {n}" if scope.relations[n] not in (None, n) else n for n in others], shared))
    return out


class UpdateFromWithoutJoin(Rule):
    """An `UPDATE ... FROM` has no condition that joins the updated table to the others.

    What it checks:
        Raw SQL (`text()`, `exec_driver_sql`, `cursor.execute`, `op.execute`), parsed with pglast: `UPDATE t SET
        ... FROM u ...` whose WHERE never names a column of `t` (qualified by its name or alias, or a bare column
        that is `t`'s or may be: with `t`'s columns unknown, or in a migration, whose day's schema the models do
        not show, a bare column counts as `t`'s). In a migration, where updating every row from a one-row source
        may be the backfill meant, info, unless both sides have a key column (`trip_id`) that nothing compares; no
        finding there where the WHERE picks the source row by a literal (`users.name = 'admin'`) and no key is shared.
    Why it matters:
        PostgreSQL joins `t` to every row of the FROM that passes the WHERE: with no condition on `t`, every row of
        `t` is updated (with a value from an arbitrary matching row of `u`). `UPDATE wallets SET balance = ...
        FROM payments WHERE payments.id = :id` rewrites every wallet, not the payer's.
    Example:
        db.execute(text("UPDATE wallets SET balance = wallets.balance + p.amount FROM payments p WHERE p.id = :id"),
                   {"id": payment_id})
    Instead:
        Join the table: `... WHERE p.id = :id AND wallets.user_id = p.user_id`.
    """

    ID = "CFG012"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    INVALID = ({"app/wallets.py": '''
from sqlalchemy import text

def credit(db, payment_id):
    db.execute(text("UPDATE wallets SET balance = wallets.balance + p.amount FROM payments p WHERE p.id = :id"),
               {"id": payment_id})
'''},)
    VALID = ({"app/wallets.py": '''
from sqlalchemy import text

def credit(db, payment_id):
    db.execute(text("UPDATE wallets w SET balance = w.balance + p.amount FROM payments p "
                    "WHERE p.id = :id AND w.user_id = p.user_id"), {"id": payment_id})
'''},)

    def check(self):
        for use, revision, migration in sent_sql(self.facts):
            yield from self._check(use, revision, migration=migration)

    def _check(self, use: SqlUse, revision: str | None, *, migration: bool):
        where = f"migration {revision}" if revision else use.function or use.span.path
        for table, others, shared in unjoined_updates(use, self.facts, migration=migration):
            key = min(shared) if shared else "<key>"
            alias = others[0].split()[-1]
            both = f"; both sides have `{key}`, which nothing compares" if shared else ""
            meant = " (in a migration a backfill from one row may mean this)" if migration and not shared else ""
            yield self.finding(
                f"SQL in {where} updates {table} FROM {', '.join(others)} with no condition on {table}: every row of "
                f"{table} is updated, each from an arbitrary row of {others[0]}{both}{meant}: join it in the WHERE "
                f"(`{table}.{key} = {alias}.{key}`)",
                use.span, f"sql-logic:{use.function or revision}:update-from:{table}",
                severity=Severity.INFO if migration and not shared else None, item="3.2" if revision else None,
            )


def unfiltered_writes(use: SqlUse) -> list[tuple[str, str]]:
    """(verb, table) for each DELETE or UPDATE of `use` with no WHERE (nor WHERE CURRENT OF)."""
    out = []
    for stmt in statement_trees(use.text or "", use.formatted) or () if use.text else ():
        kind = type(stmt).__name__
        if kind not in ("UpdateStmt", "DeleteStmt") or stmt.whereClause is not None or stmt.relation.relname == DYNAMIC:
            continue  # a table named by the caller: a helper over any table, run whole on purpose
        if not (kind == "UpdateStmt" and stmt.fromClause):
            out.append(("updates" if kind == "UpdateStmt" else "deletes", stmt.relation.relname))
    return out


class WriteWithoutWhere(Rule):
    """Application code deletes or updates every row of a table.

    What it checks:
        Raw SQL the application sends (`text()`, `exec_driver_sql`, `cursor.execute`), parsed with pglast:
        `DELETE FROM t` or `UPDATE t SET ...` with no WHERE. Migrations (where rewriting every row is normal),
        tests, scripts and command-line tooling are left out; `UPDATE ... FROM` is CFG012's. A write the
        function's docstring or a comment above it says is meant for every row ("# Invalidate all caches",
        "remove them all to force a total rebuild", "reset") is left out, unless parameters are passed with
        it (`{"user_id": user_id}`, which a lost condition would have used); and so is a text() never sent
        (CFG008). The message names every tenant's or user's rows only where the table's model has such a
        column.
    Why it matters:
        A request handler or a job that runs it clears or rewrites the whole table, every tenant's rows
        included. Where that is meant (a cache table emptied on purpose), a suppression comment says so;
        where a WHERE was lost in an edit, nothing fails until the data is gone.
    Example:
        db.execute(text("DELETE FROM sessions"))
    Instead:
        `DELETE FROM sessions WHERE user_id = :user_id`; for a table emptied on purpose, `TRUNCATE` says so.
    """

    ID = "CFG013"
    ITEM = "1.5"
    SEVERITY = Severity.INFO
    INVALID = ({"app/sessions.py": '''
from sqlalchemy import text

def log_out(db, user_id):
    db.execute(text("DELETE FROM sessions"), {"user_id": user_id})
'''},)
    VALID = ({"app/sessions.py": '''
from sqlalchemy import text

def log_out(db, user_id):
    db.execute(text("DELETE FROM sessions WHERE user_id = :user_id"), {"user_id": user_id})
'''}, {"migrations/versions/0002_reset.py": '''
from alembic import op

revision = "0002"
down_revision = "0001"

def upgrade():
    op.execute("UPDATE accounts SET plan = 'free'")

def downgrade():
    pass
'''})

    def check(self):
        for use, _ in app_uses(self.facts):
            if is_tooling_path(use.span.path):
                continue
            writes = unfiltered_writes(use)
            if writes and not use.params and said_whole(self.facts, use):
                continue  # meant, and no parameter passed with it that a lost condition would have used
            for verb, table in writes:
                yield self.finding(
                    f"{use.function or use.span.path} {verb} every row of {table} (no WHERE){_whose(self.facts, table)}: "
                    "check a condition was not lost",
                    use.span, f"sql-logic:{use.function}:{verb}:{table}",
                )


# Words of a comment or docstring that say the whole table is meant: "remove them all", "# Reset cache flags".
_WHOLE = re.compile(r"\b(all|every|entire|whole|total|reset|resets|invalidate|nuke|wipe|clear|clears|rebuild)\b", re.I)
_DOCSTRING = re.compile(r"\s*[rRuU]?(\"\"\"|\'\'\'|\"|\')(.*?)\1", re.S)


def said_whole(facts, use: SqlUse) -> bool:
    """Does the docstring of the function, or a comment from its `def` down to the statement, say it writes
    every row on purpose ("# Invalidate all caches", "remove them all to force a total rebuild")?"""
    from analyzers.rules.code_use import function_around

    first, lines = function_around(facts, use.span)
    if first == use.span.start:
        return False  # module level: no function to read
    before = lines[: use.span.start - first]
    body = "\n".join(line for line in before[1:] if not line.lstrip().startswith("#"))
    doc = _DOCSTRING.match(body)
    notes = [line.partition("#")[2] for line in before if line.lstrip().startswith("#")] + ([doc.group(2)] if doc else [])
    return any(_WHOLE.search(note) for note in notes)


def _whose(facts, table: str) -> str:
    """Whose rows the table holds, when its model says: a tenant's (its tenant column), a user's."""
    from analyzers.rules.schema import tenant_column

    known = facts.tables.get(table)
    if known is None:
        return ""
    if tenant_column(known, facts) is not None:
        return ": every tenant's rows, not one's"
    if any(c.endswith(("user_id", "owner_id")) for c in known.columns):
        return ": every user's rows, not one's"
    return ""
