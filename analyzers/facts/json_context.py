"""How the query around a JSON use uses it: whether an index on the JSON column could be how PostgreSQL
finds the rows. A negated test (`~col.has_key("k")`, `col["k"].astext != v`) is served by no index; one
branch of an OR is served only if every branch has an index of its own (followed here only where every
branch tests the same JSON column alone); and a query that also compares another column of the same class
with a value (`==`, `.in_()`) may find its rows through that column's index.
The rule (PERF002) decides which of those columns are indexed; this module only reads the code."""

from __future__ import annotations

import ast
import dataclasses

from analyzers import confine
from analyzers.facts.columns import span_of
from analyzers.facts.model import Facts, JsonUse
from analyzers.facts.newer_syntax import parse_python
from analyzers.facts.paths import is_test_path
from analyzers.facts.walk import children, walk

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def class_attr(node: ast.AST) -> tuple[str, str] | None:
    """(Class, attr) for `Class.attr` where Class looks like a model class name."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id[:1].isupper():
        return node.value.id, node.attr
    return None


def with_context(tree: ast.Module, found: list[tuple[ast.AST, JsonUse]]) -> list[JsonUse]:
    """The uses with what their query does around them. One walk of the module for its parents, made
    only in the few modules that query into JSON."""
    if not found:
        return []
    parents: dict[int, ast.AST] = {}
    for node in walk(tree):
        for child in children(node):
            parents[id(child)] = node
    out = []
    for node, use in found:
        scope = _scope(node, parents)
        negated, in_or = _climb(node, parents, scope, (use.owner, use.attr), depth=0)
        query = _query_of(node, parents)
        narrowed = tuple(sorted(_compared(scope, parents, query) - {(use.owner, use.attr)}))
        joined = _joined(scope, parents, query, use.owner) or _correlated(node, parents, scope, use.owner)
        returned = query is None and isinstance(_statement(node, parents), ast.Return)
        function = scope.name if returned and isinstance(scope, _FUNCTIONS) else ""
        out.append(dataclasses.replace(use, negated=negated, in_or=in_or, narrowed_by=narrowed, joined=joined,
                                       returned=returned and bool(function), function=function,
                                       projected=_projected(node, parents, scope)))
    return out


def at_callers(tree: ast.Module, path: str, use: JsonUse) -> list[JsonUse]:
    """A test returned by a function (`use.function`), seen where a module calls that function by name:
    each call is the test in its caller's query (`.where(Item.kind == k, filters.choice(x))`), with what
    that query does around it. A call that returns it again is returned once more (followed no further)."""
    calls = [n for n in walk(tree) if isinstance(n, ast.Call) and _callee(n) == use.function]
    return with_context(tree, [(n, dataclasses.replace(use, span=span_of(n, path), returned=False, function=""))
                               for n in calls])


_PROJECTIONS = frozenset(("select", "with_entities", "with_only_columns", "add_columns", "order_by", "group_by",
                          "distinct", "label", "values", "returning", "column", "columns"))
_TESTS = frozenset(("where", "filter", "filter_by", "having", "join", "outerjoin", "on", "and_", "or_", "not_", "case",
                    "exists", "any", "has"))


def _projected(node: ast.AST, parents: dict[int, ast.AST], scope: ast.AST, depth: int = 0) -> bool:
    """The use is a column the query returns, sorts or groups by (`select(Org.settings["plan"])`,
    `.order_by(...)`, `.label(...)`), not a test of its rows: the nearest call around it that says which is a
    projection, and no comparison stands between. Followed once through a local name it is assigned to: every
    read of that name must be a projection."""
    while id(node) in parents:
        parent = parents[id(node)]
        if isinstance(parent, (ast.Compare, ast.BoolOp, ast.UnaryOp)) or (
                isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.BitAnd, ast.BitOr))):
            return False
        if isinstance(parent, ast.Call) and node is not parent.func:
            name = _callee(parent)
            if name in _TESTS:
                return False
            if name in _PROJECTIONS:
                return True
        if isinstance(parent, ast.Attribute) and parent.attr in ("label", "desc", "asc") and node is parent.value:
            return True  # Org.settings["plan"].astext.label("plan"), .desc(): a column
        if isinstance(parent, ast.stmt):
            if depth == 0 and isinstance(parent, ast.Assign) and len(parent.targets) == 1 \
                    and isinstance(parent.targets[0], ast.Name):
                loads = _loads(scope, parent.targets[0].id)
                return bool(loads) and all(_projected(load, parents, scope, 1) for load in loads)
            return False
        node = parent
    return False


def _statement(node: ast.AST, parents: dict[int, ast.AST]) -> ast.AST | None:
    while id(node) in parents:
        node = parents[id(node)]
        if isinstance(node, ast.stmt):
            return node
    return None


_SUBQUERY = frozenset(("correlate", "correlate_except", "scalar_subquery", "as_scalar", "lateral", "column_property"))


def _correlated(node: ast.AST, parents: dict[int, ast.AST], scope: ast.AST, owner: str, depth: int = 0) -> bool:
    """The use is in a correlated subquery (`.correlate_except(...)`, `.scalar_subquery()`, a column_property)
    whose conditions tie a column of its class to another class's (`Data.field_id == Item.id`): it runs for
    each row of the outer query, which reaches its rows through those keys; the JSON test only filters them.
    Followed once through a local name the test is assigned to (`criteria = [...]`, then `or_(*criteria)`)."""
    chain: list[ast.Call] = []
    while id(node) in parents and not isinstance(node, ast.stmt):
        node = parents[id(node)]
        if isinstance(node, ast.Call):
            chain.append(node)
    if not any(_callee(c) in _SUBQUERY for c in chain):
        if depth == 0 and isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            return any(_correlated(load, parents, scope, owner, 1) for load in _loads(scope, node.targets[0].id))
        return False
    for call in chain:
        for n in ast.walk(call):
            if isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], ast.Eq):
                sides = (class_attr(n.left), class_attr(n.comparators[0]))
                if sides[0] and sides[1] and sides[0][0] != sides[1][0] and owner in (sides[0][0], sides[1][0]):
                    return True
    return False


def _scope(node: ast.AST, parents: dict[int, ast.AST]) -> ast.AST:
    """The function the use is in; at module level, its statement."""
    statement = node
    while id(node) in parents:
        node = parents[id(node)]
        if isinstance(node, _FUNCTIONS):
            return node
        if isinstance(node, ast.stmt):
            statement = node
    return statement


def _climb(node: ast.AST, parents: dict[int, ast.AST], scope: ast.AST, column: tuple[str, str],
           depth: int) -> tuple[bool, bool]:
    """(negated, in an OR) from the use up to its statement; through a local name it is assigned to
    (`blocked = and_(..., Org.tags.contains(x))` then `or_(allowed, blocked)`), once."""
    negated = in_or = False
    while id(node) in parents:
        parent = parents[id(node)]
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, (ast.Not, ast.Invert)):
            negated = True
        elif isinstance(parent, ast.Compare) and any(isinstance(op, ast.NotEq) for op in parent.ops):
            negated = True
        elif isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.BitOr):
            in_or |= not _one_column(scope, column, parent.left, parent.right)
        elif isinstance(parent, ast.Call) and node is not parent.func:
            name = _callee(parent)
            if name in _QUERY_CALLS:
                break  # the query's own call: what its result meets (`if not rows`) is not the test
            negated |= name == "not_"
            in_or |= name == "or_" and not _one_column(scope, column, *parent.args)
        elif isinstance(parent, ast.Call) and isinstance(node, ast.Attribute) and node.attr in ("not_in", "notin_"):
            negated = True
        if isinstance(parent, ast.stmt):
            if depth == 0 and isinstance(parent, ast.Assign) and len(parent.targets) == 1 \
                    and isinstance(parent.targets[0], ast.Name):
                for load in _loads(scope, parent.targets[0].id):
                    n, o = _climb(load, parents, scope, column, depth + 1)
                    negated, in_or = negated or n, in_or or o
            break
        node = parent
    return negated, in_or


_QUERY_CALLS = frozenset(("where", "filter", "filter_by", "having", "join", "outerjoin", "on", "select", "query",
                          "execute", "scalar", "scalars", "exists", "subquery", "scalar_subquery", "update", "delete"))


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _loads(scope: ast.AST, name: str) -> list[ast.Name]:
    return [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]


def _one_column(scope: ast.AST, column: tuple[str, str], *branches: ast.AST) -> bool:
    """Every branch of the OR tests `column` and no other class attribute (`or_(*(and_(year == y, month == m)
    ...))` over one JSON column): indexes on that column can serve all of it."""
    assigned = {n.targets[0].id: n.value for n in ast.walk(scope)
                if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)}

    def named(branch: ast.AST) -> set[tuple[str, str]]:
        out = set()
        for n in ast.walk(branch):
            a = class_attr(n)
            if a:
                out.add(a)
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in assigned:
                out.update(x for m in ast.walk(assigned[n.id]) if (x := class_attr(m)))
        return out

    return bool(branches) and all(named(b) == {column} for b in branches)


def _query_of(node: ast.AST, parents: dict[int, ast.AST]) -> int | None:
    """The query a node is part of: the root of the nearest method chain it is an argument of
    (`select(...)` in `select(...).join(...).where(node)`), by identity; None when it is in none, or
    when it is put in a list of filters applied later (`filters.append(node)`)."""
    while id(node) in parents:
        parent = parents[id(node)]
        if isinstance(parent, ast.Call) and node is not parent.func and isinstance(parent.func, ast.Attribute):
            if parent.func.attr in ("append", "extend", "insert") and isinstance(parent.func.value, ast.Name):
                return None
            root = _root(parent)
            if not (ast.unparse(root) == "func" or ast.unparse(root).endswith(".func")):  # func.cast(...): SQL, not a query
                return id(root)
        if isinstance(parent, ast.stmt):
            return None
        node = parent
    return None


def _root(call: ast.Call) -> ast.AST:
    """The start of the method chain a call is a link of."""
    root: ast.AST = call.func.value if isinstance(call.func, ast.Attribute) else call.func
    while isinstance(root, (ast.Call, ast.Attribute)):
        inner = root.func if isinstance(root, ast.Call) else root.value
        if not isinstance(inner, (ast.Call, ast.Attribute)):
            break
        root = inner
    return root


def _joined(scope: ast.AST, parents: dict[int, ast.AST], query: int | None, owner: str) -> bool:
    """The use's class is joined into its query (`.join(Org, ...)`, `.outerjoin(Org)`) and the query tests
    a column of another class with a value (`Dispute.status == ...`): the rows come from that table and
    the JSON test only filters the rows joined to them. A use whose query is not known takes the joins and
    tests of the whole function."""
    joins = any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("join", "outerjoin")
        and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == owner
        and (query is None or id(_root(node)) == query)
        for node in ast.walk(scope))
    if not joins:
        return False
    conditions = {id(n) for node in ast.walk(scope) if isinstance(node, ast.Call) and _callee(node) in ("join", "outerjoin")
                  for arg in (*node.args, *(k.value for k in node.keywords)) for n in ast.walk(arg)}
    return any(id(node) not in conditions and (query is None or _query_of(node, parents) == query)
               and _tests_other_class(node, owner) for node in ast.walk(scope))


def _tests_other_class(node: ast.AST, owner: str) -> bool:
    """`Other.col <op> value` or `Other.col.in_(...)` (outside a join's condition): a test on another
    class's column. The value may be written like a column (`Status.OPEN`)."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left = class_attr(node.left)
        return left is not None and left[0] != owner
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "in_":
        a = class_attr(node.func.value)
        return a is not None and a[0] != owner
    return False


def _compared(scope: ast.AST, parents: dict[int, ast.AST], query: int | None) -> set[tuple[str, str]]:
    """The class attributes the use's query compares with a value known only at run time (`== org_id`,
    `.in_(ids)`: a lookup by key). A literal or an enum member (`type == "card"`, `status == Status.OPEN`)
    names a category that may hold most rows; a join condition (`Org.id == Order.org_id`) finds rows by
    key only if the other side is narrowed first, which is not followed here. A use through a local name
    (its query unknown) takes the comparisons of the whole function."""
    out: set[tuple[str, str]] = set()
    for node in ast.walk(scope):
        if query is not None and isinstance(node, (ast.Compare, ast.Call)) and _query_of(node, parents) != query:
            continue
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
            left, right = node.left, node.comparators[0]
            sides = (class_attr(left), class_attr(right))
            if sides[0] and not sides[1] and not isinstance(right, ast.Constant):
                out.add(sides[0])
            elif sides[1] and not sides[0] and not isinstance(left, ast.Constant):
                out.add(sides[1])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "in_":
            a = class_attr(node.func.value)
            if a and node.args and not isinstance(node.args[0], (ast.List, ast.Tuple, ast.Set)):
                out.add(a)
    return out


def followed(facts: Facts) -> list[JsonUse]:
    """The application's JSON uses, a test returned by a function seen at the calls of that function
    instead (at_callers) in the modules that mention its name; kept as it is where no call is found
    (the function is passed on as a value, or called from outside the code read). Calls from tests are
    not the application's."""
    returned = {u.function for u in facts.json_uses if u.returned}
    calls: dict[str, list[tuple[ast.Module, str]]] = {name: [] for name in returned}
    for m in facts.modules:
        names = [n for n in returned if n in m.mentions]
        if not names or is_test_path(m.path):
            continue
        try:
            tree = parse_python(confine.read_text(facts.root, m.path), m.path)
        except (OSError, SyntaxError, ValueError):
            continue
        for name in names:
            calls[name].append((tree, m.path))  # type: ignore[arg-type]
    out: list[JsonUse] = []
    for use in facts.json_uses:
        seen = [c for tree, path in calls.get(use.function, ()) for c in at_callers(tree, path, use)] if use.returned else []
        out.extend(seen or [use])
    return out
