"""Whether a value is picked from a fixed set of literals, followed past its module: through a function's parameter
to the calls of that function in every module of the project (a method's calls by its name, a function's where it is
imported), through what a helper of the caller's module returns, a couple of calls deep.

A value is read along a path from what holds it: `ordering_rule.column_name` of `for ordering_rule in ordering` is the
attribute `column_name` of an item of `ordering`; a caller's `[Sort(column="created_at")]` gives that item, a
`Sort(column=names[i])` of `names = ["created_at", "tag"]` an item of a literal list. It is fixed where every way it
can come ends in a literal (a string, a number, None): a caller that passes anything else, a call dbreview cannot
read, or a function handed on as a value leaves it not fixed (False), and the rule says what it says today. Nothing is
imported or run; a list mutated by a call it is handed to is not seen."""

from __future__ import annotations

import ast
import re

from analyzers import confine
from analyzers.facts.model import Facts
from analyzers.rules.schema import is_test_path, python_paths
from analyzers.rules.source_trees import source_tree

Func = ast.FunctionDef | ast.AsyncFunctionDef
_ITEM, _KEY = "[]", "in"  # an item a subscript picks (a dict's value); an item a loop binds (a dict's key)
_ADDERS = {"append": 1, "add": 1, "insert": 1, "extend": 0, "update": 0}  # method -> 1: adds an item, 0: adds the items of
_HOPS = 2  # calls followed up to their callers, and helpers' returns followed down, each
_BUDGET = 300  # expressions looked at for one value


class _Module:
    """One module's functions, the function around each node, and its module-level assignments."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.around: dict[int, Func | None] = {}
        self.owner: dict[int, ast.ClassDef | None] = {}  # a function -> the class whose body defines it
        self.functions: dict[str, Func] = {}  # module-level functions
        self.values: dict[str, list[ast.AST]] = {}
        stack: list[tuple[ast.AST, Func | None, ast.ClassDef | None]] = [(tree, None, None)]
        while stack:
            node, func, cls = stack.pop()
            self.around[id(node)] = func
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.owner[id(node)] = cls if func is None else None
                func, cls = node, None
            elif isinstance(node, ast.ClassDef):
                cls = node if func is None else cls
            stack.extend((child, func, cls) for child in ast.iter_child_nodes(node))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
        self._assignments(tree.body)

    def _assignments(self, body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        self.values.setdefault(t.id, []).append(node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                self.values.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, (ast.If, ast.Try)):
                for field in ("body", "orelse", "finalbody"):
                    self._assignments(getattr(node, field, None) or [])


class FixedSets:
    """Follows values for one scan's facts; modules are parsed once (source_tree) and indexed once."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._modules: dict[str, _Module | None] = {}
        self._texts: dict[str, str] = {}
        self._steps = 0

    def module(self, path: str) -> _Module | None:
        if path not in self._modules:
            tree = source_tree(self.facts, path)
            self._modules[path] = _Module(tree) if tree is not None else None
        return self._modules[path]

    def function_at(self, path: str, owner: str, name: str, line: int) -> Func | None:
        """The function `name` (a method of class `owner`, where given) of `path` whose body holds `line`."""
        m = self.module(path)
        if m is None:
            return None
        for node in ast.walk(m.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name \
                    and node.lineno <= line <= (node.end_lineno or node.lineno):
                cls = m.owner.get(id(node))
                if not owner or (cls is not None and cls.name == owner):
                    return node
        return None

    def fixed(self, path: str, func: Func, node: ast.AST) -> bool:
        """Is `node`, an expression of `func` in `path`, a literal on every way it can come?"""
        self._steps = 0
        return self._fixed(path, func, node, (), 0, 0, frozenset())

    # -- an expression ------------------------------------------------------------------------------------

    def _fixed(self, path: str, func: Func | None, node: ast.AST, way: tuple[str, ...], up: int, down: int,
               seen: frozenset) -> bool:
        self._steps += 1
        if self._steps > _BUDGET or len(way) > 6:
            return False
        if isinstance(node, ast.Constant):
            return not way and (node.value is None or isinstance(node.value, (str, int, float, bool)))
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return bool(way) and way[0] in (_ITEM, _KEY) and all(
                self._fixed(path, func, e.value if isinstance(e, ast.Starred) else e, way if isinstance(e, ast.Starred) else way[1:],
                            up, down, seen) for e in node.elts)
        if isinstance(node, ast.Dict):
            if not way or way[0] not in (_ITEM, _KEY) or None in node.keys:
                return False
            return all(self._fixed(path, func, v, way[1:], up, down, seen)
                       for v in (node.values if way[0] == _ITEM else node.keys))  # type: ignore[misc]
        if isinstance(node, ast.IfExp):
            return all(self._fixed(path, func, n, way, up, down, seen) for n in (node.body, node.orelse))
        if isinstance(node, ast.BoolOp):
            return all(self._fixed(path, func, n, way, up, down, seen) for n in node.values)
        if isinstance(node, ast.Subscript):
            inner = way if isinstance(node.slice, ast.Slice) else (_ITEM, *way)  # a slice is a list of the same items
            return self._fixed(path, func, node.value, inner, up, down, seen)
        if isinstance(node, ast.Attribute):
            return self._fixed(path, func, node.value, (f".{node.attr}", *way), up, down, seen)
        if isinstance(node, ast.Call):
            return self._call(path, func, node, way, up, down, seen)
        if isinstance(node, ast.Name):
            return self._name(path, func, node.id, way, up, down, seen)
        return False

    def _call(self, path: str, func: Func | None, node: ast.Call, way: tuple[str, ...], up: int, down: int,
              seen: frozenset) -> bool:
        if way and way[0].startswith("."):  # `Sort(column=...)`: the attribute of what a constructor is given
            given = next((k.value for k in node.keywords if k.arg == way[0][1:]), None)
            if given is None and node.args:  # `Sort("created_at", True)` of a dataclass: its fields in order
                fields = self._fields(path, node.func)
                place = fields.index(way[0][1:]) if fields and way[0][1:] in fields else -1
                given = node.args[place] if 0 <= place < len(node.args) and not any(
                    isinstance(a, ast.Starred) for a in node.args[:place + 1]) else None
            return given is not None and self._fixed(path, func, given, way[1:], up, down, seen)
        if isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple", "sorted", "set") and len(node.args) == 1:
            return self._fixed(path, func, node.args[0], way, up, down, seen)
        m = self.module(path)
        helper = m.functions.get(node.func.id) if m is not None and isinstance(node.func, ast.Name) else None
        if helper is None or down >= _HOPS or (path, id(helper), way) in seen:
            return False
        returns = [n.value for n in ast.walk(helper) if isinstance(n, ast.Return) and n.value is not None
                   and m.around.get(id(n)) is helper]  # type: ignore[union-attr]
        inner = seen | {(path, id(helper), way)}
        return bool(returns) and all(self._fixed(path, helper, r, way, up, down + 1, inner) for r in returns)

    def _name(self, path: str, func: Func | None, name: str, way: tuple[str, ...], up: int, down: int,
              seen: frozenset) -> bool:
        m = self.module(path)
        if m is None:
            return False
        if func is None:
            values = m.values.get(name, [])
            return bool(values) and all(self._fixed(path, None, v, way, up, down, seen) for v in values)
        param = _parameter(func, name, m.owner.get(id(func)) is not None)
        ways: list[tuple[ast.AST, tuple[str, ...]]] = []  # what binds the name, and the way from there
        for n in ast.walk(func):
            if m.around.get(id(n)) is not func and not isinstance(n, ast.comprehension):
                continue  # a nested function's own names
            found = _binds(n, name, way)
            if found is False:
                return False
            ways.extend(found or ())
        if param is not None:
            if ways or param == -2:
                return False  # reassigned, or *args/**kwargs: not followed
            return self._callers(path, func, name, param, way, up, down, seen)
        if not ways:  # the module's (a constant list), else not followed
            return self._name(path, None, name, way, up, down, seen) if name in m.values else False
        return all(self._fixed(path, func, v, w, up, down, seen) for v, w in ways)

    def _fields(self, path: str, called: ast.AST) -> list[str] | None:
        """The fields, in order, of the dataclass or NamedTuple a call makes (`Sort`, `models.Sort`): declared in
        the module, or in the project's module it is imported from; None: not one of those, or not found."""
        m = self.module(path)
        name = called.id if isinstance(called, ast.Name) else called.attr if isinstance(called, ast.Attribute) else None
        if m is None or name is None:
            return None
        cls = next((n for n in m.tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
        if cls is None:
            source = next((n.module for n in ast.walk(m.tree) if isinstance(n, ast.ImportFrom) and n.module and n.level == 0
                           and any(a.name == name and a.asname is None for a in n.names)), None)
            wanted = {f"{source.replace('.', '/')}.py", f"{source.replace('.', '/')}/__init__.py"} if source else set()
            where = next((p for p in python_paths(self.facts) if p in wanted or any(p.endswith("/" + w) for w in wanted)), None)
            other = self.module(where) if where is not None else None
            cls = next((n for n in other.tree.body if isinstance(n, ast.ClassDef) and n.name == name), None) if other else None
        if cls is None or not (any("dataclass" in ast.unparse(d) for d in cls.decorator_list)
                               or any(ast.unparse(b).rsplit(".", 1)[-1] == "NamedTuple" for b in cls.bases)):
            return None
        return [n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
                and "ClassVar" not in ast.unparse(n.annotation) and not (isinstance(n.value, ast.Call) and any(
                    k.arg == "init" and isinstance(k.value, ast.Constant) and k.value.value is False for k in n.value.keywords))]

    # -- a parameter, through the calls of its function --------------------------------------------------

    def _callers(self, path: str, func: Func, param: str, place: int, way: tuple[str, ...], up: int, down: int,
                 seen: frozenset) -> bool:
        if up >= _HOPS or (path, id(func), param, way) in seen:
            return False
        m = self.module(path)
        method = m is not None and m.owner.get(id(func)) is not None
        module = path[:-3].replace("/", ".").removesuffix(".__init__")
        default = _default(func, param)
        inner = seen | {(path, id(func), param, way)}
        calls = 0
        for other in self._mentioning(func.name):
            om = self.module(other)
            if om is None:
                return False
            if other != path and not method and not _imports(om.tree, module, func.name):
                continue  # a function of the same name in another module, or one imported under a name not followed
            called: set[int] = set()
            for node in ast.walk(om.tree):
                if not isinstance(node, ast.Call) or not _names(node.func, func.name, method):
                    continue
                called.add(id(node.func))
                given = next((k.value for k in node.keywords if k.arg == param), None)
                if given is None and any(k.arg is None for k in node.keywords):
                    return False  # **kwargs: not followed
                if given is None and 0 <= place < len(node.args):
                    if any(isinstance(a, ast.Starred) for a in node.args[:place + 1]):
                        return False
                    given = node.args[place]
                if given is None:
                    given = default
                if given is None or not self._fixed(other, om.around.get(id(node)), given, way, up + 1, down, inner):
                    return False
                calls += 1
            for node in ast.walk(om.tree):  # handed on as a value (a table of handlers): its calls are not all seen
                if isinstance(getattr(node, "ctx", None), ast.Load) and _names(node, func.name, method) and id(node) not in called:
                    return False
        return calls > 0

    def _mentioning(self, name: str) -> list[str]:
        """The project's modules outside tests whose text names `name` as a word."""
        word = re.compile(rf"\b{re.escape(name)}\b")
        out = []
        for path in python_paths(self.facts):
            if is_test_path(path):
                continue
            text = self._texts.get(path)
            if text is None:
                try:
                    text = self._texts[path] = confine.read_text(self.facts.root, path)
                except OSError:
                    text = self._texts[path] = ""
            if word.search(text):
                out.append(path)
        return out


def fixed_sets(facts: Facts) -> FixedSets:
    found = facts.derived.get("fixed_sets")
    if found is None:
        found = facts.derived["fixed_sets"] = FixedSets(facts)
    return found  # type: ignore[return-value]


def _parameter(func: Func, name: str, method: bool) -> int | None:
    """The place of parameter `name` among the positional arguments a call gives (a method's `self` not counted);
    -1 for a keyword-only one, -2 for *args or **kwargs; None: no parameter of that name."""
    positional = [a.arg for a in [*func.args.posonlyargs, *func.args.args]]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in func.decorator_list)
    if method and not static:
        positional = positional[1:]
    if name in positional:
        return positional.index(name)
    if name in (a.arg for a in func.args.kwonlyargs):
        return -1
    if name in (func.args.vararg.arg if func.args.vararg else None, func.args.kwarg.arg if func.args.kwarg else None):
        return -2
    return None


def _default(func: Func, param: str) -> ast.AST | None:
    args = [*func.args.posonlyargs, *func.args.args]
    defaults = dict(zip([a.arg for a in args][len(args) - len(func.args.defaults):], func.args.defaults))
    defaults.update((a.arg, d) for a, d in zip(func.args.kwonlyargs, func.args.kw_defaults) if d is not None)
    return defaults.get(param)


def _binds(node: ast.AST, name: str, way: tuple[str, ...]) -> list[tuple[ast.AST, tuple[str, ...]]] | bool | None:
    """What `node` binds `name` to, and the way from there; False: it binds it to what is not followed (a
    `with ... as`, an unpacked tuple, an import); None: it does not bind it."""
    if isinstance(node, ast.Assign):
        out: list[tuple[ast.AST, tuple[str, ...]]] = []
        for t in node.targets:
            if isinstance(t, ast.Name) and t.id == name:
                out.append((node.value, way))
            elif isinstance(t, (ast.Tuple, ast.List)) and any(isinstance(e, ast.Name) and e.id == name for e in ast.walk(t)):
                return False
            elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name:
                if not way or way[0] != _ITEM:
                    return False  # `d[k] = v` changes which keys a loop over it binds
                out.append((node.value, way[1:]))
        return out or None
    if isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and isinstance(node.target, ast.Name) and node.target.id == name:
        return [(node.value, way)] if node.value is not None else None
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
        return [(node.value, way)] if way and way[0] in (_ITEM, _KEY) else False
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        if isinstance(node.target, ast.Name) and node.target.id == name:
            return [(node.iter, (_KEY, *way))]
        return False if any(isinstance(e, ast.Name) and e.id == name for e in ast.walk(node.target)) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
            and node.func.value.id == name and node.func.attr in _ADDERS and way and way[0] in (_ITEM, _KEY):
        one = _ADDERS[node.func.attr]
        if len(node.args) != one + 1 and not (node.func.attr == "append" and len(node.args) == 1):
            return False
        return [(node.args[-1], way[1:] if one else way)]
    if isinstance(node, (ast.withitem,)) and isinstance(node.optional_vars, ast.Name) and node.optional_vars.id == name:
        return False
    if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
        return False
    if isinstance(node, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name) == name for a in node.names):
        return False
    return None


def _names(node: ast.AST, name: str, method: bool) -> bool:
    """`node` names the function: `obj.name` for a method, `name` or `module.name` for a function."""
    if isinstance(node, ast.Attribute):
        return node.attr == name
    return not method and isinstance(node, ast.Name) and node.id == name


def _imports(tree: ast.Module, module: str, name: str) -> bool:
    """Does the module import `name` from `module` (or the module itself, by its last name or a dotted path)?"""
    short = module.rsplit(".", 1)[-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and (module.endswith(node.module) or node.module.endswith(short)):
            if any(a.name in (name, short) and a.asname is None for a in node.names):
                return True
        elif isinstance(node, ast.Import) and any(module.endswith(a.name) for a in node.names):
            return True
    return False
