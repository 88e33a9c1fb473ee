"""Rows read and then deleted by one function: `code = await codes.get_by_code(h)` ... `await codes.delete(code)`,
or `row = (await session.execute(select(...))).scalar_one_or_none()` ... `await session.delete(row)`. RACE003 reads
them: a one-time code or token consumed so is used twice by two requests at once."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.names import Names
from analyzers.facts.walk import walk

WORDS = re.compile(r"\.(delete|remove)\(")  # a module without them deletes no row it read
_LOCKS = re.compile(r"with_for_update|for\s+update|rowcount|returning\(", re.I)


@dataclass(frozen=True, slots=True)
class Consumed:
    function: str
    name: str  # the local name the row is bound to
    read: Span  # where it is read
    deleted: Span  # where it is deleted
    # the call that reads it, where it is one method of another object (`codes.get_by_code(...)`): (the method, the
    # class the object is annotated or made with, qualified; None where not known); None where read in place
    lookup: tuple[str, str | None] | None
    guarded: bool  # the function locks the row, deletes with RETURNING or counts the rows deleted
    used: bool  # what it holds is handed on before the delete: returned, yielded, or given to a call


def read_consumed(functions: list[ast.FunctionDef | ast.AsyncFunctionDef], names: Names, path: str) -> list[Consumed]:
    out: list[Consumed] = []
    for func in functions:
        deletes = [n for n in walk(func) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                   and n.func.attr in ("delete", "remove") and len(n.args) == 1 and isinstance(n.args[0], ast.Name)]
        if not deletes:
            continue
        classes = _classes_of(func, names)
        guarded = bool(_LOCKS.search(ast.unparse(func)))
        for n in walk(func):
            if not (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)):
                continue
            name = n.targets[0].id
            gone = [d for d in deletes if d.args[0].id == name and (d.lineno, d.col_offset) > (n.lineno, n.col_offset)]  # type: ignore[attr-defined]
            if not gone or _bound_between(func, name, n, gone[0]):
                continue
            value = n.value.value if isinstance(n.value, ast.Await) else n.value
            lookup = None
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Name):
                lookup = (value.func.attr, classes.get(value.func.value.id))
            out.append(Consumed(func.name, name, span_of(n, path), span_of(gone[0], path), lookup, guarded,
                                _handed_on(func, name, gone[0])))
    return out


def _handed_on(func: ast.AST, name: str, delete: ast.Call) -> bool:
    """`name.attr` inside a `return`, a `yield` or the arguments of a call other than the delete: the row's data
    goes on to grant something (a token, a session), not only to a test."""
    parents: dict[int, ast.AST] = {id(c): n for n in walk(func) for c in ast.iter_child_nodes(n)}
    for n in walk(func):
        if not (isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == name):
            continue
        up = parents.get(id(n))
        while up is not None and not isinstance(up, ast.stmt):
            if isinstance(up, (ast.Yield, ast.YieldFrom)) or (isinstance(up, ast.Call) and up is not delete and n not in (
                    up.func, getattr(up.func, "value", None))):
                return True
            up = parents.get(id(up))
        if isinstance(up, ast.Return):
            return True
    return False


def _classes_of(func: ast.FunctionDef | ast.AsyncFunctionDef, names: Names) -> dict[str, str]:
    """Local names -> the class they hold, qualified: a parameter's annotation, or `x = Cls(...)`."""
    out: dict[str, str] = {}
    for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]:
        if isinstance(a.annotation, (ast.Name, ast.Attribute)):
            out[a.arg] = names.qualname(a.annotation)
    for n in walk(func):
        target = n.targets[0] if isinstance(n, ast.Assign) and len(n.targets) == 1 else getattr(n, "target", None)
        if not isinstance(n, (ast.Assign, ast.AnnAssign)) or not isinstance(target, ast.Name):
            continue
        annotation = getattr(n, "annotation", None)
        if isinstance(annotation, (ast.Name, ast.Attribute)):  # `repo: Repo = make()`
            out.setdefault(target.id, names.qualname(annotation))
        elif isinstance(n.value, ast.Call) and isinstance(n.value.func, (ast.Name, ast.Attribute)):  # `repo = Repo(s)`
            out.setdefault(target.id, names.qualname(n.value.func))
    return out


def _bound_between(func: ast.AST, name: str, start: ast.AST, end: ast.AST) -> bool:
    """`name` bound again between the read and the delete: the row deleted is another."""
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) and n is not start.targets[0]  # type: ignore[attr-defined]
               and (start.lineno, start.col_offset) < (n.lineno, n.col_offset) < (end.lineno, end.col_offset)  # type: ignore[attr-defined]
               for n in walk(func))
