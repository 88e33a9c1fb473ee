"""A query's condition, order or limit added by a call whose result is thrown away.

SQLAlchemy's Query and Select are generative: `q.filter(...)`, `stmt.where(...)`, `q.order_by(...)` return a new
object and leave `q` as it was. Written as a statement of its own (`query.filter(Model.active)` instead of
`query = query.filter(...)`), the call does nothing, and the query later run returns the rows that condition was
meant to exclude. Read with `ast`, one function at a time: an expression statement that calls such a method on a
local name (directly or through a chain of such calls), where every binding of that name in the function is a
query built there: `session.query(...)`, `Model.query`, sqlalchemy's `select()`/`update()`/`delete()`/
`insert()`, or one of those carried on by the same methods. A name that is a parameter, a loop variable or bound
to anything else is not read: its type is not known, and other builders (an ORM's or a search library's
QueryBuilder) change themselves in place."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.names import Names, is_sqlalchemy
from analyzers.facts.walk import own_nodes

# a statement that starts with a call of a local name's method; only the modules with one are walked
HINT = re.compile(r"^[ \t]+[A-Za-z_]\w*\.(filter|filter_by|where|order_by|limit|offset|options|join|outerjoin|group_by|"
                  r"having|distinct|with_for_update|select_from|with_entities|values|returning)\(", re.M)

# the methods of Query and Select that return a new query and change nothing
GENERATIVE = frozenset(("filter", "filter_by", "where", "order_by", "limit", "offset", "options", "join", "outerjoin",
                        "group_by", "having", "distinct", "with_for_update", "select_from", "with_entities",
                        "values", "returning", "join_from", "add_columns", "execution_options", "params", "slice"))
_STATEMENTS = frozenset(("select", "update", "delete", "insert"))


@dataclass(frozen=True, slots=True)
class DiscardedQuery:
    """In `function`, `call` (`name.method(...)`) is a statement of its own: its result, a new query, is dropped."""

    function: str
    name: str  # the local the query is kept in: `query`
    method: str  # the first generative method called on it: filter | where | order_by ...
    call: Span
    written: str  # the statement as written, shortened
    built: Span  # where the name was first bound to the query
    model: str  # `Model.query` (Flask-SQLAlchemy): the class, for the rule to know it mapped; else ""


def read_discarded_queries(functions, owners: dict[int, str], names: Names, path: str) -> list[DiscardedQuery]:
    out: list[DiscardedQuery] = []
    for func in functions:
        nodes = own_nodes(func)
        dropped = [n for n in nodes if isinstance(n, ast.Expr) and _generative_call(n.value)]
        if not dropped:
            continue
        bindings = _bindings(func, nodes)
        loops = [(n.lineno, n.end_lineno) for n in nodes if isinstance(n, (ast.For, ast.AsyncFor, ast.While))]
        name = f"{owners[id(func)]}.{func.name}" if id(func) in owners else func.name
        for stmt in dropped:
            root, method = _receiver(stmt.value)
            bound = _reaching(bindings.get(root.id, []), stmt, loops) if isinstance(root, ast.Name) else []
            if not bound or not all(v is not None and _builds_query(v, root.id, names) for v in bound):
                continue
            written = ast.unparse(stmt.value)
            out.append(DiscardedQuery(name, root.id, method, span_of(stmt, path),
                                      written if len(written) <= 90 else written[:87] + "...",
                                      span_of(min(bound, key=lambda v: v.lineno), path), _model(bound)))
    return out


def _reaching(bound: list[tuple[int, ast.AST | None]], stmt: ast.stmt, loops: list[tuple[int, int]]) -> list:
    """The values bound to a name that the statement may see: those written above it, and those of a loop
    around it (the next turn sees them)."""
    around = [(a, b) for a, b in loops if a <= stmt.lineno <= b]
    return [value for line, value in bound
            if line < stmt.lineno or any(a <= line <= b for a, b in around)]


def _model(values: list[ast.AST]) -> str:
    """The class of `Model.query` where the query starts from one, else ""."""
    for value in values:
        node = value
        while _generative_call(node):
            node = node.func.value  # type: ignore[union-attr]
        if isinstance(node, ast.Attribute) and node.attr == "query" and isinstance(node.value, ast.Name):
            return node.value.id
    return ""


def _generative_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in GENERATIVE


def _receiver(call: ast.Call) -> tuple[ast.AST, str]:
    """What a chain of generative calls starts from, and the first method called on it."""
    node, method = call, call.func.attr  # type: ignore[union-attr]
    while _generative_call(node):
        method = node.func.attr  # type: ignore[union-attr]
        node = node.func.value  # type: ignore[union-attr]
    return node, method


_Bindings = dict[str, list[tuple[int, ast.AST | None]]]


def _bindings(func, nodes: list[ast.AST]) -> _Bindings:
    """Each local name -> (line, value) of each binding of it. Value None: not a plain assignment's (a parameter,
    a loop target, `with ... as`, an augmented assignment, a global or nonlocal): its type is not known. Line 0:
    bound before the body runs."""
    out: _Bindings = {}
    args = func.args
    for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if a is not None:
            out.setdefault(a.arg, []).append((0, None))
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append((node.lineno, node.value))
                else:
                    _unknown(target, out)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.setdefault(node.target.id, []).append((node.lineno, node.value))
        elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor, ast.comprehension)):
            _unknown(node.target, out)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            _unknown(node.optional_vars, out)
        elif isinstance(node, ast.NamedExpr):
            out.setdefault(node.target.id, []).append((node.lineno, node.value))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for n in node.names:
                out.setdefault(n, []).append((0, None))
    return out


def _unknown(target: ast.AST, out: _Bindings) -> None:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            out.setdefault(node.id, []).append((node.lineno, None))


def _builds_query(value: ast.AST, name: str, names: Names) -> bool:
    """`value` is a SQLAlchemy query or statement built here, or `name` itself carried on by generative calls."""
    node = value
    while _generative_call(node):
        node = node.func.value  # type: ignore[union-attr]
    if isinstance(node, ast.Name):
        return node.id == name and node is not value  # `q = q.filter(...)`, not `q = q`
    if isinstance(node, ast.Attribute):  # Flask-SQLAlchemy's `Model.query`
        return node.attr == "query" and isinstance(node.value, ast.Name) and node.value.id[:1].isupper()
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "query":  # session.query(Model)
        text = ast.unparse(func.value).lower()
        return "session" in text or text in ("db", "self.db", "_db", "self._db")
    qualname = names.qualname(func)  # sqlalchemy.select, sqlmodel.select; not a function of the module's own
    return "." in qualname and qualname.rsplit(".", 1)[-1] in _STATEMENTS and is_sqlalchemy(qualname)
