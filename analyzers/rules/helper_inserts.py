"""Check-then-insert through the project's own helpers (INT013): a route calls a repository function that looks a
row up, then another that inserts one with the same values. What each helper does, and how its parameters map back
to the caller's arguments, read from the source (one level deep: the helpers themselves, not what they call)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from analyzers.facts.model import Facts, Span, TableFact
from analyzers.facts.names import Names, module_name
from analyzers.rules.code_use import app_queries
from analyzers.rules.mentions import mentions
from analyzers.rules.source_trees import source_tree

# where a helper takes a value from: ("p", param) the parameter itself, ("pa", param, attr) an attribute of it
Spec = tuple


@dataclass(frozen=True, slots=True)
class Lookup:
    """A module-level function that runs a one-row query of `table` and returns its row or a test of it."""

    path: str
    func: ast.FunctionDef | ast.AsyncFunctionDef
    q: object  # the QueryUse
    table: TableFact
    polarity: str  # "row": the row or None; "found": true when found; "absent": true when none was found
    columns: dict[str, Spec]  # attribute compared -> where the helper takes the value from


@dataclass(frozen=True, slots=True)
class Insert:
    """A module-level function that builds one row of `table` and adds it to the session."""

    path: str
    func: ast.FunctionDef | ast.AsyncFunctionDef
    line: int  # the constructor's
    sets: dict[str, Spec | None]  # attribute -> where its value comes from (None: not from a parameter)
    spread: str | None  # the parameter spread whole (`**slot.model_dump()`)


def params(func) -> list[str]:
    a = func.args
    return [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]


def _spec(node, names: set[str]) -> Spec | None:
    if isinstance(node, ast.Name) and node.id in names:
        return ("p", node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
        return ("pa", node.value.id, node.attr)
    return None


def _own_nodes(func):
    """The nodes of `func`'s body, not those of functions or classes defined inside it."""
    todo = list(func.body)
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                todo.append(child)


def _reassigned(func, names: set[str]) -> bool:
    for node in _own_nodes(func):
        targets = (node.targets if isinstance(node, ast.Assign) else [node.target]
                   if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)) else [])
        if any(isinstance(n, ast.Name) and n.id in names for t in targets for n in ast.walk(t)):
            return True
    return False


def _top_function(tree: ast.Module, line: int):
    return next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.lineno <= line <= (n.end_lineno or n.lineno)), None)


def lookups(facts: Facts, one_row: tuple[str, ...], locks) -> dict[tuple[str, str], list[Lookup]]:
    """The module-level functions of the application that look one row up by `==` on their parameters and return
    the row or a test of it, by (path, name)."""
    out: dict[tuple[str, str], list[Lookup]] = {}
    for q, table in app_queries(facts):
        if (q.statement != "select" or q.opaque_filter or q.columns_only or not q.equals or q.joined or q.own_class
                or not any(m in (*one_row, "exists") for m in q.methods) or table.unknown_bases or not q.function):
            continue
        tree = source_tree(facts, q.span.path)
        func = _top_function(tree, q.span.start) if tree is not None else None
        if func is None or func.name != q.function:
            continue
        text = "\n".join(facts.lines(Span(q.span.path, func.lineno, func.end_lineno or func.lineno)))
        if locks.search(text):
            continue
        names = set(params(func))
        if _reassigned(func, names):
            continue
        columns = _compared(func, q, names)
        polarity = _polarity(func, q)
        if columns is None or polarity is None:
            continue
        out.setdefault((q.span.path, func.name), []).append(Lookup(q.span.path, func, q, table, polarity, columns))
    return {k: v for k, v in out.items() if len(v) == 1}  # a helper with two such queries: which one decides is not told


def _compared(func, q, names: set[str]) -> dict[str, Spec] | None:
    """Each attribute the query compares with `==`, and the parameter (or its attribute) it is compared with; None
    where one is compared with anything else, or with two."""
    attrs = {e.rsplit(".", 1)[-1] for e in q.equals}
    found: dict[str, set] = {}
    for node in _own_nodes(func):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
            for side, value in ((node.left, node.comparators[0]), (node.comparators[0], node.left)):
                if isinstance(side, ast.Attribute) and side.attr in attrs and _is_model(side.value, q.model):
                    found.setdefault(side.attr, set()).add(_spec(value, names))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "filter_by":
            for kw in node.keywords:
                if kw.arg in attrs:
                    found.setdefault(kw.arg, set()).add(_spec(kw.value, names))
    if set(found) != attrs or any(len(v) != 1 or None in v for v in found.values()):
        return None
    return {a: next(iter(v)) for a, v in found.items()}


def _is_model(node, model: str) -> bool:
    last = model.rsplit(".", 1)[-1]
    return (isinstance(node, ast.Name) and node.id == last) or (isinstance(node, ast.Attribute) and node.attr == last)


def _polarity(func, q) -> str | None:
    """What every return of the helper gives: the row ("row"), True when found ("found"), True when none was found
    ("absent"); None where the returns disagree or give something else."""
    bound = set(q.instances)
    exists = "exists" in q.methods  # `session.query(q.exists()).scalar()`: True when found

    def runs(node) -> bool:  # the query itself, run where it is returned
        return isinstance(node, ast.Call) and node.lineno <= q.span.start <= (node.end_lineno or node.lineno) and not bound

    seen: set[str] = set()
    for node in _own_nodes(func):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return None
        if not isinstance(node, ast.Return):
            continue
        v = node.value
        if v is None or isinstance(v, ast.Constant) and v.value is None:
            seen.add("none")
        elif isinstance(v, ast.Name) and v.id in bound:
            seen.add("row")
        elif (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "bool" and len(v.args) == 1
              and runs(v.args[0])):
            seen.add("found")  # `return bool(session.query(...).first())`
        elif runs(v):
            seen.add("found" if exists else "row")  # `return session.query(...).filter(...).first()`
        elif exists:
            return None
        elif (isinstance(v, ast.Compare) and len(v.ops) == 1 and runs(v.left)
              and isinstance(v.comparators[0], ast.Constant) and v.comparators[0].value is None):
            seen.add("found" if isinstance(v.ops[0], (ast.IsNot, ast.NotEq)) else "absent")
        elif (isinstance(v, ast.Compare) and len(v.ops) == 1 and isinstance(v.left, ast.Name) and v.left.id in bound
              and isinstance(v.comparators[0], ast.Constant) and v.comparators[0].value is None):
            seen.add("found" if isinstance(v.ops[0], (ast.IsNot, ast.NotEq)) else "absent")
        elif (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "bool" and len(v.args) == 1
              and isinstance(v.args[0], ast.Name) and v.args[0].id in bound):
            seen.add("found")
        elif isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.Not) and isinstance(v.operand, ast.Name) and v.operand.id in bound:
            seen.add("absent")
        else:
            return None
    kinds = seen - {"none"}
    if len(kinds) != 1 or ("none" in seen and kinds != {"row"}):
        return None
    return next(iter(kinds))


def insert_of(facts: Facts, path: str, func, table: TableFact, guards) -> Insert | None:
    """What `func` inserts of `table`: one constructor of its model, outside loops, bound to a name (or given
    directly) that the function adds to a session; None where it builds none, several, or meets a refused insert."""
    text = "\n".join(facts.lines(Span(path, func.lineno, func.end_lineno or func.lineno)))
    if any(guards.search(line.partition("#")[0]) for line in text.splitlines()):
        return None
    if any(q.function == func.name and q.span.path == path and t.name == table.name for q, t in app_queries(facts)):
        return None  # it looks the row up itself: INT013 reads it in one function
    names = set(params(func))
    if _reassigned(func, names):
        return None
    parents = {child: node for node in (func, *_own_nodes(func)) for child in ast.iter_child_nodes(node)}
    built = [n for n in _own_nodes(func) if isinstance(n, ast.Call) and _is_model(n.func, table.class_name)]
    if len(built) != 1 or built[0].args:
        return None
    call = built[0]
    up = parents.get(call)
    while up is not None:
        if isinstance(up, (ast.For, ast.AsyncFor, ast.While, ast.comprehension, ast.ListComp, ast.SetComp,
                           ast.GeneratorExp, ast.DictComp, ast.Try)):
            return None
        up = parents.get(up)
    sets: dict[str, Spec | None] = {}
    spread = None
    for kw in call.keywords:
        if kw.arg:
            sets[kw.arg] = _spec(kw.value, names)
            continue
        v = kw.value
        if (isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr in ("dict", "model_dump")
                and not v.args and not v.keywords and isinstance(v.func.value, ast.Name) and v.func.value.id in names):
            spread = v.func.value.id
        else:
            return None
    holder = parents.get(call)
    obj = None
    if isinstance(holder, ast.Assign) and len(holder.targets) == 1 and isinstance(holder.targets[0], ast.Name):
        obj = holder.targets[0].id
    elif not (isinstance(holder, ast.Call) and isinstance(holder.func, ast.Attribute) and holder.func.attr == "add"):
        return None
    if obj is not None:
        if sum(1 for n in _own_nodes(func) if isinstance(n, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == obj for t in n.targets)) != 1:
            return None
        if not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "add" and n.args
                   and isinstance(n.args[0], ast.Name) and n.args[0].id == obj for n in _own_nodes(func)):
            return None
        later = sorted((n for n in _own_nodes(func) if getattr(n, "lineno", 0) > call.lineno), key=lambda n: n.lineno)
        for n in later:
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == obj:
                        sets[t.attr] = _spec(n.value, names)
            elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr" and len(n.args) == 3
                  and isinstance(n.args[0], ast.Name) and n.args[0].id == obj):
                key = n.args[1].value if isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str) else None
                if key is None:
                    return None  # an attribute set by a name dbreview does not know
                sets[key] = _spec(n.args[2], names)
    return Insert(path, func, call.lineno, sets, spread)


def bind(call: ast.Call, func) -> dict[str, ast.expr] | None:
    """The caller's argument for each parameter `call` gives (positional and keyword); None where it cannot be told."""
    a = func.args
    positional = [p.arg for p in (*a.posonlyargs, *a.args)]
    if any(isinstance(x, ast.Starred) for x in call.args) or any(kw.arg is None for kw in call.keywords):
        return None
    if len(call.args) > len(positional) and a.vararg is None:
        return None
    out = dict(zip(positional, call.args))
    allowed = set(positional[len(a.posonlyargs):]) | {p.arg for p in a.kwonlyargs}
    for kw in call.keywords:
        if kw.arg not in allowed or kw.arg in out:
            return None
        out[kw.arg] = kw.value
    return out


def given(spec: Spec | None, binding: dict[str, ast.expr]) -> str | None:
    """The caller's expression a helper's value stands for, dumped; None where not known."""
    if spec is None or spec[1] not in binding:
        return None
    arg = binding[spec[1]]
    if spec[0] == "p":
        return ast.dump(arg)
    return ast.dump(ast.Attribute(value=arg, attr=spec[2], ctx=ast.Load()))


def caller_paths(facts: Facts, names: set[str]) -> list[str]:
    """The application's files (not tests, scripts or migrations) that name one of `names`."""
    return sorted({span.path for hits in mentions(facts, names).values() for span, _ in hits})


class Resolver:
    """Calls resolved to module-level functions of the project, through the calling module's imports."""

    def __init__(self, facts: Facts):
        self.facts = facts
        self.modules = list(facts.modules)
        self.names: dict[str, Names] = {}

    def _module(self, dotted: str):
        hits = [m for m in self.modules if m.module == dotted or m.module.endswith("." + dotted)
                or dotted.endswith("." + m.module)]
        exact = [m for m in hits if m.module == dotted]
        hits = exact or hits
        return hits[0] if len(hits) == 1 else None

    def _names(self, path: str, tree: ast.Module) -> Names:
        if path not in self.names:
            module, package = module_name(path)
            self.names[path] = Names(tree, module, package)
        return self.names[path]

    def resolve(self, path: str, tree: ast.Module, call: ast.Call):
        """(path, function def) of the module-level function `call` calls, or None."""
        chain: list[str] = []
        node = call.func
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        chain.append(node.id)
        chain.reverse()
        imports = self._names(path, tree).imports
        if len(chain) == 1 and chain[0] not in imports:
            defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == chain[0]]
            return (path, defs[0]) if len(defs) == 1 else None
        if chain[0] not in imports:
            return None
        dotted = ".".join([imports[chain[0]], *chain[1:]])
        mod, _, name = dotted.rpartition(".")
        target = self._module(mod) if mod else None
        if target is None:
            return None
        other = source_tree(self.facts, target.path)
        if other is None:
            return None
        defs = [n for n in other.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
        return (target.path, defs[0]) if len(defs) == 1 else None
