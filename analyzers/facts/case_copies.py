"""Attributes kept as the lower-cased copy of another (`email_lower` of `email`): where the code writes one from
the other's `.lower()` (or `.casefold()`). INT015 reads them: a unique key on the original does not keep the copy,
which the lookups compare, unique."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.names import Names, const_str, last
from analyzers.facts.walk import walk

WORDS = re.compile(r"\.(lower|casefold)\(")  # a module without them writes no copy


@dataclass(frozen=True, slots=True)
class CaseCopy:
    model: str | None  # the class whose attributes they are, where the code names it
    copy: str  # the attribute written lower-cased (`email_lower`)
    source: str  # the attribute it copies (`email`)
    span: Span  # where it is written


def read_case_copies(tree: ast.Module, names: Names, path: str) -> list[CaseCopy]:
    """Four shapes: a listener on the source's "set" event (`@event.listens_for(User.email, "set")`) that writes
    `target.email_lower = value.lower()`; a `@validates("email")` method or an `@email.setter` writing
    `self.email_lower = value.lower()`; a call given both (`User(email=e, email_lower=e.lower())`); and one
    object given both in one function (`user.email = e` ... `user.email_lower = e.lower()`)."""
    out: list[CaseCopy] = []
    for node in walk(tree):
        if isinstance(node, ast.ClassDef):
            for func in node.body:
                if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out += _from_hook(func, node.name, names, path)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out += _from_listener(node, names, path) + _from_pairs(node, path)
        elif isinstance(node, ast.Call):
            out += _from_call(node, path)
    return sorted(set(out), key=lambda c: (c.span.start, c.copy))  # a method is met as a function too


def _from_listener(func: ast.FunctionDef | ast.AsyncFunctionDef, names: Names, path: str) -> list[CaseCopy]:
    for deco in func.decorator_list:
        if (isinstance(deco, ast.Call) and last(names.callee(deco)) == "listens_for" and len(deco.args) >= 2
                and const_str(deco.args[1]) == "set" and isinstance(deco.args[0], ast.Attribute)
                and isinstance(deco.args[0].value, ast.Name) and len(func.args.args) >= 2):
            target, value = func.args.args[0].arg, func.args.args[1].arg
            return _writes(func, target, value, deco.args[0].value.id, deco.args[0].attr, path)
    return []


def _from_hook(func: ast.FunctionDef | ast.AsyncFunctionDef, owner: str, names: Names, path: str) -> list[CaseCopy]:
    params = [a.arg for a in func.args.args]
    for deco in func.decorator_list:
        if (isinstance(deco, ast.Call) and last(names.callee(deco)) == "validates" and len(deco.args) == 1
                and (source := const_str(deco.args[0])) and len(params) >= 3):
            return _writes(func, params[0], params[2], owner, source, path)  # def validate(self, key, value)
        if isinstance(deco, ast.Attribute) and deco.attr == "setter" and isinstance(deco.value, ast.Name) and len(params) >= 2:
            return _writes(func, params[0], params[1], owner, deco.value.id.lstrip("_"), path)
    return []


def _writes(func: ast.AST, target: str, value: str, model: str, source: str, path: str) -> list[CaseCopy]:
    """`<target>.<copy> = <value>.lower()` in `func`: copies of `source`."""
    return [CaseCopy(model, t.attr, source, span_of(n, path)) for n in walk(func) if isinstance(n, ast.Assign)
            for t in n.targets if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == target
            and t.attr != source and _lowered(n.value) == value]


def _from_call(call: ast.Call, path: str) -> list[CaseCopy]:
    given = {k.arg: ast.unparse(k.value) for k in call.keywords if k.arg}
    model = call.func.id if isinstance(call.func, ast.Name) and call.func.id[:1].isupper() else None
    return [CaseCopy(model, k.arg, source, span_of(call, path)) for k in call.keywords
            if k.arg and (of := _lowered(k.value)) for source, v in given.items() if v == of and source != k.arg]


def _from_pairs(func: ast.FunctionDef | ast.AsyncFunctionDef, path: str) -> list[CaseCopy]:
    plain: dict[tuple[str, str], str] = {}  # (object, value as written) -> attribute assigned it
    lowered: list[tuple[str, str, str, ast.AST]] = []  # (object, value lowered, attribute, where)
    for n in walk(func):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(t := n.targets[0], ast.Attribute) \
                and isinstance(t.value, ast.Name):
            of = _lowered(n.value)
            if of is not None:
                lowered.append((t.value.id, of, t.attr, n))
            else:
                plain[(t.value.id, ast.unparse(n.value))] = t.attr
    return [CaseCopy(None, copy, source, span_of(n, path)) for obj, of, copy, n in lowered
            if (source := plain.get((obj, of))) and source != copy]


def _lowered(node: ast.AST) -> str | None:
    """What `node` lower-cases, as written: `value.lower()`, `value.strip().casefold()`, `value.lower().strip()`."""
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("lower", "casefold") and not node.args:
        inner = node.func.value
        while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "strip":
            inner = inner.func.value
        return ast.unparse(inner)
    if isinstance(node.func, ast.Attribute) and node.func.attr == "strip":
        return _lowered(node.func.value)
    return None
