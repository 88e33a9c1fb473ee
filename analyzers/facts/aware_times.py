"""Aware datetimes the code puts next to a model's attribute: compared with it (`User.last_seen >= cutoff`) or
written into it (`row.expires_at = datetime.now(timezone.utc)`), where the value is aware as far as its function
tells: `datetime.now(tz)`, `.astimezone(...)`, `.replace(tzinfo=tz)`, arithmetic on one, a name only ever bound to
one (through a dict's values and the loop over them too), or the call of a project function without arguments
("call": the rule reads what that function returns with `returned_by`: called without arguments, a parameter's
default decides an `if` on it, as in `def utcnow(*, with_tz=True)`)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.password_writes import _annotated_classes, _callee, _functions
from analyzers.facts.walk import walk

_COMPARE = (ast.Lt, ast.Gt, ast.LtE, ast.GtE, ast.Eq, ast.NotEq)
_STDLIB = frozenset(("datetime", "date", "time", "dt", "timezone"))  # datetime.now(): naive, no project function
# Calls whose first argument is the model class, or a statement that loads it.
_LOADERS = frozenset(("get", "get_one", "get_or_404", "select", "query", "scalar", "scalars", "execute", "merge"))
_CLOCK = re.compile(r"now|time|today|stamp", re.I)  # a function of the project's that may tell the time


@dataclass(frozen=True, slots=True)
class AwareUse:
    what: str  # "compare" | "write"
    target: str  # the class or object whose attribute it is (`orm.User`, `row`, `self`)
    attr: str
    span: Span
    value: str  # the value's expression, shortened
    kind: str  # "aware" (detail: how) | "call" (detail: the callee, a function of the project maybe)
    detail: str
    owner: str = ""
    function: str = ""
    classes: tuple[str, ...] = ()  # the classes the written object is bound to in its function, () where not shown


def read_aware_times(tree: ast.Module, path: str) -> list[AwareUse]:
    uses: list[AwareUse] = []
    for owner, func in _functions(tree):
        kinds = _Kinds(func)
        for n in walk(func):
            if isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], _COMPARE):
                for column, other in ((n.left, n.comparators[0]), (n.comparators[0], n.left)):
                    if isinstance(column, ast.Attribute) and not isinstance(other, ast.Constant):
                        found = kinds.of(other)
                        if found:
                            uses.append(AwareUse("compare", ast.unparse(column.value), column.attr, span_of(n, path),
                                                 ast.unparse(other)[:60], *found, owner, func.name))
            elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Attribute):
                found = kinds.of(n.value)
                if found:
                    t = n.targets[0]
                    uses.append(AwareUse("write", ast.unparse(t.value), t.attr, span_of(n, path), ast.unparse(n.value)[:60],
                                         *found, owner, func.name, kinds.classes(t.value)))
            elif isinstance(n, ast.Call) and (model := _statement_model(n)) is not None:
                for attr, value in _set_values(n):
                    found = kinds.of(value)
                    if found:
                        uses.append(AwareUse("write", model, attr, span_of(n, path), ast.unparse(value)[:60],
                                             *found, owner, func.name, (model.rsplit(".", 1)[-1],)))
            elif isinstance(n, ast.Call) and _callee(n)[:1].isupper():
                for k in n.keywords:
                    found = kinds.of(k.value) if k.arg else None
                    if found:
                        uses.append(AwareUse("write", _callee(n), k.arg or "", span_of(n, path), ast.unparse(k.value)[:60],
                                             *found, owner, func.name))
    return uses


# The call that sets columns -> the statement its chain starts from: `update(M).values(...)`,
# `insert(M).on_conflict_do_update(set_=...)`, `session.query(M).filter(...).update({...})`.
_SETTERS = {"values": ("update",), "on_conflict_do_update": ("insert",), "on_duplicate_key_update": ("insert",),
            "update": ("query",)}


def _statement_model(call: ast.Call) -> str | None:
    """The class a statement that sets columns is of (`M` of `update(M).where(...).values(...)`), as written; None
    where the call sets none or its chain starts from no class."""
    starts = _SETTERS.get(_callee(call))
    node = call.func.value if isinstance(call.func, ast.Attribute) else None
    while isinstance(node, (ast.Call, ast.Attribute)) and starts:
        if isinstance(node, ast.Call) and _callee(node) in starts and node is not call:
            first = node.args[0] if node.args else None
            name = ast.unparse(first) if isinstance(first, (ast.Name, ast.Attribute)) else ""
            return name if name.rsplit(".", 1)[-1][:1].isupper() else None
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def _set_values(call: ast.Call) -> list[tuple[str, ast.AST]]:
    """(column, value) a setting call gives: keywords, or a dict keyed by names or by `Model.column` (`set_=` of an
    upsert)."""
    given = [k.value for k in call.keywords if k.arg == "set_"] or ([] if _callee(call) == "on_conflict_do_update" else call.args[:1])
    pairs = [(k.arg, k.value) for k in call.keywords if k.arg] if _callee(call) == "values" else []
    for d in given:
        if isinstance(d, ast.Dict):
            for key, value in zip(d.keys, d.values):
                name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else \
                    key.attr if isinstance(key, ast.Attribute) else None
                if name:
                    pairs.append((name, value))
        elif isinstance(d, ast.Call) and _callee(d) == "dict":
            pairs += [(k.arg, k.value) for k in d.keywords if k.arg]
    return pairs


def returned_by(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, str] | None:
    """("aware", how) when every return of the function, called without arguments, gives an aware datetime."""
    return _Kinds(func).returned()


class _Kinds:
    """What the names of one function hold: aware datetimes, or what a project function returns. A name counts
    only when every binding of it does; a branch on a parameter that its default decides is read as the default
    takes it (the function called without arguments)."""

    def __init__(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.func = func
        self.defaults = _defaults(func)
        self.bindings: dict[str, list[ast.AST]] = {}
        self._bind(func.body)
        self.memo: dict[str, tuple[str, str] | None] = {}

    def _bind(self, body: list[ast.stmt]) -> None:
        for st in body:
            if isinstance(st, ast.If):
                taken = self._decided(st.test)
                if taken is not False:
                    self._bind(st.body)
                if taken is not True:
                    self._bind(st.orelse)
                continue
            if isinstance(st, ast.Assign):
                for t in st.targets:
                    if isinstance(t, ast.Name):
                        self.bindings.setdefault(t.id, []).append(st.value)
            elif isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name):
                self.bindings.setdefault(st.target.id, []).append(ast.BinOp(st.target, st.op, st.value))
            elif isinstance(st, (ast.For, ast.AsyncFor)):
                self._loop(st.target, st.iter)
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(st, field, None)
                if isinstance(inner, list) and not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self._bind(inner)
            for handler in getattr(st, "handlers", ()):
                self._bind(handler.body)

    def classes(self, obj: ast.AST, depth: int = 0) -> tuple[str, ...]:
        """The model classes a name is bound to in this function: `X(...)`, `session.get(X, id)`,
        `session.scalar(select(X)...)` (through a name bound to the statement), a parameter annotated `X`; () where
        one of its bindings shows none (the name's class is not known: the rule falls back on its name)."""
        if not isinstance(obj, ast.Name) or depth > 3:
            return ()
        param = next((a for a in (*self.func.args.posonlyargs, *self.func.args.args, *self.func.args.kwonlyargs)
                      if a.arg == obj.id), None)
        if param is not None:
            return tuple(_annotated_classes(param.annotation))
        found: set[str] = set()
        for value in self.bindings.get(obj.id, ()):
            one = self._loaded(value, depth)
            if not one:
                return ()
            found |= one
        return tuple(sorted(found))

    def _loaded(self, value: ast.AST, depth: int) -> set[str]:
        """The classes an expression loads or builds, following a chain of calls (`select(X).where(...)`)."""
        while isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Name):
            return set(self.classes(value, depth + 1))
        if isinstance(value, ast.Call) and _callee(value)[:1].isupper():
            return {_callee(value)}
        found: set[str] = set()
        while isinstance(value, (ast.Call, ast.Attribute, ast.Await)):
            if isinstance(value, ast.Call):
                if _callee(value) in _LOADERS and value.args:
                    first = value.args[0]
                    name = first.attr if isinstance(first, ast.Attribute) else first.id if isinstance(first, ast.Name) else ""
                    found |= {name} if name[:1].isupper() else self._loaded(first, depth)
                value = value.func
            else:
                value = value.value
        return found

    def _loop(self, target: ast.AST, over: ast.AST) -> None:
        """`for k, v in d.items()`, `for v in d.values()`, `for v in values`: v holds the container's items."""
        method = over.func.attr if isinstance(over, ast.Call) and isinstance(over.func, ast.Attribute) else ""
        container = over.func.value if method in ("items", "values") else over
        item = ast.Subscript(container, ast.Constant(None))  # "an item of": read by of()
        if method == "items" and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name):
            self.bindings.setdefault(target.elts[1].id, []).append(item)
        elif method != "items" and isinstance(target, ast.Name):
            self.bindings.setdefault(target.id, []).append(item)

    def _decided(self, test: ast.AST) -> bool | None:
        negate = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        name = test.operand if negate else test
        if isinstance(name, ast.Name) and name.id in self.defaults:
            return (not self.defaults[name.id]) if negate else bool(self.defaults[name.id])
        return None

    def returned(self) -> tuple[str, str] | None:
        values = [r.value for r in walk(self.func) if isinstance(r, ast.Return) and r.value is not None]
        found = {self.of(v) for v in values}
        return next(iter(found)) if len(found) == 1 else None

    def of(self, value: ast.AST, depth: int = 0) -> tuple[str, str] | None:
        if depth > 6:
            return None
        if isinstance(value, ast.Name):
            if value.id not in self.memo:
                self.memo[value.id] = None  # a name bound to itself: not known
                bound = self.bindings.get(value.id, [])
                found = {self.of(v, depth + 1) for v in bound}
                self.memo[value.id] = next(iter(found)) if bound and len(found) == 1 else None
            return self.memo[value.id]
        if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)):
            return self.of(value.left, depth + 1)  # aware - timedelta is aware (aware - aware is a timedelta: not here)
        if isinstance(value, ast.Subscript):
            container = value.value
            if isinstance(container, ast.Dict) and container.values:
                found = {self.of(v, depth + 1) for v in container.values}
                return next(iter(found)) if len(found) == 1 else None
            if isinstance(container, (ast.List, ast.Tuple)) and container.elts:
                found = {self.of(v, depth + 1) for v in container.elts}
                return next(iter(found)) if len(found) == 1 else None
            if isinstance(container, ast.Name):
                bound = self.bindings.get(container.id, [])
                if len(bound) == 1 and isinstance(bound[0], (ast.Dict, ast.List, ast.Tuple)):
                    return self.of(ast.Subscript(bound[0], ast.Constant(None)), depth + 1)
            return None
        if isinstance(value, ast.Call):
            return self._call(value, depth)
        return None

    def _call(self, call: ast.Call, depth: int) -> tuple[str, str] | None:
        name = _callee(call)
        text = ast.unparse(call)[:60]
        if name == "now" and (call.args or any(k.arg == "tz" for k in call.keywords)) and not _none(call.args[:1]):
            return "aware", text
        if name == "fromtimestamp" and (len(call.args) >= 2 or any(k.arg == "tz" for k in call.keywords)):
            return "aware", text
        if name == "astimezone":
            return "aware", text
        if name == "replace" and isinstance(call.func, ast.Attribute):
            tz = next((k.value for k in call.keywords if k.arg == "tzinfo"), None)
            if tz is not None:
                return None if _none([tz]) else ("aware", text)
            return self.of(call.func.value, depth + 1)
        if not call.args and not call.keywords and _CLOCK.search(name) and (isinstance(call.func, ast.Name) or (
                isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
                and call.func.value.id not in _STDLIB)):
            return "call", name  # `utcnow()`, `utils.now()`: what the project's function returns, the rule reads
        return None


def _none(nodes) -> bool:
    return any(isinstance(n, ast.Constant) and n.value is None for n in nodes)


def _defaults(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, object]:
    """Parameters whose default is a constant: what the function sees when called without them."""
    a = func.args
    positional = [*a.posonlyargs, *a.args]
    out = {p.arg: d.value for p, d in zip(positional[len(positional) - len(a.defaults):], a.defaults)
           if isinstance(d, ast.Constant)}
    out.update({p.arg: d.value for p, d in zip(a.kwonlyargs, a.kw_defaults) if isinstance(d, ast.Constant)})
    return out
