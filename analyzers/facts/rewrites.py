"""Attributes of an object written from their own old value in Python (`obj.n += 1`, `obj.n = obj.n + 1`,
`obj.items = obj.items + [x]`, `obj.tags = [t for t in obj.tags if ...]`): the shape of a lost update when
the object is a row loaded from the database. Read with `ast`, one function at a time; what the object
is (a row, a form, a dataclass) is for the rule to decide from where the name comes from, which this
module records: a parameter's annotation, `self` in a class's method, `session.get(Model, ...)`, or a
query (matched through the attribute reads of analyzers/facts/usage.py's QueryUse.reached)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.names import Names, last
from analyzers.facts.walk import children, own_nodes, walk

# Only the modules whose text may hold one are walked: `hinted` says whether the text matches
# \w\.\w+\s*[-+|]=  |  \bif\b[^\n]{0,200}\.(?:\w*_)?(?:status|state|used|redeemed|consumed|claimed)\b  |
# \b(\w+)\.(\w+)\s*=(?!=)[^\n]{0,300}\b\1\.\2\b  |  =\s*(?:list|dict|set|copy|deepcopy)\(\w+\.\w+\)  |  \bmax\(|\.desc\(\)|\bdesc\(
# with the same answer, a part at a time from places a literal finds (as one regex, tried at every
# position of every module, it was a twentieth of a cold scan).
_ORDER = re.compile(r"\bmax\(|\.desc\(\)|\bdesc\(")
_UPDATE = re.compile(r"\w\.\w+\s*[-+|]=")
_COPY = re.compile(r"=\s*(?:list|dict|set|copy|deepcopy)\(\w+\.\w+\)")
_STATE = re.compile(r"\.(?:\w*_)?(?:status|state|used|redeemed|consumed|claimed)\b")
_IF = re.compile(r"\bif\b")
_SET = re.compile(r"\.(\w+)\s*=(?!=)")
_WORD = re.compile(r"\w")


def hinted(text: str) -> bool:
    """Whether the text may hold a rewrite (the pattern above)."""
    if ("max(" in text or "desc(" in text) and _ORDER.search(text):
        return True
    if ("-=" in text or "+=" in text or "|=" in text) and _UPDATE.search(text):
        return True
    if _COPY.search(text):
        return True
    for m in _STATE.finditer(text):  # `if` on the same line, at most 200 characters before the dot
        dot = m.start()
        if _IF.search(text, max(text.rfind("\n", 0, dot) + 1, dot - 202), dot):
            return True
    return any(_set_again(text, m) for m in _SET.finditer(text))


def _set_again(text: str, m: re.Match[str]) -> bool:
    """`a.b =` (m: from its dot) with `a.b` again, a whole word, on the same line within 300 characters."""
    start = m.start()
    while start and _WORD.match(text, start - 1):
        start -= 1
    if start == m.start():
        return False
    target, end = f"{text[start:m.start()]}.{m.group(1)}", m.end()
    newline = text.find("\n", end)
    limit = min(end + 300, len(text) if newline < 0 else newline)
    at = text.find(target, end)
    while 0 <= at <= limit:
        if not (at and _WORD.match(text, at - 1)) and not _WORD.match(text, at + len(target)):
            return True
        at = text.find(target, at + 1)
    return False


_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass(frozen=True, slots=True)
class Rewrite:
    """`holder.attr` written from the value it held, in Python, in one function."""

    holder: str  # the name written on: a local, a parameter, "self"
    attr: str
    span: Span  # the statement that writes
    target: Span  # the attribute written (as QueryUse.reached records its reads)
    function: str
    owner: str | None  # the class whose method `function` is
    kind: str  # "count" (+, -: a number moved from what was read), "list" (items added or taken away), "merge" (dict or set)
    written: str  # the statement as written, shortened
    # Where the name comes from inside the function: ("param", the annotation's class as written), ("self", ""),
    # ("get", the Model of `session.get(Model, ...)`), ("call", a function of the same module it is the result of),
    # or ("", "") (a local bound otherwise: a query's row, maybe).
    origin: tuple[str, str]
    returned: tuple[str, ...] = ()  # ("call", f): the local names f returns (`return doc`), the row it loads maybe
    # ("param", ...) in a module-level function: every call of it in its module passes an object the caller has just
    # made (`tombstone = Tombstone(...)`, then `_record_failure(session, tombstone)`), not a row it loaded
    fresh: bool = False
    # kind "guard": a status-like column set to a constant after a test of its old value (`if job.status !=
    # "pending": return` ... `job.status = "running"`): the test as written and where it is
    checked: str = ""
    checked_at: Span | None = None


@dataclass(frozen=True, slots=True)
class NextNumber:
    """A new object given the next number after the highest one read: `Budget(revision=last.revision + 1)`,
    `Invoice(number=(max_number or 0) + 1)` with `max_number` from `func.max(Invoice.number)`."""

    model: str  # the class constructed, as written
    column: str  # the keyword the number is given to
    span: Span  # the constructor call
    function: str
    holder: str | None  # the name the new object is bound to
    # Where the highest number comes from: ("row", the local name of a row read, its attribute) (a query's row,
    # matched through QueryUse.reached), or ("max", the class, the attribute) of `func.max(Class.attr)`.
    source: tuple[str, str, str]
    read: Span  # where the old number is read
    written: str  # the expression as written, shortened


def read_rewrites(
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef], owners: dict[int, str], names: Names, path: str,
) -> tuple[list[Rewrite], list[NextNumber]]:
    found: list[Rewrite] = []
    numbers: list[NextNumber] = []
    by_name: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for func in functions:
        by_name.setdefault(func.name, []).append(func)
    for func in functions:
        reader = _Function(func, owners.get(id(func)), names, path)
        for rw in reader.rewrites():
            kind, name = rw.origin
            if kind == "call":
                defs = by_name.get(name, [])
                if len(defs) != 1:
                    continue  # not one function of this module: where the object comes from is not read
                rw = replace(rw, returned=_returned_names(defs[0]))
            elif kind == "param" and rw.owner is None and len(by_name.get(func.name, ())) == 1:
                rw = replace(rw, fresh=_given_fresh(func, rw.holder, functions))
            found.append(rw)
        numbers.extend(reader.next_numbers())
    return found, numbers


def _given_fresh(func: ast.FunctionDef | ast.AsyncFunctionDef, param: str, functions) -> bool:
    """Does every call of `func` in its module (one at least) pass, for `param`, a local name its caller bound
    once, to a constructor call (`Tombstone(...)`): an object made in that call, not a row loaded?"""
    positional = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    calls = 0
    for caller in functions:
        bound: dict[str, list[ast.AST]] = {}
        mine: list[ast.Call] = []
        for node in own_nodes(caller):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        bound.setdefault(t.id, []).append(node.value)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr, ast.withitem)):
                target = node.optional_vars if isinstance(node, ast.withitem) else node.target
                for t in walk(target) if target is not None else ():
                    if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store):
                        bound.setdefault(t.id, []).append(t)  # bound some other way: not shown to be made here
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == func.name:
                mine.append(node)
        for call in mine:
            given = next((k.value for k in call.keywords if k.arg == param), None)
            if given is None and param in positional and positional.index(param) < len(call.args):
                given = call.args[positional.index(param)]
            values = bound.get(given.id, []) if isinstance(given, ast.Name) else []
            if len(values) != 1 or not (isinstance(values[0], ast.Call) and _class_name(values[0].func)):
                return False
            calls += 1
    return calls > 0


def _returned_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    todo: list[ast.AST] = list(func.body)
    out: set[str] = set()
    while todo:
        node = todo.pop()
        if isinstance(node, _NESTED):
            continue
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
            out.add(node.value.id)
        todo.extend(children(node))
    return tuple(sorted(out))


class _Function:
    def __init__(self, func: ast.FunctionDef | ast.AsyncFunctionDef, owner: str | None, names: Names, path: str) -> None:
        self.func, self.owner, self.names, self.path = func, owner, names, path
        self.statements: list[ast.stmt] = []
        todo: list[ast.AST] = list(func.body)
        while todo:
            node = todo.pop()
            if isinstance(node, _NESTED):
                continue  # read on its own
            if isinstance(node, ast.stmt):
                self.statements.append(node)
            todo.extend(children(node))
        self.statements.sort(key=lambda s: (s.lineno, s.col_offset))
        self.assigned: dict[str, list[ast.Assign]] = {}
        for s in self.statements:
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                self.assigned.setdefault(s.targets[0].id, []).append(s)

    def rewrites(self):
        for s in self.statements:
            if isinstance(s, ast.AugAssign) and _on_name(s.target):
                kind = _AUG_KINDS.get(s.op.__class__)
                if kind is not None:
                    yield self._rewrite(s, s.target, kind)
            elif isinstance(s, (ast.Assign, ast.AnnAssign)):
                targets = s.targets if isinstance(s, ast.Assign) else [s.target]
                if len(targets) != 1 or not _on_name(targets[0]) or s.value is None:
                    continue
                target = targets[0]
                kind = self._from_itself(s.value, target.value.id, target.attr, s)
                if kind is not None:
                    yield self._rewrite(s, target, kind)
                elif _STATUS.fullmatch(target.attr) and _constant(s.value):
                    test = self._guard(s, target.value.id, target.attr)
                    if test is not None:
                        text = ast.unparse(test)
                        yield replace(self._rewrite(s, target, "guard"), checked=text if len(text) <= 80 else text[:77] + "...",
                                      checked_at=span_of(test, self.path))

    def _guard(self, at: ast.stmt, holder: str, attr: str) -> ast.expr | None:
        """The test of `holder.attr` that decides whether `at` runs: an `if` around it, or an earlier `if` of the
        function that leaves it (`raise`, `return`, `continue`) when the test holds."""
        bound = max((s.lineno for s in self.statements if s.lineno < at.lineno and _binds(s, holder)), default=0)
        for s in reversed(self.statements):  # the nearest test: the one the write follows from
            if not isinstance(s, ast.If) or not bound < s.lineno < at.lineno or not _reads(s.test, holder, attr):
                continue  # a test of the name before it was bound last tested another row
            if _within(at, s) or (s.body and isinstance(s.body[-1], (ast.Raise, ast.Return, ast.Continue)) and not s.orelse):
                return s.test
        return None

    def next_numbers(self):
        for s in self.statements:
            for call in (n for n in walk(s) if isinstance(n, ast.Call) and n.keywords):
                model = _class_name(call.func)
                if model is None or isinstance(call.func, ast.Attribute) and not isinstance(call.func.value, ast.Name):
                    continue
                for k in call.keywords:
                    found = self._after_highest(k.value, s) if k.arg else None
                    if found is None:
                        continue
                    source, read, expr = found
                    text = f"{k.arg}={ast.unparse(expr)}"
                    yield NextNumber(
                        model=model, column=k.arg or "", span=span_of(call, self.path), function=self.func.name,
                        holder=s.targets[0].id if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) else None,
                        source=source, read=span_of(read, self.path), written=text if len(text) <= 80 else text[:77] + "...",
                    )

    def _after_highest(self, value: ast.AST, at: ast.stmt, hops: int = 0):
        """(source, where it is read, the expression) when `value` is one more than a number read: `x.n + 1`,
        `(m or 0) + 1` with `m` bound to a `func.max(...)`, through a local name bound once before."""
        if isinstance(value, ast.Name) and hops < 2:
            bound = [s for s in self.assigned.get(value.id, ()) if s.lineno < at.lineno]
            if len(bound) == 1 and len(self.assigned.get(value.id, ())) == 1:
                return self._after_highest(bound[0].value, bound[0], hops + 1)
            return None
        for n in walk(value):
            if not (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add)):
                continue
            sides = [_unwrapped(n.left), _unwrapped(n.right)]
            if not any(isinstance(x, ast.Constant) and x.value == 1 for x in sides):
                continue
            other = next(x for x in sides if not (isinstance(x, ast.Constant) and x.value == 1))
            if isinstance(other, ast.IfExp):  # (last.n if last else 0) + 1
                other = next((_unwrapped(b) for b in (other.body, other.orelse) if not isinstance(b, ast.Constant)), other)
            if isinstance(other, ast.Attribute) and isinstance(other.value, ast.Name):
                return ("row", other.value.id, other.attr), other, value
            highest = self._highest(other, at)
            if highest is not None:
                return highest[0], highest[1], value
        return None

    def _highest(self, node: ast.AST, at: ast.stmt, hops: int = 0):
        """A `func.max(Class.attr)` in `node`, or in the value of a local name it is, bound once before."""
        for n in walk(node):
            if isinstance(n, ast.Call) and last(self.names.callee(n)) == "max" and len(n.args) == 1 and \
                    isinstance(n.args[0], ast.Attribute) and _class_name(n.args[0].value):
                return ("max", _class_name(n.args[0].value) or "", n.args[0].attr), n
        if isinstance(node, ast.Name) and hops < 2:
            bound = [s for s in self.assigned.get(node.id, ()) if s.lineno < at.lineno]
            if len(bound) == 1 and len(self.assigned.get(node.id, ())) == 1:
                return self._highest(bound[0].value, bound[0], hops + 1)
        return None

    def _rewrite(self, s: ast.stmt, target: ast.Attribute, kind: str) -> Rewrite:
        text = ast.unparse(s)
        holder = target.value.id
        return Rewrite(
            holder=holder, attr=target.attr, span=span_of(s, self.path), target=span_of(target, self.path),
            function=self.func.name, owner=self.owner, kind=kind, written=text if len(text) <= 80 else text[:77] + "...",
            origin=self._origin(holder, s),
        )

    def _from_itself(self, value: ast.AST, holder: str, attr: str, at: ast.stmt, hops: int = 0) -> str | None:
        """What kind of rewrite `value` makes of `holder.attr`: arithmetic on it, a list built from it, a dict
        or set merged into it; None when it is not built from its old value (or only normalised: `.strip()`)."""
        value = _unwrapped(value)
        if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)):
            sides = [_unwrapped(value.left), _unwrapped(value.right)]
            if any(_reads(s, holder, attr) for s in sides):
                if any(isinstance(s, (ast.List, ast.ListComp, ast.Tuple)) for s in sides):
                    return "list"
                return "count"
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr) and any(
                _reads(_unwrapped(s), holder, attr) for s in (value.left, value.right)):
            return "merge"  # {**a} | b, set union
        if isinstance(value, ast.ListComp) and any(_reads(g.iter, holder, attr) for g in value.generators):
            return "list"  # [r for r in obj.replies if r["id"] != rid]: one taken away
        if isinstance(value, ast.List) and any(isinstance(e, ast.Starred) and _reads(e.value, holder, attr) for e in value.elts):
            return "list"  # [*obj.items, new]
        if isinstance(value, ast.Dict) and any(k is None and _reads(v, holder, attr) for k, v in zip(value.keys, value.values)):
            return "merge"  # {**obj.settings, "k": v}
        if isinstance(value, ast.Name) and hops == 0:
            return self._through_local(value.id, holder, attr, at)
        return None

    def _through_local(self, name: str, holder: str, attr: str, at: ast.stmt) -> str | None:
        """`items = list(obj.items); items.append(x); obj.items = items`: a copy of the old value, changed."""
        before = [s for s in self.assigned.get(name, ()) if (s.lineno, s.col_offset) < (at.lineno, at.col_offset)]
        if len(before) != 1 or len(self.assigned.get(name, ())) != 1:
            return None
        value = _unwrapped(before[0].value)
        if isinstance(value, ast.Call) and last(self.names.callee(value)) in ("list", "dict", "set", "copy", "deepcopy") \
                and value.args and _reads(value.args[0], holder, attr):
            changed = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
                          and n.func.value.id == name and n.func.attr in _MUTATORS
                          for s in self.statements if before[0].lineno < s.lineno < at.lineno for n in walk(s))
            return ("merge" if last(self.names.callee(value)) in ("dict", "set") else "list") if changed else None
        return self._from_itself(value, holder, attr, at, hops=1)

    def _origin(self, holder: str, at: ast.stmt) -> tuple[str, str]:
        if holder == "self" and self.owner:
            return ("self", "")
        args = self.func.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if a.arg == holder:
                return ("param", _annotated_class(a.annotation)) if a.annotation is not None else ("param", "")
        bound = [s for s in self.assigned.get(holder, ()) if s.lineno <= at.lineno]
        if len(self.assigned.get(holder, ())) == 1 and bound:
            value = bound[0].value
            value = value.value if isinstance(value, ast.Await) else value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get" and (
                    len(value.args) >= 2 and _class_name(value.args[0]) and "session" in ast.unparse(value.func.value).lower()
                    or ast.unparse(value.func.value) in ("db", "self.db")):
                return ("get", _class_name(value.args[0]) or "")
            if isinstance(value, ast.Call) and (isinstance(value.func, ast.Name) or isinstance(value.func, ast.Attribute)
                                                and isinstance(value.func.value, ast.Name) and value.func.value.id in ("self", "cls")):
                return ("call", value.func.id if isinstance(value.func, ast.Name) else value.func.attr)
        return ("", "")


# Columns whose value is a step of the row's life (`status`, `payout_state`, `is_used`): a transition, not data.
_STATUS = re.compile(r"(\w*_)?(status|state)|(is_)?(used|redeemed|consumed|claimed)")


def _constant(node: ast.AST) -> bool:
    """A literal or an enum member (`"sent"`, `True`, `Status.SENT`, `models.PayoutStatus.SENT`)."""
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, ast.Attribute) and node.attr.isupper() and _class_name(node.value) is not None


def _binds(s: ast.stmt, name: str) -> bool:
    """Does `s` (not its body) bind `name`: an assignment, a `for` or a `with` target."""
    targets = s.targets if isinstance(s, ast.Assign) else [s.target] if isinstance(s, (ast.AnnAssign, ast.For, ast.AsyncFor)) \
        else [i.optional_vars for i in s.items if i.optional_vars] if isinstance(s, (ast.With, ast.AsyncWith)) else []
    return any(_bound(t, name) for t in targets)


def _bound(target: ast.AST, name: str) -> bool:
    """`name`, or unpacked into it (`a, *name = ...`); `name.x = ...` and `name[k] = ...` write into it, no rebinding."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_bound(t, name) for t in target.elts)
    if isinstance(target, ast.Starred):
        return _bound(target.value, name)
    return isinstance(target, ast.Name) and target.id == name


def _within(node: ast.AST, around: ast.AST) -> bool:
    return any(n is node for n in walk(around))


_AUG_KINDS = {ast.Add: "count", ast.Sub: "count", ast.BitOr: "merge"}
_MUTATORS = ("append", "extend", "insert", "remove", "pop", "update", "add", "discard", "__setitem__", "setdefault")


def _on_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and not node.attr.startswith("_")


def _reads(node: ast.AST, holder: str, attr: str) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Name) and n.value.id == holder
               for n in walk(node))


def _unwrapped(node: ast.AST) -> ast.AST:
    """`int(x.n)`, `(x.n or 0)`, `x.n or 0`: the value inside."""
    for _ in range(4):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("int", "float", "Decimal") \
                and len(node.args) == 1:
            node = node.args[0]
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and node.values:
            node = node.values[0]
        else:
            break
    return node


def _class_name(node: ast.AST) -> str | None:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    return name if name and name[:1].isupper() and not name.isupper() else None


def _annotated_class(node: ast.AST) -> str:
    """`user: User`, `user: models.User`, `user: "User"`, `user: User | None`, `Optional[User]`: the class."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [s for s in (node.left, node.right) if not (isinstance(s, ast.Constant) and s.value is None)]
        return _annotated_class(sides[0]) if len(sides) == 1 else ""
    if isinstance(node, ast.Subscript) and last(ast.unparse(node.value)) == "Optional":
        return _annotated_class(node.slice)
    return _class_name(node) or ""
