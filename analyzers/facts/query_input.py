"""Query shapes a caller's value decides: a LIKE pattern built around a value (`Model.name.ilike(f"%{q}%")`)
that leaves its `%` and `_` as wildcards, and a sort column picked by name (`order_by(getattr(Model, value))`),
each with where the value comes from (analyzers/facts/flow.py: the request, a parameter not followed ...)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.flow import Flow
from analyzers.facts.model import Span
from analyzers.facts.password_writes import _functions
from analyzers.facts.walk import walk

_LIKES = {"like", "ilike", "notlike", "notilike", "not_like", "not_ilike"}
# A value escaped for LIKE on the way: `escape_like(q)`, `q.replace("%", r"\%")`, `re.escape`.
_ESCAPED = re.compile(r"escape|replace\(\s*['\"](\\\\|%|_)")

Func = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class QueryInput:
    kind: str  # "like": a pattern around a value; "order": a sort column looked up by name
    span: Span
    function: str
    owner: str  # the class of the method, or ""
    value: str  # the value's expression, shortened
    source: str  # flow.RISK / flow.SAFE
    why: str
    model: str = ""  # order: the object the attribute is looked up on (`model.User`, `cls`)
    trail: tuple[int, ...] = ()  # the lines of the same file the value was followed through
    via: tuple[str, ...] = ()  # what of other modules it is safe through, as Hole.via (an enum-typed attribute)
    caught: bool = False  # order: looked up inside a `try` whose handler catches AttributeError (a bad name is skipped)
    refused: int = 0  # order: ... whose handler raises an error of its own instead: the line of that `raise`


def read_query_input(tree: ast.Module, flow: Flow, path: str) -> list[QueryInput]:
    out: list[QueryInput] = []
    for owner, func in _functions(tree):
        assigned: dict[str, list[ast.AST]] = {}
        for n in walk(func):
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
                assigned.setdefault(n.targets[0].id, []).append(n.value)
        sorted_by = {id(a) for n in walk(func) if _is_call(n, "order_by") for a in n.args}
        sorted_names = {m.id for n in walk(func) if _is_call(n, "order_by") for a in n.args for m in walk(a)
                        if isinstance(m, ast.Name)}
        caught: dict[int, int] = {}  # what a handler of AttributeError covers -> the line it raises on, 0 if it does not
        for t in walk(func):
            handler = next((h for h in t.handlers if _catches_attribute_error(h)), None) if isinstance(t, ast.Try) else None
            if handler is not None:
                raised = next((n.lineno for n in walk(handler) if isinstance(n, ast.Raise)), 0)
                caught.update((id(m), raised) for stmt in t.body for m in walk(stmt))
        for n in walk(func):
            if not isinstance(n, ast.Call):
                continue
            name = n.func.attr if isinstance(n.func, ast.Attribute) else ""
            if name in _LIKES and n.args and not any(k.arg == "escape" for k in n.keywords):
                for part in _pattern_parts(n.args[0], assigned):
                    source, why, trail, via = flow.origin(part, func)
                    out.append(QueryInput("like", span_of(n, path), func.name, owner, ast.unparse(part)[:60], source, why,
                                          trail=trail, via=via))
            elif isinstance(n.func, ast.Name) and n.func.id == "getattr" and len(n.args) >= 2 and not isinstance(
                    n.args[1], ast.Constant) and _sorts(n, func, sorted_by, sorted_names):
                source, why, trail, via = flow.origin(n.args[1], func)
                out.append(QueryInput("order", span_of(n, path), func.name, owner, ast.unparse(n.args[1])[:60], source, why,
                                      ast.unparse(n.args[0])[:60], trail, via, caught.get(id(n)) == 0, caught.get(id(n)) or 0))
    return out


def _pattern_parts(pattern: ast.AST, assigned: dict[str, list[ast.AST]], depth: int = 0) -> list[ast.AST]:
    """The values a pattern puts between wildcards (`f"%{q}%"`, `"%" + q + "%"`, `"%%%s%%" % q`), none where the
    pattern has no wildcard of its own or escapes them."""
    if isinstance(pattern, ast.Name) and depth < 2 and len(assigned.get(pattern.id, ())) == 1:
        return _pattern_parts(assigned[pattern.id][0], assigned, depth + 1)
    text = ast.unparse(pattern)
    if _ESCAPED.search(text):
        return []
    constants = [n.value for n in walk(pattern) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    if not any("%" in c for c in constants):
        return []
    if isinstance(pattern, ast.JoinedStr):
        return [v.value for v in pattern.values if isinstance(v, ast.FormattedValue)]
    if isinstance(pattern, ast.BinOp) and isinstance(pattern.op, ast.Add):
        return [p for p in _added(pattern) if not (isinstance(p, ast.Constant))]
    if isinstance(pattern, ast.BinOp) and isinstance(pattern.op, ast.Mod):
        right = pattern.right
        return list(right.elts) if isinstance(right, ast.Tuple) else [right]
    if isinstance(pattern, ast.Call) and isinstance(pattern.func, ast.Attribute) and pattern.func.attr == "format":
        return [*pattern.args, *(k.value for k in pattern.keywords)]
    return []


def _added(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _added(node.left) + _added(node.right)
    return [node]


def _sorts(call: ast.Call, func: Func, sorted_by: set[int], sorted_names: set[str]) -> bool:
    """Is the attribute looked up a sort column: inside an order_by(...) argument, or assigned to a name that one
    names (`field = getattr(Model, key)`, then `order_by(field.desc())`)."""
    for n in walk(func):
        if id(n) in sorted_by and any(m is call for m in walk(n)):
            return True
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) \
                and n.targets[0].id in sorted_names and any(m is call for m in walk(n.value)):
            return True
    return False


def _catches_attribute_error(handler: ast.ExceptHandler) -> bool:
    """`except AttributeError`, `except (AttributeError, KeyError)`, `except Exception`, a bare `except`."""
    names = [handler.type] if not isinstance(handler.type, ast.Tuple) else handler.type.elts
    return handler.type is None or any(ast.unparse(n).rsplit(".", 1)[-1] in ("AttributeError", "Exception", "BaseException")
                                       for n in names)


def _is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
