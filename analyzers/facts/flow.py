"""Where a value spliced into SQL text comes from, followed within its function and its module.

For each expression formatted into a statement (an f-string's `{x}`, a `%` or `.format()` argument, a
`+` operand) this says what it is in the statement (an identifier, a value, a fragment of SQL) and where it
comes from: the request (a route's parameter, `request.headers[...]`), configuration, the database, a
constant, an enum member, a number, a typed or validated value, a quoted identifier, or unknown. Nothing is
imported or run; a name is followed through its assignments, the loops that bind it, and, for a function's
parameter, the calls of that function in the same module.
"""

from __future__ import annotations

import ast
import re

from analyzers.facts.model import Hole
from analyzers.facts.names import Names, last
from analyzers.facts.strings import Env, constant_env, evaluate
from analyzers.facts.walk import children, walk

Func = ast.FunctionDef | ast.AsyncFunctionDef
Part = tuple[ast.AST, str, "str | None"]  # see Flow._parts

# Worst first: the first of these among a value's possible sources is the one reported. "object": an
# attribute of `self` or `cls` that the module does not assign (inherited, or set at run time). "partial":
# a number on every path that could be followed, and one path that could not (`ctx.get("timeout", 60000)`).
# "catalog": a name read from the database's own catalogue (pg_class, information_schema), not a caller's.
RISK = ("request", "unknown", "partial", "object", "stored", "configuration")
SAFE = ("constant", "enum", "number", "typed", "validated", "quoted", "catalog")

_ROUTE_VERBS = {"get", "post", "put", "patch", "delete", "route", "api_route", "websocket", "head", "options"}
_REQUEST_PARAMS = {"Header", "Query", "Path", "Body", "Form", "Cookie", "File"}
_REQUEST_ATTRS = {"headers", "args", "form", "json", "query_params", "path_params", "cookies", "GET", "POST",
                  "data", "values", "body", "query_string", "match_info", "query"}
# A request handler's own accessors of the request's arguments (Tornado's RequestHandler).
_HANDLER_ARGUMENTS = {"get_argument", "get_arguments", "get_query_argument", "get_query_arguments", "get_body_argument",
                      "get_body_arguments"}
_TYPED = {"int", "float", "bool", "UUID", "UUID4", "UUID1", "datetime", "date", "time", "timedelta", "Decimal",
          "PositiveInt", "NonNegativeInt", "conint", "ZoneInfo", "IPv4Address", "IPv6Address", "IPvAnyAddress"}
_NUMBER_CALLS = {"int", "float", "len", "abs", "round", "bool", "ord", "hash", "min", "max", "sum", "count", "range"}
_QUOTING_COLUMN = {"sqlalchemy.column", "sqlalchemy.sql.column", "sqlalchemy.sql.expression.column"}
# SQLAlchemy's constructs that write a name out as given: formatted into text, the name is not quoted.
_AS_GIVEN = {"sqlalchemy.table", "sqlalchemy.sql.table", "sqlalchemy.literal_column", "sqlalchemy.sql.literal_column",
             "sqlalchemy.sql.quoted_name", "sqlalchemy.sql.elements.quoted_name", "sqlalchemy.quoted_name"}
_QUOTE_HINT = re.compile(r"replace|quote|Identifier|escape|column")
_FROM_CLAUSE = re.compile(r"\bFROM\b(.*?)(?=\bWHERE\b|\bGROUP\b|\bORDER\b|\bLIMIT\b|\bHAVING\b|\bUNION\b|\)|;|$)", re.I | re.S)
_QUOTING = re.compile(r"quote|Identifier|quoted_name|escape|literal_binds|format_table|format_column|Literal$")
_STORED_CALLS = {"fetchone", "fetchall", "fetchmany", "scalar", "scalars", "scalar_one", "scalar_one_or_none",
                 "first", "one", "one_or_none", "all", "execute", "mappings"}
_CONFIG_ROOTS = {"settings", "config", "conf", "cfg", "app_settings", "configuration", "environ", "env", "SETTINGS",
                 "CONFIG", "Config", "Settings"}
_VALIDATING = {"isidentifier", "isalnum", "isdigit", "isdecimal", "isnumeric", "match", "fullmatch"}
_BUDGET = 200  # steps to follow one spliced value (a helper called from many places fans out)
# `OLD.union({"x"})`, `a.difference(b)`: made of the set and what is given
_SET_ALGEBRA = ("union", "intersection", "difference", "symmetric_difference", "copy")
_PASSTHROUGH = {"str", "lower", "upper", "strip", "lstrip", "rstrip", "replace", "format", "casefold", "title", "decode",
                "encode", "capitalize", "items", "keys", "values", "resolve", "absolute", "as_posix", "expanduser"}


# The standard library's pure functions of text: what they return is made of their arguments and nothing else
# (`textwrap.dedent(TEMPLATE)` is as constant as TEMPLATE).
_TEXT_OF_ARGUMENTS = {"textwrap.dedent", "textwrap.indent", "textwrap.fill", "textwrap.shorten", "inspect.cleandoc",
                      "pathlib.Path", "pathlib.PurePath", "pathlib.PurePosixPath", "os.path.join", "os.path.abspath",
                      "dataclasses.asdict", "dataclasses.astuple"}


# Calls that make a value the code generates itself (an id, a time): nothing a caller gives reaches it.
_GENERATED = ("uuid4", "uuid1", "uuid7", "now", "utcnow", "today", "isoformat", "hex", "ULID", "ulid", "new_id", "token_hex")


class Flow:
    """One module's functions, the calls between them and its constants, indexed on first use."""

    def __init__(self, tree: ast.Module, names: Names, env: Env) -> None:
        self.tree, self.names, self.env = tree, names, env
        self._parents: dict[int, Func | None] | None = None
        self._calls: dict[str, list[tuple[ast.Call, Func | None]]] = {}
        self._module_values: dict[str, list[ast.AST]] = {}  # every value module-level code assigns a name
        self._classes: dict[str, ast.ClassDef] = {}
        self._functions: dict[str, Func] = {}  # module-level functions
        self._references: dict[str, list[int]] = {}  # name -> lines where it is read (a function passed on as a value)
        self._comprehension_of: dict[int, ast.AST] = {}  # a call inside a comprehension -> the comprehension
        self._class_values: dict[str, list[ast.AST]] = {}  # attribute name -> values assigned in class bodies
        self._before = 10**9  # the line of the value being followed: a check after it does not validate it
        self._trail: list[int] = []  # the lines followed for it
        self._entries: set[int] = set()  # the lines where a value enters from the request, which a message names
        self._scopes: dict[int, _Scope] = {}
        self._memo: dict[tuple, tuple[str, str, list[int], list[str]]] = {}  # a value followed once per place (and call)
        self._steps = 0  # what following one value may cost: past _BUDGET, it is unknown
        self._via: list[str] = []  # the functions of other modules whose results it was followed to
        self._calls_safe = 0  # follow it again as if those functions quoted what they return (2: and callers gave literals)
        self._quoting: dict[int, bool] = {}  # a function -> whether it returns its argument quoted (quotes())
        self._bound: dict[int, ast.AST] = {}  # a name a comprehension binds (its node) -> what the loop runs over
        self._texts: dict[int, tuple[ast.AST, str]] = {}  # a node (kept, so its id is not reused) -> ast.unparse of it
        self._opaque: int | None = None  # a function whose parameters its callers in other modules give (safe_returns)
        self._at: dict[int, tuple[ast.Call, Func | None]] = {}  # a helper whose returns are followed -> the call they answer

    def _index(self) -> None:
        if self._parents is not None:
            return
        self._parents = {}
        self._methods: dict[int, ast.ClassDef] = {}  # a function defined in a class body -> that class
        stack: list[tuple[ast.AST, Func | None]] = [(self.tree, None)]
        while stack:
            node, func = stack.pop()
            self._parents[id(node)] = func
            inner = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            if isinstance(node, ast.Call):
                callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if callee:
                    self._calls.setdefault(callee, []).append((node, func))
                elif isinstance(node.func, ast.Call) and node.func.args and isinstance(node.func.args[0], ast.Name):
                    # delayed(f)(a, b), wraps(f)(a): the outer call's arguments are f's
                    self._calls.setdefault(node.func.args[0].id, []).append((node, func))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                self._references.setdefault(node.id, []).append(node.lineno)
            elif isinstance(node, ast.ClassDef):
                self._methods.update((id(f), node) for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)))
            elif isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
                for inner_call in walk(node.elt):
                    if isinstance(inner_call, ast.Call):  # its arguments may be the comprehension's own names
                        self._comprehension_of[id(inner_call)] = node
            stack.extend((child, inner) for child in children(node))
        self._module_assignments(self.tree.body)
        for node in self.tree.body:
            if isinstance(node, ast.ClassDef):
                self._classes[node.name] = node
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._functions[node.name] = node
        for cls in self._classes.values():
            for stmt in cls.body:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
                for t in targets:
                    if isinstance(t, ast.Name) and stmt.value is not None:
                        self._class_values.setdefault(t.id, []).append(stmt.value)

    def callers(self, func: Func) -> list[tuple[ast.Call, Func | None]]:
        """The calls of `func` in this module: `obj.name(...)` for a method, `name(...)` for a function (a
        method and a function of one name are not each other's callers); `super().name(...)` calls a parent's, and a
        method's own `db.name(...)` another object's."""
        self._index()
        method = id(func) in self._methods
        return [(c, f) for c, f in self._calls.get(func.name, []) if (isinstance(c.func, ast.Attribute) == method
                or isinstance(c.func, ast.Call)) and not _through_super(c) and not (method and f is func and _other_object(c))]

    def _module_assignments(self, body: list[ast.stmt]) -> None:
        """Each value module-level code assigns a name, in `if`/`try`/`with` blocks too (`a, b = None, None`
        pairs them; `a, b = f()` gives each the whole value)."""
        for node in body:
            if isinstance(node, (ast.Assign, ast.AugAssign)):  # not `x: ContextVar[str] = ContextVar(...)`: set later
                for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    paired = (zip(t.elts, node.value.elts) if isinstance(t, ast.Tuple) and isinstance(node.value, ast.Tuple)
                              and len(t.elts) == len(node.value.elts) else ((n, node.value) for n in getattr(t, "elts", [t])))
                    for n, value in paired:
                        if isinstance(n, ast.Name):
                            self._module_values.setdefault(n.id, []).append(value)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for field in ("body", "orelse", "finalbody"):
                    self._module_assignments(getattr(node, field, None) or [])
                for handler in getattr(node, "handlers", ()):
                    self._module_assignments(handler.body)

    def module_values(self, name: str) -> list[ast.AST]:
        self._index()
        return self._module_values.get(name, [])

    def enclosing(self, func: Func) -> Func | None:
        """The function a nested function is defined in (its closure's names are that function's)."""
        self._index()
        assert self._parents is not None
        return self._parents.get(id(func))

    def is_enum_class(self, name: str) -> bool:
        self._index()
        cls = self._classes.get(name)
        if cls is not None:
            return any("Enum" in ast.unparse(b) or "Choices" in ast.unparse(b) for b in cls.bases)
        return name.endswith("Enum") or name.lstrip("_")[:1].isupper() and name in self.names.imports and (
            "enum" in self.names.imports[name].lower() or "choices" in self.names.imports[name].lower())

    def _local(self, name: str, func: Func | None) -> bool:
        """Is `name` bound inside `func` (assigned, a loop's, a parameter) rather than the module's import?"""
        if func is None:
            return False
        scope = self.scope(func)
        return name in scope.assigned or name in scope.loops or _parameter(func, name) is not None

    def scope(self, func: Func) -> _Scope:
        found = self._scopes.get(id(func))
        if found is None:
            found = self._scopes[id(func)] = _Scope(func)
        return found

    def holes(self, arg: ast.AST, func: Func | None, text: str) -> tuple[Hole, ...]:
        """Each value spliced into the SQL that `arg` builds, with its role and its source."""
        env = constant_env(func.body, self.env) if func is not None else self.env
        out: list[Hole] = []
        percent = 0
        for node, placeholder, inner in self._parts(arg, func, env, 0):
            where = inner if inner is not None else text  # a joined element's own text places it
            if placeholder == "{%}" and inner is None:
                at = _nth(text, "{%}", percent)
                percent += 1
            else:
                at = where.find(placeholder) if placeholder else -1
            role, password = _role(where, at, len(placeholder)) if at >= 0 else ("sql", False)
            self._before = getattr(node, "lineno", 0) or 10**9
            self._trail = [func.lineno] if func is not None else []  # the function the message names
            self._steps = 0
            self._via = []
            source, why = self.source(node, func, 0)
            trail = self._kept_trail()
            via = self._only_through(node, func) if source in RISK and self._via else ()
            out.append(Hole(self._text(node)[:80], role, source, why, getattr(node, "lineno", 0), password, trail, via))
        return tuple(out)

    def origin(self, node: ast.AST, func: Func | None) -> tuple[str, str, tuple[int, ...], tuple[str, ...]]:
        """(source, why, the lines followed, what of other modules it is safe through: Hole.via) of one value used
        at its place (a LIKE pattern's part, an attribute's name)."""
        self._before = getattr(node, "lineno", 0) or 10**9
        self._trail, self._steps, self._via = [func.lineno] if func is not None else [], 0, []
        source, why = self.source(node, func, 0)
        trail = self._kept_trail()
        return source, why, trail, self._only_through(node, func) if source in RISK and self._via else ()

    def _kept_trail(self) -> tuple[int, ...]:
        """Six lines of the trail: its first four, and the two where the value enters from the request (the route
        and its parameter a message names; else the trail's last two), however long the way there."""
        trail = tuple(dict.fromkeys(n for n in self._trail if n != self._before))
        if len(trail) <= 6:
            return trail
        entry = tuple(n for n in trail if n in self._entries)[:2] or trail[-2:]
        return tuple(n for n in trail if n not in entry)[:4] + entry

    def _only_through(self, node: ast.AST, func: Func | None) -> tuple[str, ...]:
        """What of other modules a risky value passes through, when it is safe on every path if those are (see
        Hole.via): first its functions, enums and dict keys alone; failing that, with the calls other modules
        make of its function too (`fn(1:table)`); else ()."""
        calls = tuple(dict.fromkeys(self._via))
        for level in (1, 2):
            saved = self._memo, self._trail, self._steps
            self._memo, self._trail, self._steps, self._calls_safe = {}, [], 0, level
            try:
                again, _ = self.source(node, func, 0)
            finally:
                (self._memo, self._trail, self._steps), self._calls_safe = saved, 0
            if again not in RISK:
                return calls if level == 2 else tuple(c for c in calls if not c.endswith(")"))
        return ()

    def quotes(self, func: Func) -> bool:
        """Does every path of `func` return its argument quoted (`'"' + s.replace('"', '""') + '"'`, or the
        result of a quoting API)? Other modules read this to know a helper they import."""
        known = self._quoting.get(id(func))
        if known is not None:
            return known
        self._quoting[id(func)] = False  # a helper that calls itself does not quote by that call
        returns = [n.value for n in walk(func) if isinstance(n, ast.Return) and n.value is not None]
        if not returns or not any(_QUOTE_HINT.search(ast.unparse(r)) for r in returns):
            return False
        saved = self._before, self._trail, self._steps, self._via, self._calls_safe, self._memo
        self._before, self._trail, self._steps, self._via, self._calls_safe, self._memo = 10**9, [], 0, [], 0, {}
        try:
            found = self._quoting[id(func)] = all(self.source(r, func, 0)[0] == "quoted" for r in returns)
        finally:
            self._before, self._trail, self._steps, self._via, self._calls_safe, self._memo = saved
        return found

    def safe_returns(self, func: Func) -> bool:
        """Is what `func` returns safe on every path it returns (constants, numbers, a name checked against a
        fixed list, generated ids, quoted names), followed within its own module and through no other module's
        function, whatever its callers pass (a typed or checked parameter aside)? What another module reads to
        know a helper it imports (`to_role(name)` that raises unless the role is in ROLES)."""
        returns = [n.value for n in walk(func) if isinstance(n, ast.Return) and n.value is not None]
        if not returns:
            return False
        saved = self._before, self._trail, self._steps, self._via, self._calls_safe, self._memo, self._opaque
        self._trail, self._steps, self._via, self._calls_safe, self._memo, self._opaque = [], 0, [], 0, {}, id(func)
        try:
            found = []
            for r in returns:
                self._before = r.lineno
                found.append(self.source(r, func, 0)[0])
            return all(source in SAFE for source in found) and not self._via
        finally:
            self._before, self._trail, self._steps, self._via, self._calls_safe, self._memo, self._opaque = saved

    def _label(self, node: ast.AST) -> str:
        """How a message names an expression: as written when short, else by its line."""
        text = self._text(node)
        return f"`{text}`" if len(text) <= 40 and "\n" not in text else f"the expression on line {getattr(node, 'lineno', '?')}"

    def _text(self, node: ast.AST) -> str:
        """ast.unparse(node), once: following values asks again and again for the text of the same nodes
        (`_only_through` follows a risky value twice more from scratch; fides: 3% of a cold scan's CPU)."""
        known = self._texts.get(id(node))
        if known is None:
            known = self._texts[id(node)] = (node, ast.unparse(node))
        return known[1]

    # -- the expressions spliced in --------------------------------------------------------------------

    def _parts(self, node: ast.AST, func: Func | None, env: Env, depth: int) -> list[Part]:
        """The expressions spliced into the SQL `node` builds: (expression, its placeholder in the text, the
        text of the element it sits in when it is inside a joined list of formatted elements)."""
        if depth > 6 or (isinstance(node, ast.Constant)):
            return []
        joined = self._joined(node, func, env, depth)
        if joined is not None:
            return joined
        if isinstance(node, ast.JoinedStr):
            out: list[Part] = []
            for v in node.values:
                if not isinstance(v, ast.FormattedValue) or (isinstance(v.value, ast.Name) and v.value.id in env):
                    continue
                inner = self._joined(v.value, func, env, depth)
                out.extend(inner if inner is not None else [(v.value, "{" + ast.unparse(v.value) + "}", None)])
            return out
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return [*self._side(node.left, func, env, depth), *self._side(node.right, func, env, depth)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            args = node.right.elts if isinstance(node.right, ast.Tuple) else (
                [v for v in node.right.values] if isinstance(node.right, ast.Dict) else [node.right])
            return [*self._parts(node.left, func, env, depth + 1),
                    *((a, "{%}", None) for a in args if not _constant(a, env))]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "format":
                base = self._parts(node.func.value, func, env, depth + 1)
                given = [*node.args, *(k.value for k in node.keywords)]
                names = [*(f"{{{i}}}" for i in range(len(node.args))), *(f"{{{k.arg}}}" for k in node.keywords)]
                return base + [(a, n, None) for a, n in zip(given, names) if not _constant(a, env)]
            if node.func.attr in ("bindparams", "columns", "execution_options", "strip"):
                return self._parts(node.func.value, func, env, depth + 1)
        if isinstance(node, ast.Call) and len(node.args) == 1 and last(self.names.callee(node)) in ("text", "literal_column"):
            return self._parts(node.args[0], func, env, depth + 1)
        if isinstance(node, ast.Call) and len(node.args) == 1 and last(self.names.callee(node)) == "DDL":
            context = next((k.value for k in node.keywords if k.arg == "context"), None)  # DDL("... %(t)s", context={...})
            return self._parts(node.args[0] if context is None else ast.BinOp(node.args[0], ast.Mod(), context), func, env, depth + 1)
        if isinstance(node, ast.Name):
            values = self.scope(func).reaching(self.scope(func).assigned.get(node.id, []), node.lineno) if func is not None else []
            if values and all(evaluate(v, env, self.names) is not None for v in values):
                return [p for v in values for p in self._parts(v, func, env, depth + 1)]
            if len(values) == 1 and (inner := self._joined(values[0], func, env, depth)) is not None:
                return inner
            if node.id in env:
                return []
        return [(node, "", None)]

    def _joined(self, node: ast.AST, func: Func | None, env: Env, depth: int) -> list[Part] | None:
        """`", ".join(f"('{a}', '{b}')" for ... in rows)`, or a name assigned once to it: the values inside each
        formatted element, placed by the element's own text (inside quotes there, a value)."""
        if isinstance(node, ast.Name) and func is not None:
            values = self.scope(func).reaching(self.scope(func).assigned.get(node.id, []), node.lineno)
            node = values[0] if len(values) == 1 else node
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
                and len(node.args) == 1 and isinstance(node.args[0], (ast.GeneratorExp, ast.ListComp))):
            return None
        element = node.args[0].elt
        texts = evaluate(element, env, self.names)
        if not isinstance(element, ast.JoinedStr) or not texts:
            return None
        return [(n, placeholder, texts[0].value) for n, placeholder, _ in self._parts(element, func, env, depth + 1)]

    def _side(self, node: ast.AST, func: Func | None, env: Env, depth: int) -> list[Part]:
        if evaluate(node, env, self.names) is not None or isinstance(node, (ast.JoinedStr, ast.BinOp)):
            return self._parts(node, func, env, depth + 1)
        return [] if _constant(node, env) else [(node, "{" + ast.unparse(node) + "}", None)]

    # -- where a value comes from -----------------------------------------------------------------------

    def source(self, node: ast.AST, func: Func | None, depth: int) -> tuple[str, str]:
        """(source, why) of an expression, worst of its possibilities first (see RISK, SAFE). Each place is
        followed once (the calls of a helper fan out); the lines it leads through join the trail again."""
        key = (id(node), id(func), self._before, tuple((f, id(c)) for f, (c, _) in self._at.items()))
        known = self._memo.get(key)
        if known is not None:
            self._trail.extend(known[2])
            self._via.extend(known[3])
            return known[0], known[1]
        self._steps += 1
        if depth > 16 or self._steps > _BUDGET:
            return "unknown", f"{self._label(node)} could not be followed further"
        mark, via = len(self._trail), len(self._via)
        source, why = self._source(node, func, depth)
        self._memo[key] = (source, why, self._trail[mark:], self._via[via:])
        return source, why

    def _source(self, node: ast.AST, func: Func | None, depth: int) -> tuple[str, str]:
        expr = self._label(node)
        if isinstance(node, ast.Constant):
            return ("number" if isinstance(node.value, (int, float)) else "constant"), f"{expr} is a constant"
        quote = _wrapped_quoted(node)
        if quote:
            return "quoted", f"{expr} is quoted: written between {quote} with each {quote} in it doubled"
        if isinstance(node, (ast.IfExp, ast.BoolOp)):  # one of them, whichever the test picks
            return self._worst([self.source(n, func, depth + 1) for n in _operands(node)], expr, alternatives=True)
        if isinstance(node, (ast.JoinedStr, ast.BinOp)):
            return self._worst([self.source(n, func, depth + 1) for n in _operands(node)], expr)
        if isinstance(node, (ast.FormattedValue, ast.Await)):  # `await quote_name(conn, x)`: what the call returns
            return self.source(node.value, func, depth + 1)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return self._worst([self.source(e, func, depth + 1) for e in node.elts], expr)
        if isinstance(node, ast.Dict):
            return self._worst([self.source(v, func, depth + 1) for v in node.values], expr)
        if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            return self._comprehension(node, func, depth)
        if isinstance(node, ast.Call):
            return self._call(node, func, depth, expr)
        if isinstance(node, ast.Subscript):
            return self._attribute_chain(node, func, depth, expr)
        if isinstance(node, ast.Attribute):
            return self._attribute_chain(node, func, depth, expr)
        if isinstance(node, ast.Name):
            if id(node) in self._bound:  # a comprehension's own name: an item of what it runs over
                return self.source(self._bound[id(node)], func, depth + 1)
            return self._name(node.id, func, depth, expr, node.lineno)
        return "unknown", f"{expr} could not be followed"

    def _worst(self, found: list[tuple[str, str]], expr: str, alternatives: bool = False) -> tuple[str, str]:
        """The worst source of the parts of a value; of its `alternatives` (the values one name may hold),
        a number on every path but one that could not be followed is "partial", and says both."""
        sources = {source for source, _ in found}
        if alternatives and "number" in sources and sources <= {"number", "unknown"} and "unknown" in sources:
            number = next(why for source, why in found if source == "number")
            unknown = next(why for source, why in found if source == "unknown")
            return "partial", (f"{number} on one path, but on another {unknown}; dbreview could not follow that "
                               "path, so it cannot tell the value is always a number")
        for risk in RISK:
            for source, why in found:
                if source == risk:
                    return source, why
        return (found[0] if found else ("constant", f"{expr} is a constant"))

    def _call(self, node: ast.Call, func: Func | None, depth: int, expr: str) -> tuple[str, str]:
        callee = self.names.callee(node) or self._text(node.func)
        name = last(callee)
        if name in _NUMBER_CALLS:
            return "number", f"{expr} is a number"
        if callee in _AS_GIVEN and node.args:  # str(sa.table(name)) is the name, unquoted
            return self.source(node.args[0], func, depth + 1)
        if callee in _TEXT_OF_ARGUMENTS and node.args:
            given = [*node.args, *(k.value for k in node.keywords)]
            return self._worst([self.source(n, func, depth + 1) for n in given], expr)
        if _QUOTING.search(name) or _QUOTING.search(self._text(node.func)):
            return "quoted", f"{expr} is quoted"
        if callee in _QUOTING_COLUMN:
            return "quoted", f"{expr} is SQLAlchemy's column(), which quotes a name that needs quoting when written out"
        if name in _TYPED:
            return "typed", f"{expr} is a `{name}`, checked by its constructor"
        if _sanitised(node, name):
            return "validated", f"{expr} passes through `{name}()`, which leaves only letters, digits and separators"
        if name in _GENERATED:
            return "typed", f"{expr} is generated, not given"
        if name in _HANDLER_ARGUMENTS and isinstance(node.func, ast.Attribute) and ast.unparse(node.func.value) == "self":
            return "request", f"{expr} comes from the request (a handler's `{name}`)"
        if name in ("getenv", "get_settings", "get_config", "get_main_option", "get_section_option") \
                or callee.startswith(("os.environ", "os.getenv")):  # get_main_option: Alembic's ini and -x options
            return "configuration", f"{expr} comes from configuration"
        if isinstance(node.func, ast.Attribute):
            if name == "replace" and [getattr(a, "value", None) for a in node.args[:2]] == ["'", "''"]:
                return "quoted", f"{expr} doubles its quotes (a literal escaped for SQL)"
            if name == "join" and node.args:
                return self.source(node.args[0], func, depth + 1)
            if name in _STORED_CALLS:
                if self._reads_catalog(node, func):
                    return "catalog", f"{expr} is read from the database's own catalogue, not given by a caller"
                catalogue = _catalogue_query(node)
                if catalogue:  # SHOW SCHEMAS, information_schema: the database's names of its own objects
                    return "stored", f"{expr} is read from the database's own catalogue (`{catalogue}`), not given by a user"
                return "stored", f"{expr} is read from the database"
            if name in ("get", "pop", "setdefault") and len(node.args) >= 2:  # the item, or the default
                key = node.args[0].value if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) else None
                if key is not None and self._calls_safe:  # as if the key's writers wrote what the default is
                    return self.source(node.args[1], func, depth + 1)
                mark = len(self._via)
                found = self._worst([self.source(node.func.value, func, depth + 1),
                                     self.source(node.args[1], func, depth + 1)], expr, alternatives=True)
                if key is not None and found[0] == "partial":  # the rule reads what the project writes under that key,
                    self._via[mark:] = [f"[{key}]"]  # which stands for whatever the mapping itself came through
                return found
            if name in ("format", *_SET_ALGEBRA):  # the template and what is formatted into it; a set and its operands
                given = [*node.args, *(k.value for k in node.keywords)]
                return self._worst([self.source(n, func, depth + 1) for n in (node.func.value, *given)], expr)
            keys = self._dumped_keys(node.func.value, func, depth) if name == "keys" and not node.args else None
            if keys is not None:
                return keys
            if name in _PASSTHROUGH or name in ("get", "pop", "getlist", "setdefault"):
                return self.source(node.func.value, func, depth + 1)
        if name in ("dict", "zip", "enumerate", "list", "tuple", "set", "frozenset", "sorted", "reversed") and isinstance(node.func, ast.Name) and (
                node.args or node.keywords):  # what they are made of
            parts = [*node.args, *(k.value for k in node.keywords)]
            return self._worst([self.source(p, func, depth + 1) for p in parts], expr)
        if name in ("str", "dumps", "repr", "next", "iter") and node.args:
            return self.source(node.args[0], func, depth + 1)
        self._index()
        defined = self._functions.get(name) if isinstance(node.func, ast.Name) else self._own_method(node, func)
        if defined is not None and self.quotes(defined):
            return "quoted", f"{expr} is quoted by `{name}()` (line {defined.lineno})"
        if defined is not None:
            if defined.returns is not None and _typed(defined.returns, self):
                return "typed", f"{expr} returns `{ast.unparse(defined.returns)}`"
            returns = [n.value for n in walk(defined) if isinstance(n, ast.Return) and n.value is not None]
            if returns and depth < 8:
                self._trail.append(defined.lineno)
                return self._returned_at(node, func, defined, returns[:4], depth, expr)
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in self.names.imports and defined is None:
            given, mark = [*node.args, *(k.value for k in node.keywords)], (len(self._trail), len(self._via))
            built = bool(given) and all(self.source(a, func, depth + 1)[0] in SAFE for a in given)
            if not built:  # what the call returns is followed no further than before
                del self._trail[mark[0]:], self._via[mark[1]:]
            # another module's function (the rule reads it: ModuleFacts.quoting), or, given only safe values, a
            # class whose instances hold what they are given (`Spec("composite")` of a dataclass)
            self._via.append(f"{callee}~built" if built else callee)
            if self._calls_safe:
                return "quoted", f"{expr} is what `{callee}()` returns"
        if expr == f"`{callee}()`":
            return "unknown", f"{expr} is a call dbreview does not follow"
        return "unknown", f"{expr} is the result of `{callee[:60]}()`, which is not followed"

    def _dumped_keys(self, holder: ast.AST, func: Func | None, depth: int) -> tuple[str, str] | None:
        """The keys of a name `func` assigns once the dump of a parameter annotated with a class (`data =
        body.model_dump()`), and then only items under keys of its own (`data[k] = v`) before the SQL is built: the
        fields that class declares (the rule reads the class: Hole.via `pkg.Body:*keys`) and those keys. None when it
        is no such name, or something else may add keys to it (`data.update(...)`, handed to a call)."""
        values = self.scope(func).assigned.get(holder.id, []) if isinstance(holder, ast.Name) and func is not None else []
        dump = values[0] if len(values) == 1 else None
        if not (isinstance(dump, ast.Call) and isinstance(dump.func, ast.Attribute) and dump.func.attr in ("model_dump", "dict")
                and isinstance(dump.func.value, ast.Name)):
            return None
        param = _parameter(func, dump.func.value.id)
        cls = annotated_class(param[0].annotation) if param is not None and param[0].annotation is not None else None
        if not isinstance(cls, (ast.Name, ast.Attribute)):
            return None
        written: list[ast.AST] = []
        for node in walk(func):
            if getattr(node, "lineno", 0) > self._before:
                continue
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and _is_name(node.value, holder.id):
                written.append(node.slice)
            elif isinstance(node, ast.Call) and (any(_is_name(a, holder.id) for a in [*node.args, *(k.value for k in node.keywords)])
                                                 or isinstance(node.func, ast.Attribute) and _is_name(node.func.value, holder.id)
                                                 and node.func.attr not in ("pop", "get", "keys", "items", "values")):
                return None  # `data.update(extra)`, `fill(data)`: keys of unknown source
        self._index()
        local = isinstance(cls, ast.Name) and cls.id in self._classes
        self._via.append(f"{self.names.module}.{cls.id}:*keys" if local else f"{self.names.qualname(cls)}:*keys")
        declared = ("constant", f"the keys of `{dump.func.value.id}.{dump.func.attr}()` are the fields `{ast.unparse(cls)}` "
                                "declares") if self._calls_safe else (
            "unknown", f"the keys of `{dump.func.value.id}.{dump.func.attr}()` are the fields `{ast.unparse(cls)}` declares, "
                       "and those its input brings if it allows extra fields: dbreview could not tell it does not")
        return self._worst([declared, *(self.source(k, func, depth + 1) for k in written)], self._label(holder))

    def _own_method(self, call: ast.Call, func: Func | None) -> Func | None:
        """The method `self.name(...)` / `cls.name(...)` calls when `func` is a method of a class of this module that
        defines `name` itself."""
        self._index()
        owner = self._methods.get(id(func)) if func is not None else None
        if owner is None or not (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
                                 and call.func.value.id in ("self", "cls")):
            return None
        return next((f for f in owner.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and f.name == call.func.attr), None)

    def _checked_by_call(self, scope: _Scope, func: Func, name: str) -> bool:
        """Is `name` given, before the line `_before`, to a call standing alone (`check_identifier(name)`) of a
        function of this module or a method of its class that raises unless it passes a check
        (`if PATTERN.match(x) is None: raise ...`)?"""
        for call in scope.calls:
            if call.lineno > self._before:
                continue
            checker = self._functions.get(call.func.id) if isinstance(call.func, ast.Name) else self._own_method(call, func)
            given = [p for p in _parameters(checker) if isinstance(_argument(checker, p, call), ast.Name)
                     and _argument(checker, p, call).id == name] if checker is not None else []
            if given and _raises_unless_valid(checker, given[0]):
                return True
        return False

    def _reads_catalog(self, node: ast.Call, func: Func | None) -> bool:
        """`conn.execute(text("SELECT relname FROM pg_class ...")).fetchall()`: every table the query reads is
        the database's own catalogue (pg_catalog, information_schema): names it holds are not a caller's."""
        sent = node.func.value if isinstance(node.func, ast.Attribute) else None
        while isinstance(sent, ast.Call) and isinstance(sent.func, ast.Attribute) and sent.func.attr in _STORED_CALLS:
            if sent.func.attr == "execute":
                break
            sent = sent.func.value
        if not (isinstance(sent, ast.Call) and isinstance(sent.func, ast.Attribute) and sent.func.attr == "execute" and sent.args):
            return False
        query = sent.args[0]
        if isinstance(query, ast.Name) and func is not None:
            values = self.scope(func).assigned.get(query.id, [])
            query = values[0] if len(values) == 1 else query
        env = constant_env(func.body, self.env) if func is not None else self.env
        texts = evaluate(query, env, self.names)
        if not texts:
            return False
        tables = [t.lower() for text in texts for t in _read_tables(text.value)]
        return bool(tables) and all(t.startswith(("pg_", "information_schema.")) for t in tables)

    def _bound_by_comprehension(self, call: ast.Call, given: ast.AST) -> ast.AST:
        """`f(name) for name in names`: the argument is an item of `names`, not the caller's `name` (which a
        later loop of the caller may bind to something else)."""
        comp = self._comprehension_of.get(id(call))
        if isinstance(given, ast.Name) and comp is not None:
            for gen in comp.generators:  # type: ignore[attr-defined]
                if any(isinstance(n, ast.Name) and n.id == given.id for n in walk(gen.target)):
                    return gen.iter
        return given

    def _comprehension(self, node: ast.GeneratorExp | ast.ListComp | ast.SetComp | ast.DictComp, func: Func | None,
                       depth: int) -> tuple[str, str]:
        """What each element is (`identifier(c) for c in columns`: quoted; `f"'{v}'" for v in values`: what
        `values` holds; of a dict, the worse of its keys and values), each name the comprehension binds read as an
        item of its own loop."""
        iters: dict[str, ast.AST] = {}
        for gen in node.generators:
            for part in (*gen.ifs, *([] if gen is node.generators[0] else [gen.iter])):
                self._bind(part, iters)
            iters.update((n.id, gen.iter) for n in walk(gen.target) if isinstance(n, ast.Name))
            iters.update(_unzipped(gen.target, gen.iter))
        elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for element in elements:
            self._bind(element, iters)
        return self._worst([self.source(e, func, depth + 1) for e in elements], ast.unparse(node)[:40])

    def _bind(self, node: ast.AST, iters: dict[str, ast.AST]) -> None:
        self._bound.update((id(n), iters[n.id]) for n in walk(node) if isinstance(n, ast.Name) and n.id in iters)

    def _attribute_chain(self, node: ast.Attribute | ast.Subscript, func: Func | None, depth: int, expr: str) -> tuple[str, str]:
        picked = self._returned_element(node)
        if picked:  # `text, params = _placeholders("nm", names)`: the text alone, as each return of the helper writes it
            return self._returned_at(node.value, func, picked[0][0], [e for _, e in picked], depth, expr)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call) and getattr(node, "synthetic", False):
            return self.source(node.value, func, depth + 1)  # an element of what another module's helper returns
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call) and last(
                self.names.callee(node.value) or self._text(node.value.func)) in _GENERATED:
            return "typed", f"{expr} is generated, not given"  # uuid4().hex, datetime.now().year
        inner: ast.AST = node
        while isinstance(inner, (ast.Attribute, ast.Subscript)):
            inner = inner.value
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr in _STORED_CALLS:
            return self._call(inner, func, depth + 1, expr)  # `conn.execute(...).fetchone()[0]`: a row's value, not `conn`
        chain: list[str] = []
        root: ast.AST = node
        while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
            if isinstance(root, ast.Attribute):
                chain.append(root.attr)
                root = root.value
            elif isinstance(root, ast.Subscript):
                root = root.value
            else:
                root = root.func
        chain.reverse()
        item = self._literal_item(node, root, func)
        if item is not None:  # filters["search"] of `filters = {"search": ..., ...}`: that value alone
            self._trail.append(item.lineno)
            return self.source(item, func, depth + 1)
        if isinstance(node, ast.Attribute) and node.attr == "key" and isinstance(root, ast.Name) and re.search(
                r"zone|tz", root.id, re.I):
            return "validated", f"{expr} is a time zone's key, a name the tz database knows"
        if isinstance(node, ast.Attribute) and node.attr in ("__tablename__", "__table__", "name", "key", "fullname") and (
                isinstance(root, ast.Name) and root.id[:1].isupper()):
            return "constant", f"{expr} is a name from the schema the code declares"
        if chain[-1:] == ["__tablename__"] or chain[-2:] in (["__table__", "name"], ["__table__", "fullname"]):
            return "constant", f"{expr} is a table's name, which its model declares"  # models.Project.__tablename__
        if any(a == "metadata" and b in ("sorted_tables", "tables") for a, b in zip(chain, chain[1:])):
            return "constant", f"{expr} is the application's own model metadata, the tables and columns it declares"
        if chain[-1:] in (["value"], ["name"]) and isinstance(root, ast.Name) and len(chain) >= 2 and (
                root.id.lstrip("_")[:1].isupper() and self.is_enum_class(root.id)):
            return "enum", f"{expr} is an enum member"
        if isinstance(root, ast.Name):
            if chain and chain[0] in _REQUEST_ATTRS and root.id in ("request", "req", "self.request"):
                self._trail.append(node.lineno)
                self._entries.add(node.lineno)
                return "request", f"{expr} is the request's {chain[0]}, read on line {node.lineno}"
            if root.id in _CONFIG_ROOTS or (chain and chain[0] in ("config", "settings") and root.id in ("app", "current_app")):
                return "configuration", f"{expr} comes from configuration"
            if root.id == "os" and chain and chain[0] == "environ":
                return "configuration", f"{expr} comes from the environment"
            if root.id in ("self", "cls") and len(chain) == 1:
                self._index()
                values = self._class_values.get(chain[0])
                if values:
                    self._trail.extend(v.lineno for v in values)
                    return self._worst([self.source(v, None, depth + 1) for v in values], expr)
            if root.id in ("self", "cls"):
                return "object", f"{expr} is an attribute of the object that this module does not assign"
            if root.id.lstrip("_")[:1].isupper() and self.is_enum_class(root.id):
                return "enum", f"{expr} is an enum member"
            if root.id in self.names.imports and root.id.lstrip("_")[:1].isupper() and not self._local(root.id, func) and (
                    len(chain) == 1 or (len(chain) == 2 and chain[1] in ("value", "name"))):
                # a member of another module's class: an enum's, or a constant its body assigns (`Actions.CREATE`)?
                self._via.append(f"{self.names.imports[root.id]}:{chain[0]}" if len(chain) == 1 and chain[0].isupper()
                                 else f"{self.names.imports[root.id]}.*")
                if self._calls_safe:
                    return "enum", f"{expr} is a member of `{root.id}`"
            if id(root) in self._bound:
                return self.source(root, func, depth + 1)
            # `sort.col` / `sort.col.value` of a parameter `sort: Sort`: what Sort declares `col` to be
            field = chain[0] if isinstance(node, ast.Attribute) and len(chain) <= 2 and chain[1:] in ([], ["value"], ["name"]) else None
            return self._name(root.id, func, depth + 1, f"`{root.id}`", field=field)
        return self.source(root, func, depth + 1)

    def _returned_at(self, call: ast.Call, caller: Func | None, defined: Func, values: list[ast.AST], depth: int,
                     expr: str) -> tuple[str, str]:
        """What `values`, returned by `defined`, are when `call` (in `caller`) calls it: its parameters are what
        that call passes, not what its other calls do (`_in_params("nm", names)` makes `:nm_0`, whatever another
        call passes for the prefix)."""
        saved = self._at.get(id(defined))
        self._at[id(defined)] = (call, caller)
        try:
            return self._worst([self.source(v, defined, depth + 2) for v in values], expr)
        finally:
            if saved is None:
                del self._at[id(defined)]
            else:
                self._at[id(defined)] = saved

    def _returned_element(self, node: ast.AST) -> list[tuple[Func, ast.AST]]:
        """`helper(...)[i]` of a function of this module every return of which is a tuple written out: (the function,
        the i-th element of each return); [] otherwise."""
        if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int)):
            return []
        self._index()
        defined = self._functions.get(node.value.func.id)
        returns = [n.value for n in walk(defined) if isinstance(n, ast.Return)] if defined is not None else []
        i = node.slice.value
        if not returns or not all(isinstance(r, ast.Tuple) and len(r.elts) > i for r in returns):
            return []
        self._trail.append(defined.lineno)
        return [(defined, r.elts[i]) for r in returns]  # type: ignore[union-attr]

    def _literal_item(self, node: ast.AST, root: ast.AST, func: Func | None) -> ast.AST | None:
        """The value a constant key picks from a name bound once in `func` to a dict literal that has the key."""
        if not (func is not None and isinstance(node, ast.Subscript) and node.value is root and isinstance(root, ast.Name)
                and isinstance(node.slice, ast.Constant)):
            return None
        values = self.scope(func).assigned.get(root.id, [])
        if len(values) != 1 or not isinstance(values[0], ast.Dict):
            return None
        keys = [k.value if isinstance(k, ast.Constant) else None for k in values[0].keys]
        return values[0].values[keys.index(node.slice.value)] if node.slice.value in keys else None

    def _name(self, name: str, func: Func | None, depth: int, expr: str, line: int = 0,
              field: str | None = "") -> tuple[str, str]:
        """`field`: "" for the value itself, an attribute's name for that attribute of it (`sort.col`), None for
        something deeper in it."""
        if name in self.env:
            return "constant", f"{expr} is a constant"
        if func is None:
            self._index()
            if name in self._classes:  # `for e in Status`: the members of a class the module declares
                return ("enum" if self.is_enum_class(name) else "constant"), f"{expr} is a class this module declares"
            values = self.module_values(name)
            if values:
                self._trail.extend(v.lineno for v in values)
                return self._worst([self.source(v, None, depth + 1) for v in values], expr)
            imported = self.names.imports.get(name)
            if imported:
                return ("constant" if name.isupper() else "unknown"), f"{expr} is imported from {imported.rsplit('.', 1)[0]}"
            return "unknown", f"{expr} could not be followed"
        scope = self.scope(func)
        if scope.validated(name, self._before) or self._checked_by_call(scope, func, name):
            return "validated", f"{expr} is checked before use in `{func.name}`"
        values = scope.assigned.get(name)
        if values and line:
            values = scope.reaching(values, line)
        if values:
            self._trail.extend(v.lineno for v in values)
            return self._worst([self.source(v, func, depth + 1) for v in values], expr)
        loop = scope.loops.get(name)
        if loop is not None:
            self._trail.append(loop.lineno)
            return self.source(loop, func, depth + 1)
        param = _parameter(func, name)
        if param is not None:
            self._trail.extend((func.lineno, param[0].lineno))
            return self._parameter(func, param, depth, expr, field)
        return self._name(name, self.enclosing(func), depth + 1, expr)

    def _parameter(self, func: Func, param: tuple[ast.arg, ast.AST | None], depth: int, expr: str,
                   field: str | None = "") -> tuple[str, str]:
        arg, default = param
        annotation = arg.annotation
        if annotation is not None and _typed(annotation, self):
            return "typed", f"{expr} is a parameter of `{func.name}` typed `{ast.unparse(annotation)[:40]}`"
        typed = self._typed_field(func, arg, field) if field is not None else None
        if typed is not None:
            return typed
        if id(func) == self._opaque:
            return "unknown", f"{expr} is a parameter of `{func.name}`, given by each caller"
        if field and _flushed_row(func, arg):  # the rule reads the models: is every column of that name a key?
            self._via.append(f"<row>:{field}")
            if self._calls_safe:
                return "typed", f"`{arg.arg}.{field}` is a column of the row a mapper event flushes"
        if isinstance(default, ast.Call) and last(self.names.callee(default)) in _REQUEST_PARAMS or _is_route(func):
            self._entries.update((func.lineno, arg.lineno))
        if isinstance(default, ast.Call) and last(self.names.callee(default)) in _REQUEST_PARAMS:
            return "request", f"{expr} is a {last(self.names.callee(default)).lower()} parameter of the route `{func.name}`"
        if _is_route(func):
            return "request", f"{expr} is a parameter of the route `{func.name}`, given by the request"
        callers = [self._at[id(func)]] if id(func) in self._at else self.callers(func)
        if not callers:
            passed = self._references.get(func.name) if id(func) not in self._methods else None  # a Name is no method
            if passed:  # handed to an executor, a decorator, a table of handlers: what it gets is not followed
                return "unknown", (f"{expr} is a parameter of `{func.name}`, which this module passes on as a value "
                                   f"(line {passed[0]}): what it is called with is not followed")
            if id(func) not in self._methods and self.enclosing(func) is None:  # the rule reads its other modules' calls
                positional = [a.arg for a in [*func.args.posonlyargs, *func.args.args]]
                place = positional.index(arg.arg) if arg.arg in positional else -1
                self._via.append(f"{self.names.module}.{func.name}({place}:{arg.arg})")
                if self._calls_safe > 1:
                    return "constant", f"{expr} is what the callers of `{func.name}` pass"
            return "unknown", f"{expr} is a parameter of `{func.name}`, whose callers are not in this module"
        found, ways = [], []
        for call, caller in callers[:8]:
            mark = len(self._trail)
            self._trail.append(call.lineno)
            given = _argument(func, arg.arg, call)
            if given is None:
                found.append(("constant", f"{expr} keeps its default") if default is not None else (
                    "unknown", f"{expr} is a parameter of `{func.name}`, and what the call on line {call.lineno} "
                               "passes for it is not followed"))
            else:
                found.append(self.source(self._bound_by_comprehension(call, given), caller, depth + 1))
            ways.append(self._trail[mark:])
            del self._trail[mark:]
        worst = self._worst(found, expr)
        self._trail.extend(line for f, way in zip(found, ways) if f == worst for line in way)  # the way the message says
        return worst

    def _typed_field(self, func: Func, arg: ast.arg, field: str) -> tuple[str, str] | None:
        """A parameter annotated with a class (`sort: Optional[Sort]`): its attribute `field` (or, for "", the
        parameter itself) is of a fixed set when this module's class declares it an enum or a Literal; for a class
        another module declares, the rule reads that (Hole.via `pkg.Sort:` for the value itself, an enum's member;
        `pkg.Sort:col` for its attribute `col`)."""
        cls = annotated_class(arg.annotation) if arg.annotation is not None else None
        if cls is None:
            return None
        self._index()
        local = self._classes.get(cls.id) if isinstance(cls, ast.Name) else None
        if local is not None:  # an enum class of its own is _typed; of its attributes, one of this module's types is
            declared = next((s.annotation for s in local.body if isinstance(s, ast.AnnAssign)
                             and isinstance(s.target, ast.Name) and s.target.id == field), None)
            if declared is not None and _typed(declared, self):
                return "typed", f"`{arg.arg}.{field}` is declared `{ast.unparse(declared)[:40]}` by `{cls.id}` (line {local.lineno})"
        root = cls
        while isinstance(root, ast.Attribute):
            root = root.value
        if local is not None and field or local is None and isinstance(root, ast.Name) and root.id in self.names.imports \
                and not self._local(root.id, func):
            self._via.append(f"{self.names.module}.{cls.id}:{field}" if local is not None else f"{self.names.qualname(cls)}:{field}")
            if self._calls_safe:
                return "enum", f"`{arg.arg}` is annotated `{ast.unparse(cls)}`"
        return None


_CATALOGUE = re.compile(r"^\s*SHOW\s+\w+|\b(information_schema|pg_catalog|pg_namespace|pg_tables|pg_class|sqlite_master)\b", re.I)


def _catalogue_query(node: ast.AST) -> str | None:
    """The SQL of a call that reads the database's catalogue (`SHOW SCHEMAS`, a query of information_schema), shortened."""
    for n in walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and _CATALOGUE.search(n.value):
            text = " ".join(n.value.split())
            return text if len(text) <= 40 else text[:37] + "..."
    return None


def _read_tables(sql: str) -> list[str]:
    """What each FROM clause of `sql` reads: the first word of each of its comma or JOIN items (a subquery
    reads as `SELECT`, which is no catalogue table)."""
    sql = re.sub(r"'[^']*'", "''", sql)
    out = []
    for clause in _FROM_CLAUSE.findall(sql):
        for item in re.split(r",|\bJOIN\b", clause, flags=re.I):
            word = re.match(r"\s*\(?\s*([\w.]+)", item)
            out.append(word.group(1).removeprefix("pg_catalog.") if word else "?")
    return out


def _wrapped_quoted(node: ast.AST) -> str:
    """The quote character when `node` writes a value between that character with each one in it doubled:
    `'"' + s.replace('"', '""') + '"'`, `f'"{s.replace(q, q + q)}"'`: a quoted identifier or literal."""
    parts: list[ast.AST | str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            stack += [n.right, n.left]
        elif isinstance(n, ast.JoinedStr):
            stack += reversed(n.values)
        elif isinstance(n, ast.FormattedValue):
            if n.conversion != -1 or n.format_spec is not None:
                return ""
            parts.append(n.value)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            parts.append(n.value)
        else:
            parts.append(n)
    values = [i for i, p in enumerate(parts) if not isinstance(p, str)]
    if not values or isinstance(node, ast.Constant):
        return ""
    quote = ""
    for i in values:
        before, after = parts[i - 1] if i else "", parts[i + 1] if i + 1 < len(parts) else ""
        q = before[-1:] if isinstance(before, str) else ""
        if q not in ('"', "'") or quote not in ("", q) or not (isinstance(after, str) and after.startswith(q)):
            return ""
        if not _doubles(parts[i], q):  # type: ignore[arg-type]
            return ""
        quote = q
    return quote


def _doubles(node: ast.AST, q: str) -> bool:
    """A chain of string methods on a value in which one is `.replace(q, q + q)`."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "replace" and [getattr(a, "value", None) for a in node.args[:2]] == [q, q + q]:
            return True
        if node.func.attr not in _PASSTHROUGH:
            return False
        node = node.func.value
    return False


def _other_object(call: ast.Call) -> bool:
    """`db.execute(...)` inside a command's own `execute`: a method of that name on an object other than `self` or
    `cls`, another class's (a session's), not a call of itself."""
    return isinstance(call.func, ast.Attribute) and not (
        isinstance(call.func.value, ast.Name) and call.func.value.id in ("self", "cls"))


def _through_super(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Call) and \
        isinstance(call.func.value.func, ast.Name) and call.func.value.func.id == "super"


def _element(value: ast.AST, i: int) -> ast.AST:
    """What `a, b = value` binds to its i-th name: that element of a tuple written out, `value[i]` of a call (whose
    returns the flow may read element by element), else the whole value."""
    if isinstance(value, ast.Tuple) and len(value.elts) > i and not any(isinstance(e, ast.Starred) for e in value.elts):
        return value.elts[i]
    if isinstance(value, ast.Call):
        element = ast.copy_location(ast.Subscript(value=value, slice=ast.Constant(i), ctx=ast.Load()), value)
        element.synthetic = True  # type: ignore[attr-defined]  # not in the source: followed as the call where unread
        return element
    return value


def _unzipped(target: ast.AST, it: ast.AST) -> list[tuple[str, ast.AST]]:
    """`for a, b in zip(xs, ys)`: a runs over xs and b over ys; `for i, x in enumerate(xs)`: i counts, x runs
    over xs."""
    if not (isinstance(target, ast.Tuple) and isinstance(it, ast.Call) and isinstance(it.func, ast.Name)):
        return []
    names = [n.id if isinstance(n, ast.Name) else None for n in target.elts]
    if it.func.id == "zip" and len(it.args) == len(names) and not it.keywords:
        parts = list(it.args)
    elif it.func.id == "enumerate" and len(names) == 2 and len(it.args) == 1:
        parts = [ast.Constant(0), it.args[0]]
    else:
        return []
    if any(isinstance(p, ast.Starred) for p in parts):
        return []
    return [(n, p) for n, p in zip(names, parts) if n is not None]


def _loop_end(stmt: ast.stmt, line: int) -> int:
    """The last line of the outermost loop around `line` within `stmt` (`line` itself when none is)."""
    node: ast.AST | None = stmt
    while node is not None:
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            return node.end_lineno or line
        inner = [st for field in ("body", "orelse", "finalbody", "handlers", "cases")
                 for st in getattr(node, field, None) or () if st.lineno <= line <= (st.end_lineno or st.lineno)]
        node = inner[0] if inner else None
    return line


def _nth(text: str, needle: str, n: int) -> int:
    at = -1
    for _ in range(n + 1):
        at = text.find(needle, at + 1)
        if at < 0:
            return -1
    return at


_VALUE_BEFORE = re.compile(r"(=|<>|!=|<|>|\bIN\s*\(|\bLIMIT|\bOFFSET|\bVALUES\s*\(|\bLIKE|\bBETWEEN|\bAND|\bINTERVAL|\bTO|"
                           r"\bTHEN|\bELSE|\bDEFAULT|\bWHEN)\s*$", re.I)
_IDENTIFIER_BEFORE = re.compile(
    r"(\bFROM|\bJOIN|\bINTO|\bUPDATE|\bTABLE|\bON|\bSCHEMA|\bINDEX|\bTRIGGER|\bPOLICY|\bROLE|\bUSER|\bDATABASE|"
    r"\bSEQUENCE|\bVIEW|\bEXISTS|\bBY|\bCOLUMN|\bTYPE|\bFUNCTION|\bGRANT|\bOWNER\s+TO|\bEXTENSION|\bCONSTRAINT|"
    r"\bSELECT|\bAS|\bTRUNCATE|\bANALYZE|\bVACUUM|\bREINDEX|\bNOTIFY|\bLISTEN|\bSAVEPOINT|\.|,)\s*$", re.I)


_WHOLE_STATEMENT = re.compile(r"\s*EXPLAIN\s*(\([^)]*\)\s*|(ANALYZE|VERBOSE)\s+)*", re.I)


def _role(text: str, at: int, width: int) -> tuple[str, bool]:
    """What the placeholder at `at` is in the statement: a value, an identifier, a fragment of SQL or the
    statement itself (what EXPLAIN runs), and whether it is a password (after PASSWORD)."""
    if not text[at + width:].strip(" \t\n;") and _WHOLE_STATEMENT.fullmatch(text[:at]):
        return "statement", False  # `EXPLAIN {sql}`: the value is the statement itself, not a piece of one
    before, after = text[max(0, at - 120):at], text[at + width:at + width + 40]  # what is next to it decides
    quoted = before.endswith("'") and after.startswith("'")
    password = bool(re.search(r"\bPASSWORD\s*'?$", before, re.I))
    if quoted or password:
        return "value", password
    if before.endswith('"') and after.startswith('"'):
        return "identifier", False
    if re.search(r"\bSET\s+(LOCAL\s+|SESSION\s+)?[\w.]+\s*(=|TO)\s*$", before, re.I):
        return "value", False
    if _VALUE_BEFORE.search(before):
        return "value", False
    if _IDENTIFIER_BEFORE.search(before) or re.match(r"\s*\.", after):
        return "identifier", False
    return "sql", False


def _constant(node: ast.AST, env: Env) -> bool:
    return isinstance(node, ast.Constant) or (isinstance(node, ast.Name) and node.id in env)


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.IfExp):
        return [node.body, node.orelse]
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    return []


def _builtin(name: str) -> bool:
    return name in ("str", "int", "len", "repr", "sorted", "enumerate", "zip", "range", "True", "False", "None")


class _Scope:
    """One function read once: what each name is assigned, the loops that bind names, the checks made."""

    def __init__(self, func: Func) -> None:
        self.assigned: dict[str, list[ast.AST]] = {}  # plain, annotated, augmented (`sql += f"..."`), walrus
        self.loops: dict[str, ast.AST] = {}  # name -> what the loop, comprehension or `with` binding it runs over
        self.checks: list[tuple[int, set[str], bool]] = []  # (line, names tested, the test validates)
        self.statement_of: dict[int, ast.stmt] = {}  # a plain assignment's value -> the assignment
        self.block_of: dict[int, tuple[list[ast.stmt], int]] = {}  # a statement -> its block and place in it
        self.calls: list[ast.Call] = []  # the calls standing alone as statements (a check that raises)
        for node in walk(func):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    self.block_of.update((id(st), (block, i)) for i, st in enumerate(block))
            if isinstance(node, ast.Assign):
                self.statement_of[id(node.value)] = node
                for t in node.targets:
                    for i, n in enumerate([t] if isinstance(t, ast.Name) else t.elts if isinstance(t, ast.Tuple) else []):
                        if isinstance(n, ast.Name):
                            self.assigned.setdefault(n.id, []).append(_element(node.value, i) if t is not n else node.value)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name) and node.value is not None:
                self.assigned.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, ast.NamedExpr):
                self.assigned.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                for n in walk(node.target):
                    if isinstance(n, ast.Name):
                        self.loops.setdefault(n.id, node.iter)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        self.loops.setdefault(item.optional_vars.id, item.context_expr)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                self.calls.append(node.value)
            if isinstance(node, (ast.If, ast.Assert)):
                tested = {n.id for n in walk(node.test) if isinstance(n, ast.Name)}
                self.checks.append((node.lineno, tested, _validating(node.test)))

    def reaching(self, values: list[ast.AST], line: int) -> list[ast.AST]:
        """Of a name's assigned `values`, those that may reach a read on `line`: an assignment of the same
        block that runs before the statement holding the read hides all but those between it and the read,
        or to the end of a loop around the read within that statement (the next turn of the loop). An assignment
        holding the read is not one: `x = f"({x})"` reads the x before it (and adds no source of its own)."""
        values = [v for v in values if (st := self.statement_of.get(id(v))) is None
                  or not st.lineno <= line <= (st.end_lineno or st.lineno)]
        best: tuple[int, int] | None = None  # the closest such assignment's line, the end of the stretch
        for v in values:
            st = self.statement_of.get(id(v))
            if st is None or st.lineno >= line or id(st) not in self.block_of:
                continue
            block, i = self.block_of[id(st)]
            for later in block[i + 1:]:
                if later.lineno <= line <= (later.end_lineno or later.lineno):
                    if best is None or st.lineno > best[0]:
                        best = (st.lineno, _loop_end(later, line))
                    break
        if best is None:
            return values
        return [v for v in values if (st := self.statement_of.get(id(v))) is None or best[0] <= st.lineno <= best[1]]

    def validated(self, name: str, before: int) -> bool:
        """Is `name` checked against a list, a pattern or a predicate before the line `before`?"""
        return any(ok and line <= before and name in tested for line, tested, ok in self.checks)


# A class of characters with nothing that can end a quoted literal or identifier: [^a-z0-9_], [^\w-], [^A-Za-z0-9]
_SAFE_CLASS = re.compile(r"\[\^(?:[a-zA-Z]-[a-zA-Z]|\d-\d|\\w|\\d|[_ .-])+\]\+?\*?")


def _sanitised(call: ast.Call, name: str) -> bool:
    """A call whose result holds only safe characters whatever it is given: `slugify(x)` (python-slugify and
    its kin, unless given their own pattern), `re.sub(r"[^a-z0-9_]", "", x)` with a safe replacement."""
    if name == "slugify" or name.endswith("_slugify"):
        return not any(k.arg in ("regex_pattern", "pattern") for k in call.keywords)
    if name == "sub" and len(call.args) >= 3:
        pattern, repl = call.args[0], call.args[1]
        return (isinstance(pattern, ast.Constant) and isinstance(pattern.value, str) and _SAFE_CLASS.fullmatch(pattern.value)
                is not None and isinstance(repl, ast.Constant) and isinstance(repl.value, str)
                and re.fullmatch(r"[\w .-]*", repl.value) is not None)
    return False


def _validating(test: ast.AST) -> bool:
    for n in walk(test):
        if isinstance(n, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in n.ops):
            return True
        if isinstance(n, ast.Call):
            called = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
            if called in _VALIDATING or "valid" in called.lower():
                return True
    return False


def _raises_unless_valid(func: Func, param: str) -> bool:
    """Does `func` raise when its parameter `param` fails a check: `if not PATTERN.match(param): raise`, `if param
    not in ALLOWED: raise`, `if PATTERN.match(param) is None: raise`, `assert param.isidentifier()`?"""
    for node in walk(func):
        tested = isinstance(node, (ast.If, ast.Assert)) and param in {n.id for n in walk(node.test) if isinstance(n, ast.Name)}
        if tested and isinstance(node, ast.Assert) and _validating(node.test):
            return True
        if tested and isinstance(node, ast.If) and _fails(node.test) and any(
                isinstance(n, ast.Raise) for st in node.body for n in walk(st)):
            return True
    return False


def _fails(test: ast.AST) -> bool:
    """Is `test` true when a check fails: `not valid(x)`, `x not in ALLOWED`, `PATTERN.match(x) is None`, one of
    such joined by `or`?"""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(_fails(v) for v in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _validating(test.operand)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        if isinstance(test.ops[0], ast.NotIn):
            return True
        return isinstance(test.ops[0], (ast.Is, ast.Eq)) and _validating(test.left) and isinstance(
            test.comparators[0], ast.Constant) and test.comparators[0].value in (None, False)
    return False


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _parameters(func: Func) -> list[str]:
    return [a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]]


def _parameter(func: Func, name: str) -> tuple[ast.arg, ast.AST | None] | None:
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for a, d in zip(positional, defaults):
        if a.arg == name:
            return a, d
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        if a.arg == name:
            return a, d
    for a in (args.vararg, args.kwarg):
        if a is not None and a.arg == name:
            return a, None
    return None


def _flushed_row(func: Func, arg: ast.arg) -> bool:
    """Is `arg` the row a mapper event flushes (`def f(mapper, connection, target)`)?"""
    positional = [*func.args.posonlyargs, *func.args.args]
    return len(positional) >= 3 and positional[0].arg == "mapper" and positional[2] is arg


def _argument(func: Func, name: str, call: ast.Call) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    positional = [a.arg for a in [*func.args.posonlyargs, *func.args.args]]
    if positional and positional[0] in ("self", "cls") and isinstance(call.func, ast.Attribute):
        positional = positional[1:]
    if name in positional:
        index = positional.index(name)
        if index < len(call.args) and not isinstance(call.args[index], ast.Starred):
            return call.args[index]
    return None


def _typed(annotation: ast.AST, flow: Flow) -> bool:
    """A parameter annotated with a type whose values cannot carry SQL: int, UUID, an enum, a Literal."""
    text = ast.unparse(annotation)
    if isinstance(annotation, ast.Subscript):
        head = last(ast.unparse(annotation.value))
        if head == "Literal":
            return True
        if head in ("Annotated", "Optional"):
            inner = annotation.slice.elts[0] if isinstance(annotation.slice, ast.Tuple) else annotation.slice
            return _typed(inner, flow)
        return False
    if isinstance(annotation, ast.BinOp):  # `int | None`
        return all(_typed(side, flow) or ast.unparse(side) == "None" for side in (annotation.left, annotation.right))
    name = last(text)
    return name in _TYPED or flow.is_enum_class(name)


def annotated_class(annotation: ast.AST) -> ast.Name | ast.Attribute | ast.Subscript | None:
    """The one class an annotation names: `Sort`, `Optional[Sort]`, `Sort | None`, `Annotated[Sort, ...]`; or the
    `Literal[...]` it is."""
    head = last(ast.unparse(annotation.value)) if isinstance(annotation, ast.Subscript) else ""
    if head == "Literal":
        return annotation
    if head in ("Optional", "Annotated", "Union"):
        parts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        kept = parts[:1] if head == "Annotated" else [
            p for p in parts if not (isinstance(p, ast.Constant) and p.value is None)]
        return annotated_class(kept[0]) if len(kept) == 1 else None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        kept = [p for p in (annotation.left, annotation.right) if not (isinstance(p, ast.Constant) and p.value is None)]
        return annotated_class(kept[0]) if len(kept) == 1 else None
    return annotation if isinstance(annotation, (ast.Name, ast.Attribute)) else None


def _is_route(func: Func) -> bool:
    for deco in func.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and target.attr in _ROUTE_VERBS:
            return True
    return False


def assigned_text(func: Func, arg: ast.AST, env: Env, names: Names, scope: _Scope):
    """The SQL a name holds when it was built in the function before being sent: `sql = f"..."`, then
    `sql += " AND ..."`, then `execute(text(sql))`. None when it is not such a name. Of a name assigned one
    statement after another, only the assignments that reach the send (`scope.reaching`)."""
    from analyzers.facts.strings import Text

    if isinstance(arg, ast.Call) and len(arg.args) == 1 and last(names.callee(arg)) in ("text", "literal_column"):
        arg = arg.args[0]
    if not isinstance(arg, ast.Name):
        return None
    plain, added = [], []
    for node in walk(func):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == arg.id for t in node.targets):
            plain.append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == arg.id:
            added.append(node.value)
    plain = scope.reaching(plain, arg.lineno)
    if not plain or len(plain) + len(added) > 12:
        return None
    first = min(v.lineno for v in plain)
    added = [v for v in added if v.lineno > first]  # what was added to the text before it was set again is not in it
    bases = [evaluate(v, env, names) for v in plain]
    tails = [evaluate(v, env, names) or [Text("{" + ast.unparse(v) + "}", True)] for v in added]
    if any(b is None for b in bases):
        return None
    tail = Text("".join(t[0].value for t in tails), any(t[0].formatted for t in tails))
    return [Text(b.value + tail.value, b.formatted or tail.formatted) for found in bases for b in found[:4]]  # type: ignore[union-attr]
