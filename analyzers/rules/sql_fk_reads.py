"""Reads of a table by a column in the raw SQL the application sends (`text()`, `exec_driver_sql`, `cursor.execute`),
read from pglast's tree of each statement, for PERF001. A condition and-ed at the top of a query level's WHERE or a
join's ON counts: `t.col = :v` (or `IN`, `= ANY`) finds rows of t by col; `t.col = o.col` joins t to o on it. A
comparison under OR or NOT, or SQL pglast cannot parse, is not weighed: it is named as SQL dbreview did not follow."""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzers.facts.model import Facts, SqlUse
from analyzers.facts.sql import statement_trees
from analyzers.rules.s01_sql_logic import Scope, _conditions, _queries, _ref, _scope, _walk
from analyzers.rules.s01_sql_strings import app_uses
from analyzers.rules.schema import is_tooling_path

_EQUALS = ("AEXPR_OP", "AEXPR_IN", "AEXPR_OP_ANY")


@dataclass(frozen=True, slots=True)
class SqlRead:
    """A query level of `use` that compares `column` of `table` (under one name of its FROM)."""

    use: SqlUse
    table: str
    column: str
    values: frozenset[str]  # the table's columns that level compares with a value (and-ed, by equality)
    joined: tuple[str, ...]  # the tables it makes the column equal to a column of, each narrowed there by a value


@dataclass(slots=True)
class _Level:
    values: dict[str, set[str]] = field(default_factory=dict)  # alias -> its columns compared with a value
    joins: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # alias -> (its column, the other alias)


def sql_reads(facts: Facts) -> dict[tuple[str, str], list[SqlRead]]:
    """(table, column) -> the SQL query levels that find rows of the table by the column, or join it on it."""
    cached = facts.derived.get("sql_fk_reads")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: dict[tuple[str, str], list[SqlRead]] = {}
    for use, _ in app_uses(facts):
        if use.text and not is_tooling_path(use.span.path):
            for read in _reads(facts, use):
                out.setdefault((read.table, read.column), []).append(read)
    facts.derived["sql_fk_reads"] = out
    return out


def sql_compared(facts: Facts, use: SqlUse, table: str, column: str) -> bool | None:
    """Whether `use` tests `column` of `table` in a way sql_reads does not weigh (under OR or NOT, not by equality);
    None where the SQL cannot be parsed."""
    trees = statement_trees(use.text or "", use.formatted)
    if trees is None:
        return None
    for stmt in trees:
        for query in _queries(stmt):
            scope = _scope(query)
            for part in (p for condition in _conditions(query) for p in _and_parts(condition)):
                if _equality(part):
                    continue
                for node in _walk(part, into_queries=False):
                    found = _alias_column(facts, scope, _ref(node))
                    if found is not None and (scope.relations[found[0]], found[1]) == (table, column):
                        return True
    return False


def _reads(facts: Facts, use: SqlUse) -> list[SqlRead]:
    out: list[SqlRead] = []
    for stmt in statement_trees(use.text or "", use.formatted) or ():
        for query in _queries(stmt):
            scope, level = _scope(query), _Level()
            for condition in _conditions(query):
                for part in _and_parts(condition):
                    _weigh(facts, scope, part, level)
            for alias, columns in level.values.items():
                for column in columns:
                    out.append(SqlRead(use, scope.relations[alias] or "", column, frozenset(columns), ()))
            for alias, pairs in level.joins.items():
                for column, other in pairs:
                    if other in level.values and column not in level.values.get(alias, ()):  # the plan may start there
                        out.append(SqlRead(use, scope.relations[alias] or "", column, frozenset(), (scope.relations[other] or other,)))
    return [r for r in out if r.table]


def _and_parts(node: object):
    """The conditions and-ed at the top of `node`."""
    if type(node).__name__ == "BoolExpr" and node.boolop.name == "AND_EXPR":
        for arg in node.args:
            yield from _and_parts(arg)
    else:
        yield node


def _weigh(facts: Facts, scope: Scope, part: object, level: _Level) -> None:
    if not _equality(part):
        return
    refs = _ref(part.lexpr), _ref(part.rexpr)
    left, right = (_alias_column(facts, scope, r) for r in refs)
    for this, ref in ((left, refs[1]), (right, refs[0])):
        other = ref[0] if ref is not None and ref[0] in scope.relations else None  # its column need not be known
        if this is not None and other is not None and other != this[0]:
            level.joins.setdefault(this[0], []).append((this[1], other))
    for this, other in ((left, part.rexpr), (right, part.lexpr)):
        if this is not None and _value(other):
            level.values.setdefault(this[0], set()).add(this[1])


def _equality(part: object) -> bool:
    return type(part).__name__ == "A_Expr" and part.kind.name in _EQUALS and getattr(part.name[-1], "sval", None) == "="


def _value(node: object) -> bool:
    """A parameter, a constant, or a list or cast of them: no column, no subquery."""
    nodes = list(_walk(node)) if not isinstance(node, (list, tuple)) else [n for item in node for n in _walk(item)]
    return bool(nodes) and not any(type(n).__name__ in ("ColumnRef", "SubLink", "SelectStmt") for n in nodes)


def _alias_column(facts: Facts, scope: Scope, ref: tuple[str | None, str] | None) -> tuple[str, str] | None:
    """(the name in FROM, the column) a column reference stands for, where the table is one dbreview knows: named
    by its qualifier, or, unqualified, the one table of the level that has such a column (none a subquery's)."""
    if ref is None:
        return None
    qualifier, column = ref
    if qualifier is not None:
        return (qualifier, column) if _has(facts, scope.relations.get(qualifier), column) else None
    owners = [a for a, t in scope.relations.items() if _has(facts, t, column)]
    return (owners[0], column) if len(owners) == 1 and all(t is not None for t in scope.relations.values()) else None


def _has(facts: Facts, table: str | None, column: str) -> bool:
    found = facts.tables.get(table) if table else None
    return found is not None and column in found.columns

