"""Attributes of an object changed in place, not assigned (`obj.data["k"] = v`, `obj.data.update(...)`,
`obj.tags.append(x)`, `del obj.data[k]`): SQLAlchemy sees an assignment to a mapped attribute, not a change
inside the value it holds, so on a plain JSON column such a change is not written unless the code marks it
(`flag_modified`) or assigns the attribute. Read with `ast`, one function at a time, with where the name
comes from (as analyzers/facts/rewrites.py records it) and whether the function marks or assigns it; the
rule decides whether the object is a loaded row and the attribute a JSON column."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.names import Names, last
from analyzers.facts.rewrites import _Function, _given_fresh
from analyzers.facts.walk import walk

# Only the modules that may change an attribute in place and send it to the database are walked.
HINT = re.compile(r"\w\.\w+(?:\[[^\]\n]*\])*(?:\[[^\]\n]*\]\s*[-+]?=(?!=)|\.(?:append|extend|insert|remove|pop|update|setdefault|clear)\()")
SAVE_HINT = re.compile(r"\.(?:commit|flush)\(")

# Calls that only read the value handed them.
_READS = frozenset(("len", "bool", "str", "repr", "isinstance", "list", "dict", "set", "tuple", "sorted", "any", "all",
                    "print", "iter", "enumerate", "zip", "copy", "deepcopy", "debug", "info", "warning", "error", "exception"))
_MUTATORS = frozenset(("append", "extend", "insert", "remove", "pop", "popitem", "update", "setdefault", "clear"))


@dataclass(frozen=True, slots=True)
class InPlace:
    """`holder.attr` changed in place in one function, which neither assigns the attribute nor marks it."""

    holder: str  # the name changed on: a local, a parameter
    attr: str
    span: Span  # the statement that changes it
    target: Span  # the attribute read (as QueryUse.reached records its reads)
    function: str
    owner: str | None  # the class whose method `function` is
    written: str  # the statement as written, shortened
    origin: tuple[str, str]  # as Rewrite.origin
    fresh: bool = False  # as Rewrite.fresh: every call in the module passes an object its caller has just made
    # ("get", "param"): the class as the module's imports qualify it (`app.models.Workspace`, `app.schemas.Workspace`)
    model_ref: str = ""


def read_in_place(
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef], owners: dict[int, str], names: Names, path: str,
) -> list[InPlace]:
    found: list[InPlace] = []
    for func in functions:
        reader = _Function(func, owners.get(id(func)), names, path)
        changed = [(s, node) for s in reader.statements for node in _changed(s)]
        if not changed:
            continue
        kept = _kept(reader.statements, names)
        for s, node in changed:
            holder, attr = node.value.id, node.attr
            if holder in kept or (holder, attr) in kept:
                continue
            text = ast.unparse(s).splitlines()[0]
            origin = reader._origin(holder, s)
            fresh = origin[0] == "param" and _given_fresh(func, holder, functions)
            found.append(InPlace(holder=holder, attr=attr, span=span_of(s, path), target=span_of(node, path),
                                 function=func.name, owner=owners.get(id(func)),
                                 written=text if len(text) <= 80 else text[:77] + "...", origin=origin, fresh=fresh,
                                 model_ref=_model_ref(reader, holder, origin, names)))
    return found


def _model_ref(reader: _Function, holder: str, origin: tuple[str, str], names: Names) -> str:
    """The qualified name of the class `origin` names: in the parameter's annotation, or `session.get()`'s first
    argument; the name alone where it is not written as a name (a string annotation)."""
    kind, cls = origin
    if kind == "param":
        args = reader.func.args
        where = [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.arg == holder and a.annotation]
    elif kind == "get":
        where = [s.value for s in reader.assigned.get(holder, ())]
    else:
        return ""
    return next((names.qualname(n) for w in where for n in walk(w)
                 if isinstance(n, (ast.Name, ast.Attribute)) and last(names.qualname(n)) == cls), cls)


def _changed(s: ast.stmt):
    """The attributes `name.attr` whose value `s` changes in place: an item set or deleted, a mutating method."""
    targets = s.targets if isinstance(s, (ast.Assign, ast.Delete)) else [s.target] if isinstance(s, ast.AugAssign) else []
    for t in targets:
        if isinstance(t, ast.Subscript):
            inner = _under_items(t.value)
            if inner is not None:
                yield inner
    if isinstance(s, (ast.Expr, ast.Assign)) and isinstance(s.value, ast.Call):
        call = s.value
        if isinstance(call.func, ast.Attribute) and call.func.attr in _MUTATORS:
            inner = _under_items(call.func.value)
            if inner is not None:
                yield inner


def _under_items(node: ast.AST) -> ast.Attribute | None:
    """`obj.data`, `obj.data["a"]`, `obj.data["a"][0]`: the attribute of a name the items are inside."""
    while isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id != "self" \
            and not node.attr.startswith("_"):
        return node
    return None


def _kept(statements: list[ast.stmt], names: Names) -> set:
    """What the function marks, assigns or hands on: (holder, attr) assigned (`obj.data = ...`) or passed to a
    call (`update(Alert).values(event=alert.event)`, `save_options(preset.options)`: written some other way,
    maybe); holders passed to `flag_modified`/`flag_dirty`/`setattr` (whatever attribute: a name dbreview cannot
    read counts)."""
    kept: set = set()
    for s in statements:
        for n in walk(s):
            if isinstance(n, ast.Call) and last(names.callee(n)) not in _READS:
                for arg in (*n.args, *(k.value for k in n.keywords)):
                    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
                        kept.add((arg.value.id, arg.attr))
    for s in statements:
        targets = s.targets if isinstance(s, ast.Assign) else [s.target] if isinstance(s, (ast.AnnAssign, ast.AugAssign)) else []
        for t in targets:
            for n in walk(t):
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and isinstance(n.ctx, ast.Store):
                    kept.add((n.value.id, n.attr))
        for n in walk(s):
            if isinstance(n, ast.Call) and last(names.callee(n)) in ("flag_modified", "flag_dirty", "setattr") and n.args \
                    and isinstance(n.args[0], ast.Name):
                kept.add(n.args[0].id)
    return kept
