"""A database password spliced into a connection URL as it is, not URL-quoted.

`f"postgresql+asyncpg://{user}:{password}@{host}/{db}"` reads the password as part of a URL: a password that
holds `@`, `:`, `/`, `#`, `?` or `%` ends the userinfo early (the rest is read as the host, the port or the path),
so the connection fails or goes elsewhere. Read with `ast`, over the whole module: an f-string, a `%` format, a
`.format()` call or a `+` concatenation whose literal text names a database scheme (`postgresql`, `mysql+pymysql`,
`mssql+pyodbc` ... followed by `://`, or a value named for the driver or dialect in front of `://`), then
`user:` and a value, then `@`. The value in the password position (between the userinfo's `:` and `@`) is followed
to what it is: a constant or a literal (a local development URL) is not kept, nor a call of `quote`/`quote_plus`
(any function whose name says it quotes, or a function of the module that calls one), nor a local name assigned
from one of those in the same function, nor a name that says it was quoted or encoded."""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass

from analyzers.facts.columns import span_of
from analyzers.facts.model import Span
from analyzers.facts.names import Names, last

# only the modules whose text has a database scheme before `://` (or a driver named in front of one) are read
HINT = re.compile(r"(?:postgres|mysql|mariadb|mssql|oracle|cockroach|redshift|driver|dialect)[\w+]*\}?['\"]?\s*\+?\s*['\"]?://", re.I)

_SCHEME = re.compile(r"(?:^|[^\w+.])((?:postgres(?:ql)?|mysql|mariadb|mssql|oracle|cockroachdb|redshift|timescaledb)"
                     r"(?:\+\w+)?)://$", re.I)
_DRIVER_WORDS = re.compile(r"driver|dialect", re.I)
_QUOTED_WORDS = re.compile(r"quot|encod|escap", re.I)
_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?([diouxXeEfFgGcrsa%])")
_HOLE = "\x00"


@dataclass(frozen=True, slots=True)
class SplicedPassword:
    """In `function` (or "" at module level), `built` makes a database URL with `value` in its password position."""

    function: str
    scheme: str  # postgresql+asyncpg, or the driver's value as written: `{self.DB_DRIVER}`
    value: str  # the value spliced in, as written
    origin: str  # what the value is, followed through local names: `self.AWS_SECRET["DB_rw_password"]`
    parameter: bool  # the value is a parameter of the function: what its callers pass is not read
    built: Span
    written: str  # the expression as written, shortened


def read_spliced_passwords(tree: ast.Module, names: Names, path: str) -> list[SplicedPassword]:
    quoters = {f.name for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        isinstance(n, ast.Call) and _says_quote(last(names.callee(n))) for n in ast.walk(f))}
    out: list[SplicedPassword] = []
    _visit(tree, tree, "", [_bindings(None, tree.body)], names, quoters, path, out, set())
    return out


def _visit(node, scope, qualname, scopes, names, quoters, path, out, seen) -> None:
    """`scope`: the function (or module) `node` is in; `scopes`: the bindings of the scopes a name may be read from,
    innermost first (a class body's names are seen from its own body, not from its methods)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner = f"{qualname}.{child.name}" if qualname else child.name
            own = _bindings(child, child.body)
            if isinstance(node, ast.ClassDef):  # a method: the class body's names are not seen, its class is
                own[_CLASS] = [node]
            outer = scopes[1:] if isinstance(node, ast.ClassDef) else scopes
            _visit(child, child, inner, [own, *outer], names, quoters, path, out, seen)
            continue
        if isinstance(child, ast.ClassDef):
            inner = f"{qualname}.{child.name}" if qualname else child.name
            body = _bindings(None, child.body)
            body[_CLASS] = [child]
            _visit(child, scope, inner, [body, *scopes], names, quoters, path, out, seen)
            continue
        if id(child) not in seen:
            parts = _parts(child, seen)
            if parts is not None:
                found = _password_holes(parts)
                if found is not None:
                    scheme, holes = found
                    for hole in holes:
                        fact = _judge_reached(hole, child, scope, scopes, names, quoters)
                        if fact is not None:
                            origin, parameter = fact
                            written = ast.unparse(child)
                            out.append(SplicedPassword(
                                qualname, scheme, ast.unparse(hole), origin, parameter, span_of(child, path),
                                written if len(written) <= 100 else written[:97] + "..."))
        _visit(child, scope, qualname, scopes, names, quoters, path, out, seen)


def _parts(node: ast.AST, seen: set[int]) -> list[str | ast.expr] | None:
    """The pieces of a string built by `node`: literal text and the values spliced in (None: not a built string)."""
    if isinstance(node, ast.JoinedStr):
        out: list[str | ast.expr] = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                out.append(v.value)
            elif isinstance(v, ast.FormattedValue):
                out.append(v.value)
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        operands: list[ast.expr] = []
        todo: list[ast.expr] = [node]
        while todo:
            n = todo.pop()
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
                seen.add(id(n))
                todo.extend((n.right, n.left))
            else:
                operands.append(n)
        if not any(isinstance(o, (ast.Constant, ast.JoinedStr)) for o in operands):
            return None
        out = []
        for o in operands:
            if isinstance(o, ast.Constant) and isinstance(o.value, str):
                out.append(o.value)
            elif isinstance(o, ast.JoinedStr):
                seen.add(id(o))
                out.extend(_parts(o, seen) or [])
            else:
                out.append(o)
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
            and isinstance(node.left.value, str):
        right = node.right
        values = list(right.elts) if isinstance(right, ast.Tuple) else [right]
        named = dict(zip((k.value if isinstance(k, ast.Constant) else None for k in right.keys), right.values)) \
            if isinstance(right, ast.Dict) else {}
        out, at, i = [], 0, 0
        text = node.left.value
        for m in _PERCENT.finditer(text):
            out.append(text[at:m.start()])
            at = m.end()
            if m.group(2) == "%":
                out.append("%")
                continue
            if m.group(1):
                out.append(named.get(m.group(1)) or ast.Name(id=m.group(1)))
            else:
                out.append(values[i] if i < len(values) else ast.Name(id="?"))
                i += 1
        out.append(text[at:])
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        out, auto = [], 0
        try:
            fields = list(string.Formatter().parse(node.func.value.value))
        except ValueError:
            return None
        for literal, field, _, _ in fields:
            out.append(literal)
            if field is None:
                continue
            key = re.split(r"[.\[]", field, maxsplit=1)[0]
            if key == "":
                value = node.args[auto] if auto < len(node.args) else None
                auto += 1
            elif key.isdigit():
                value = node.args[int(key)] if int(key) < len(node.args) else None
            else:
                value = keywords.get(key)
            out.append(value if value is not None else ast.Name(id=field))
        return out
    return None


def _password_holes(parts: list[str | ast.expr]) -> tuple[str, list[ast.expr]] | None:
    """The scheme and the values in the password position of a database URL built from `parts`, or None."""
    holes = [p for p in parts if not isinstance(p, str)]
    flat = "".join(p if isinstance(p, str) else _HOLE for p in parts)
    at = flat.find("://")
    if at < 0:
        return None
    before = flat[:at + 3]
    m = _SCHEME.search(before)
    if m:
        scheme = m.group(1)
    elif before.endswith(_HOLE + "://") and _DRIVER_WORDS.search(ast.unparse(holes[before.count(_HOLE) - 1])):
        written, n = [], 0  # the scheme as written, holes in braces: `{scheme}+{driver}`
        for ch in before[:-3]:
            written.append("{" + ast.unparse(holes[n]) + "}" if ch == _HOLE else ch)
            n += ch == _HOLE
        scheme = re.split(r"[\s'\"=]", "".join(written))[-1]
    else:
        return None
    rest = flat[at + 3:]
    end = re.search(r"[@/?#]", rest)
    if end is None or end.group() != "@":
        return None
    userinfo = rest[:end.start()]
    colon = userinfo.find(":")
    if colon < 0:
        return None
    first = before.count(_HOLE) + userinfo[:colon].count(_HOLE)
    count = userinfo[colon:].count(_HOLE)
    return (scheme, holes[first:first + count]) if count else None


def _judge(hole, scopes, names, quoters, depth=0) -> tuple[str, bool] | None:
    """(what the value is, whether it is a parameter), or None where it is a constant or quoted."""
    if isinstance(hole, ast.Constant):
        return None
    text = ast.unparse(hole)
    if _QUOTED_WORDS.search(text):
        return None
    if isinstance(hole, ast.Call):
        callee = last(names.callee(hole))
        if _says_quote(callee) or callee in quoters or callee == "create":
            return None
        if callee in ("str", "strip") and (hole.args or isinstance(hole.func, ast.Attribute)):
            return _judge(hole.args[0] if hole.args else hole.func.value, scopes, names, quoters, depth)
        return text, False
    if isinstance(hole, (ast.BoolOp, ast.IfExp)) and depth < 4:  # `password or ""`, `"root" if local else secret`
        values = hole.values if isinstance(hole, ast.BoolOp) else [hole.body, hole.orelse]
        judged = [_judge(v, scopes, names, quoters, depth + 1) for v in values]
        kept = [j for j in judged if j is not None]
        return (text if len(kept) > 1 else kept[0][0], any(p for _, p in kept)) if kept else None
    if isinstance(hole, ast.Attribute) and isinstance(hole.value, ast.Name) and hole.value.id in ("self", "cls"):
        cls = next((s[_CLASS][0] for s in scopes if _CLASS in s), None)
        values = _attribute_values(cls, hole.attr) if cls is not None else None
        if values:  # an attribute the class only ever sets to constants (or to a quoted value)
            judged = [_judge(v, scopes, names, quoters, depth + 1) for v in values]
            if all(j is None for j in judged):
                return None
        return text, False
    if isinstance(hole, ast.Name) and depth < 4:
        values = next((s[hole.id] for s in scopes if hole.id in s), None)
        if values is None:
            return text, False
        if any(v is _PARAM for v in values):
            return text, True
        judged = [None if v is _UNKNOWN else _judge(v, scopes, names, quoters, depth + 1) for v in values]
        if any(v is not _UNKNOWN and j is None and not isinstance(v, ast.Constant) for v, j in zip(values, judged)):
            return None  # assigned from a quoting call (or from constants only) on some path: taken as quoted
        kept = [j for j in judged if j is not None]
        if not kept and all(v is not _UNKNOWN for v in values):
            return None  # constants only
        if kept:
            origin, parameter = kept[0]
            return (text if origin == text else f"{text} = {origin.split(' = ')[-1]}"), parameter
        return text, False
    return text, False


def _judge_reached(hole, use, scope, scopes, names, quoters) -> tuple[str, bool] | None:
    """`_judge`, reading a local name as the one assignment that surely reaches `use` where there is one: in
    `if local: password = "root"; url = f"...{password}@..."` the password is that literal, whatever other branches
    assign."""
    value = _reaching(scope, use, hole.id) if isinstance(hole, ast.Name) else None
    if value is None:
        return _judge(hole, scopes, names, quoters)
    fact = _judge(value, scopes, names, quoters, 1)
    if fact is None:
        return None
    origin, parameter = fact
    return (hole.id if origin == hole.id else f"{hole.id} = {origin.split(' = ')[-1]}"), parameter


def _reaching(scope: ast.AST, use: ast.AST, name: str) -> ast.expr | None:
    """The value of the last plain `name = ...` before `use` in its own block or an enclosing one, with nothing
    between that may rebind the name (nor a loop around `use` that does); None where no such assignment is."""
    trail = _trail(scope, use)
    for parent, child in reversed(list(zip(trail, trail[1:]))):
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)) and _rebinds(parent, name):
            return None  # the loop's own later assignment reaches the next round
        block = next((b for b in (getattr(parent, f, None) for f in ("body", "orelse", "finalbody"))
                      if isinstance(b, list) and child in b), None)
        if block is None:
            continue
        for stmt in reversed(block[:block.index(child)]):
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                    and stmt.targets[0].id == name:
                return stmt.value
            if _rebinds(stmt, name):
                return None
    return None


def _trail(scope: ast.AST, use: ast.AST) -> list[ast.AST]:
    """The nodes from `scope` down to `use` (empty where `use` is not under `scope`)."""
    todo: list[tuple[ast.AST, list[ast.AST]]] = [(scope, [scope])]
    while todo:
        node, trail = todo.pop()
        if node is use:
            return trail
        todo.extend((c, [*trail, c]) for c in ast.iter_child_nodes(node))
    return []


def _rebinds(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load) for n in ast.walk(node))


def _says_quote(name: str) -> bool:
    return "quote" in name.lower() or name in ("urlencode", "escape")


def _attribute_values(cls: ast.ClassDef, attr: str) -> list[ast.expr] | None:
    """The values a class gives `attr`: `self.attr = ...` in its methods and `attr = ...` in its body. None where
    one is not a plain assignment or the body declares it with an annotation (a settings or model field, which the
    environment or the caller sets)."""
    out: list[ast.expr] = []
    for node in ast.walk(cls):
        if isinstance(node, ast.AnnAssign) and (
                isinstance(node.target, ast.Name) and node.target.id == attr or _is_self(node.target, attr)):
            return None
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if _is_self(target, attr) or isinstance(target, ast.Name) and target.id == attr and node in cls.body:
                    out.append(node.value)
        elif isinstance(node, (ast.AugAssign, ast.For, ast.withitem)) and _is_self(
                getattr(node, "target", getattr(node, "optional_vars", None)), attr):
            return None
    return out


def _is_self(node, attr: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.value, ast.Name) \
        and node.value.id in ("self", "cls")


_CLASS = "\x00class"
_PARAM = object()
_UNKNOWN = object()


def _bindings(func, body: list[ast.stmt]) -> dict[str, list]:
    """Each local name -> the values bound to it in this scope (not nested functions): the expression, _PARAM or
    _UNKNOWN (a loop target, a `with ... as`, an augmented assignment, an unpacking)."""
    out: dict[str, list] = {}
    if func is not None:
        args = func.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if a is not None and a.arg not in ("self", "cls"):
                out.setdefault(a.arg, []).append(_PARAM)
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                out.setdefault(node.name, []).append(_UNKNOWN)
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
                else:
                    _unknown(target, out)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            out.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, ast.NamedExpr):
            out.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor, ast.comprehension)):
            _unknown(node.target, out)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            _unknown(node.optional_vars, out)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out.setdefault((alias.asname or alias.name).split(".")[0], []).append(_UNKNOWN)
        todo.extend(ast.iter_child_nodes(node))
    return out


def _unknown(target: ast.AST, out: dict[str, list]) -> None:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            out.setdefault(node.id, []).append(_UNKNOWN)
