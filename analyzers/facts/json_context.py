"""How the query around a JSON use uses it: whether an index on the JSON column could be how PostgreSQL
finds the rows. A negated test (`~col.has_key("k")`, `col["k"].astext != v`) is served by no index; one
branch of an OR is served only if every branch has an index of its own; and a query that also compares
another column of the same class with `==` or `.in_()` may find its rows through that column's index.
The rule (PERF002) decides which of those columns are indexed; this module only reads the code."""

from __future__ import annotations

import ast
import dataclasses

from analyzers.facts.model import JsonUse

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
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    out = []
    for node, use in found:
        scope = _scope(node, parents)
        negated, in_or = _climb(node, parents, scope, depth=0)
        narrowed = tuple(sorted(_compared(scope) - {(use.owner, use.attr)}))
        out.append(dataclasses.replace(use, negated=negated, in_or=in_or, narrowed_by=narrowed))
    return out


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


def _climb(node: ast.AST, parents: dict[int, ast.AST], scope: ast.AST, depth: int) -> tuple[bool, bool]:
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
            in_or = True
        elif isinstance(parent, ast.Call) and node is not parent.func:
            name = _callee(parent)
            negated |= name == "not_"
            in_or |= name == "or_"
        elif isinstance(parent, ast.Call) and isinstance(node, ast.Attribute) and node.attr in ("not_in", "notin_"):
            negated = True
        if isinstance(parent, ast.stmt):
            if depth == 0 and isinstance(parent, ast.Assign) and len(parent.targets) == 1 \
                    and isinstance(parent.targets[0], ast.Name):
                for load in _loads(scope, parent.targets[0].id):
                    n, o = _climb(load, parents, scope, depth + 1)
                    negated, in_or = negated or n, in_or or o
            break
        node = parent
    return negated, in_or


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _loads(scope: ast.AST, name: str) -> list[ast.Name]:
    return [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]


def _compared(scope: ast.AST) -> set[tuple[str, str]]:
    """The class attributes the scope compares with `==` or `.in_()`: with a value, or with another
    class's column (a join condition)."""
    out: set[tuple[str, str]] = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
            out.update(a for a in (class_attr(node.left), class_attr(node.comparators[0])) if a)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "in_":
            a = class_attr(node.func.value)
            if a:
                out.add(a)
    return out
