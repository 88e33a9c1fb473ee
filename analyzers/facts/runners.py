"""What a method does with a statement handed to it as an argument (`async def get_one_or_none(self, statement):
result = await self._execute_query(statement); return result.scalar_one_or_none()`): for the queries a repository
builds in one method and runs through a helper of its class or a base class (QueryUse.handed). Read as usage.py reads
a query, from the parameter on."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from analyzers.facts.names import Names
from analyzers.facts.usage import _FILTERS, _JOINS, _RUNS, Usage, _Acc, _Function, _on_self
from analyzers.facts.walk import walk


@dataclass(frozen=True, slots=True)
class Runner:
    position: int  # the statement's parameter, counted after self
    methods: tuple[str, ...]  # called on the statement and on what running it gives
    ran: bool  # executed or fetched here
    escapes: bool  # returned unrun, or handed to something other than a method of self
    opaque: bool  # filtered or joined here, or in ways not read: what the caller's filters pick is not all
    handed: tuple[str, int] | None  # handed on, unrun, to a method of self: (its name, position)


def read_runners(functions: list[ast.FunctionDef | ast.AsyncFunctionDef], owners: dict[int, str], names: Names,
                 path: str) -> dict[str, Runner]:
    """"Class.method" -> what the method does with the first of its parameters that it runs or hands to a method of
    self; only methods whose first parameter is `self`."""
    out: dict[str, Runner] = {}
    for func in functions:
        owner = owners.get(id(func))
        params = [a.arg for a in func.args.args]
        if owner is None or len(params) < 2 or params[0] != "self":
            continue
        handed = _handed_params(func, set(params[1:]))
        param = next((p for p in params[1:] if p in handed), None)
        if param is None:
            continue
        reading = _Function(func, names, path, Usage(), through_helpers=True)
        acc = _Acc()
        for use in reading._while_bound(param, (func.lineno, 0)):
            reading._follow(use, acc, 0, set())
        out[f"{owner}.{func.name}"] = Runner(
            position=params.index(param) - 1, methods=tuple(sorted(acc.methods)), ran=acc.ran, escapes=acc.escapes,
            opaque=acc.opaque_filter or acc.value_call or any(m in _FILTERS or m in _JOINS for m in acc.methods),
            handed=acc.handed if acc.handed and acc.handed[0] else None,
        )
    return out


def _handed_params(func: ast.FunctionDef | ast.AsyncFunctionDef, params: set[str]) -> set[str]:
    """The parameters given as an argument to a run (`session.execute(statement)`) or to a method of self."""
    found: set[str] = set()
    for n in walk(func):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and (n.func.attr in _RUNS or _on_self(n.func, func)):
            found |= {a.id for a in n.args if isinstance(a, ast.Name) and a.id in params}
    return found
