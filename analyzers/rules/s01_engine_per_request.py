"""Section 1: an engine, and so a connection pool, made anew on every request: a FastAPI dependency, a route handler or a view
that calls `create_engine` (or the project's own function that returns a new engine on every path) and neither keeps
nor disposes what it made."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

from analyzers.facts.engines import ENGINES
from analyzers.facts.model import Facts, Span
from analyzers.facts.paths import is_test_path, is_tooling_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.mentions import mentions
from analyzers.rules.s06_app_scoping import functions_in, module_tree, own_nodes
from analyzers.rules.s06_key_lookups import _route

_CACHING = ("lru_cache", "cache", "cached", "cached_property", "alru_cache", "memoize", "property")
_DEPENDS = ("Depends", "Security")
_ROUNDS = 3  # factories of factories followed this deep


@dataclass(frozen=True, slots=True)
class _Factory:
    """A function of the project that returns a new engine (or something built on one) on every path."""

    name: str
    path: str
    module: str  # its module's dotted name, as far as the path tells
    line: int  # where it makes the engine (or calls the factory it wraps)
    made: Span  # where SQLAlchemy's engine call is, followed through the factories
    call: str  # that call's name: create_async_engine
    maker: str  # the function that calls it (this one, or the factory it wraps)


@dataclass(frozen=True, slots=True)
class _Site:
    node: ast.Call
    engine: Span
    call: str
    via: _Factory | None


class EnginePerRequest(Rule):
    """An engine, and its connection pool, is made on every request and never kept or disposed.

    What it checks:
        Functions that run on every request of the serving application: FastAPI dependencies (a function named in
        `Depends(...)` or `Security(...)` anywhere in the project) and route handlers (`@router.get("/...")`,
        `@app.route("/...")`, a view given to Flask's `add_url_rule`). Reported where one calls `create_engine`, `create_async_engine`, `engine_from_config`
        or `async_engine_from_config`, or a function of the project that returns a new engine on every path (itself
        or wrapped: `return Database(create_async_engine(url))`, followed through factories of factories), and
        neither keeps it (a global, an attribute such as `app.state.engine`, a mapping, a lazy `if engine is None`,
        a cached function) nor disposes it (`engine.dispose()`, `with`/`async with` the engine). Not engines with
        `NullPool` (no pool to leak), nor another database's, nor code in tests, scripts, migrations or command-line
        tooling; factories called only at import or start-up are never seen from a request. Critical when the
        engine is made on every call of the dependency or route; a warning when only on some branch of it. A
        function of the project that makes an engine, uses it and drops it undisposed, called on every path of
        such a handler, is a warning too, reported where it makes the engine (the handler is cited).
    Why it matters:
        Each engine owns a pool. Made per request, no connection is ever reused (every request pays a new
        connection and, with TLS, a handshake), and a pool that is dropped without `dispose()` keeps its
        connections open until the garbage collector happens to reach it: under load PostgreSQL runs out of
        `max_connections` and refuses everyone, other services included.
    Example:
        async def get_engine(settings=Depends(get_settings)):
            engine = create_async_engine(settings.DB_URL)
            yield engine
    Instead:
        Make the engine once, at import or in the application's lifespan (keep it on `app.state`, or in a module
        global or an `lru_cache`d factory), dispose it at shutdown, and let the dependency hand out sessions from it.
    """

    ID = "CFG020"
    ITEM = "1.1"
    SEVERITY = Severity.CRITICAL

    _DB = '''
from sqlalchemy.ext.asyncio import create_async_engine, async_sessionmaker


class Database:
    def __init__(self, engine):
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)


def connect(url):
    engine = create_async_engine(url, pool_size=5)
    return Database(engine)
'''
    _DEPS = '''
from fastapi import Depends, FastAPI
from app.db import connect

app = FastAPI()


async def get_db(settings=Depends(get_settings)):
    {body}


@app.get("/items")
async def items(db=Depends(get_db)):
    async with db.sessions() as session:
        return await session.execute(...)
'''
    INVALID = (
        {"app/db.py": _DB, "app/api.py": _DEPS.format(body="db = connect(settings.DB_URL)\n    yield db")},
    )
    VALID = (
        {"app/db.py": _DB, "app/api.py": _DEPS.format(body="yield settings.app.state.db")},
        {"app/db.py": _DB, "app/api.py": _DEPS.format(
            body="db = connect(settings.DB_URL)\n    try:\n        yield db\n    finally:\n        await db.engine.dispose()")},
    )

    def check(self):
        self.engines: set[tuple[str, int]] = set()  # where each engine reported is made or had: engines_made_per_request
        facts = self.facts
        made = {(c.span.path, c.span.start): (c, True) for c in facts.calls
                if c.name.rsplit(".", 1)[-1] in ENGINES and not c.via and not c.database and _app_path(c.span.path)}
        # an engine imported inside the function (`from sqlalchemy import create_engine` in its body) is not linked to
        # SQLAlchemy's; _sites checks that import
        made.update({(c.span.path, c.span.start): (c, False) for m in facts.modules for c in m.calls
                     if c.name.rsplit(".", 1)[-1] in ENGINES and c.name.startswith(f"{m.module}.") and _app_path(m.path)})
        if not made:
            return
        factories = _factories(facts, made)
        depends = _depends(facts)
        paths = dict.fromkeys([*(p for p, _ in made), *(f.path for fs in factories.values() for f in fs)])
        for name, hits in mentions(facts, set(factories)).items():
            paths.update(dict.fromkeys(s.path for s, _ in hits if _app_path(s.path)))
        helpers = _helpers(facts, paths, made, factories, depends)
        for name, hits in mentions(facts, set(helpers)).items():
            paths.update(dict.fromkeys(s.path for s, _ in hits if _app_path(s.path)))
        reported: set[tuple[str, str]] = set()
        for path in paths:
            tree = module_tree(facts, path)
            if tree is None:
                continue
            imports = _imports(tree)
            for func, outer in functions_in(tree, ()):
                routes = [d for d in func.decorator_list if _route(d)]
                used = depends.get(func.name)
                if not routes and not used or _cached(func):
                    continue
                for site in _sites(func, path, made, factories, imports):
                    if not _kept_or_disposed(func, site.node):
                        self.engines.add((path, site.node.lineno))
                        yield self._finding(path, func, routes, used, site)
                for node in own_nodes(func):
                    helper = _resolve(node, path, helpers, imports) if isinstance(node, ast.Call) else None
                    if helper is not None and (helper.path, helper.name) not in reported and not _conditional(func, node):
                        reported.add((helper.path, helper.name))
                        self.engines.add((helper.made.path, helper.made.start))
                        yield self._helper_finding(path, func, routes, used, node, helper)

    def _caller(self, func, routes, used) -> tuple[str, list[tuple[Span, str]]]:
        if routes:
            return f"the route handler `{func.name}` (`@{ast.unparse(routes[0])}`)", []
        where, kind = used[0]
        said = (f"a FastAPI dependency (`Depends({func.name})` at {where.path}:{where.start})" if kind == "depends" else
                f"a view (`add_url_rule(..., view_func={func.name})` at {where.path}:{where.start})")
        return f"`{func.name}`, {said}", [(where, "used per request here")]

    def _helper_finding(self, path, func, routes, used, node: ast.Call, helper: _Factory):
        caller, related = self._caller(func, routes, used)
        how = (f"makes an engine with `{helper.call}`" if helper.maker == helper.name else
               f"makes an engine with `{helper.call}` through `{helper.maker}` ({helper.made.path}:{helper.made.start})")
        return self.finding(
            f"`{helper.name}` {how} (line {helper.line}) each time it is called, uses it and drops it without "
            f"`dispose()`, and {caller} calls it ({path}:{node.lineno}): each such request builds a new connection pool "
            "whose connections stay open until garbage collection reaches it, and none is reused. Make the engine once "
            "(at import or in the lifespan) and use it here, or dispose it before returning",
            Span(helper.path, helper.line, helper.line), f"function:{helper.path}:{helper.name}:engine-per-call",
            severity=Severity.WARNING, related=[*related, (Span(path, node.lineno, node.lineno), "called per request here")],
        )

    def _finding(self, path, func, routes, used, site: _Site):
        line = site.node.lineno
        caller, related = self._caller(func, routes, used)
        if site.via is not None:
            what = (f"calls `{ast.unparse(site.node.func)}(...)` (line {line}), the project's function that makes a new "
                    f"engine with `{site.call}` ({site.engine.path}:{site.engine.start}) each time it is called,")
            through = f", through `{site.via.name}`" if site.via.maker != site.via.name else ""
            related.append((site.engine, f"the engine made by `{site.via.maker}`{through}"))
        else:
            what = f"makes an engine with `{site.call}` (line {line})"
        branch = _conditional(func, site.node)
        when = f"on every request that takes the branch `{branch}`" if branch else "on every request"
        return self.finding(
            f"{caller} {what} {when}, and nothing keeps or disposes it: each request builds a new connection pool, "
            "no connection is reused, and the dropped pools hold their connections open until garbage collection, "
            "so under load PostgreSQL runs out of connections. Make the engine once (at import or in the lifespan) "
            "and hand out sessions from it",
            Span(path, line, line), f"function:{path}:{func.name}:engine-per-request",
            severity=Severity.WARNING if branch else None, related=related,
        )


def engines_made_per_request(facts: Facts) -> set[tuple[str, int]]:
    """(path, line) of each call that CFG020 finds makes an engine anew per request (SQLAlchemy's, or the project's
    factory where a request calls it): that pool's settings (pre-ping, sizing) matter less than that, and findings
    about them would send the reader the wrong way."""
    rule = EnginePerRequest(facts)
    for _ in rule.check():
        pass
    return rule.engines


def _app_path(path: str) -> bool:
    return not is_test_path(path) and not is_tooling_path(path)


def _callee(node: ast.Call) -> tuple[str | None, str]:
    """(the module name it is called on, or None; the function's name)."""
    f = node.func
    if isinstance(f, ast.Name):
        return None, f.id
    if isinstance(f, ast.Attribute):
        return (f.value.id if isinstance(f.value, ast.Name) else ""), f.attr
    return "", ""


def _no_pool(node: ast.Call) -> bool:
    return any(k.arg == "poolclass" and "NullPool" in ast.unparse(k.value) for k in node.keywords) or any(
        k.arg is None and "NullPool" in ast.unparse(k.value) for k in node.keywords)


def _imports(tree: ast.Module) -> dict[str, str]:
    """Names the module imports -> the module they come from (last part), and imported modules -> themselves."""
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for a in node.names:
                out[a.asname or a.name] = (node.module or "").rsplit(".", 1)[-1] or a.name
        elif isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name.rsplit(".", 1)[-1]
    return out


def _resolve(node: ast.Call, path: str, factories: dict[str, list[_Factory]], imports: dict[str, str]) -> _Factory | None:
    """The project's factory this call calls: by its name, defined in this module or imported from the factory's."""
    owner, name = _callee(node)
    for f in factories.get(name, []):
        if owner is None and (f.path == path or imports.get(name) == f.module):
            return f
        if owner and f.module in (owner, imports.get(owner)):
            return f
    return None


def _sites(func, path: str, made, factories, imports) -> Iterator[_Site]:
    for node in own_nodes(func):
        if not isinstance(node, ast.Call) or _no_pool(node):
            continue
        call, linked = made.get((path, node.lineno), (None, False))
        if call is not None and _callee(node)[1] in ENGINES and (linked or _imported_here(func, _callee(node)[1])):
            yield _Site(node, call.span, _callee(node)[1], None)
            continue
        factory = _resolve(node, path, factories, imports)
        if factory is not None:
            yield _Site(node, factory.made, factory.call, factory)


def _imported_here(func, name: str) -> bool:
    """`from sqlalchemy import create_engine` in the function's own body."""
    return any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("sqlalchemy") and
               any((a.asname or a.name) == name for a in n.names) for n in own_nodes(func))


def _factories(facts: Facts, made) -> dict[str, list[_Factory]]:
    """Functions of the application that return a new engine on every path, by name; then those that return what
    one of them returns, a few rounds deep."""
    found: dict[str, list[_Factory]] = {}
    paths = dict.fromkeys(p for p, _ in made)
    for _ in range(_ROUNDS):
        added = False
        for path, module, imports, func in _module_functions(facts, paths):
            if any(f.path == path for f in found.get(func.name, [])):
                continue
            sites = list(_sites(func, path, made, found, imports))
            if sites and all(_returns_made(func, sites)) and not any(
                    _kept_or_disposed(func, s.node) or _either(func, s.node) for s in sites):
                s = sites[0]
                via = s.via
                found.setdefault(func.name, []).append(_Factory(func.name, path, module, s.node.lineno,
                                                                via.made if via else s.engine, s.call,
                                                                via.maker if via else func.name))
                added = True
        if not added:
            break
        names = set(found)
        paths = dict.fromkeys(s.path for n, hits in mentions(facts, names).items() for s, _ in hits if _app_path(s.path))
    return found


def _returns_made(func, sites: list[_Site]) -> Iterator[bool]:
    """For each return of the function: does it return what one of the sites made (the call itself, a name bound
    to it, or an expression built from either)? No return: nothing."""
    calls = {id(s.node) for s in sites}
    names = set()
    for node in own_nodes(func):
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Call, ast.Await)) and id(_unawait(node.value)) in calls:
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    returns = [n for n in own_nodes(func) if isinstance(n, ast.Return)]
    if not returns:
        yield False
    for r in returns:
        yield r.value is not None and any(id(n) in calls or (isinstance(n, ast.Name) and n.id in names)
                                          for n in ast.walk(r.value))


def _unawait(node: ast.expr) -> ast.expr:
    return node.value if isinstance(node, ast.Await) else node


def _cached(func) -> bool:
    for d in func.decorator_list:
        d = d.func if isinstance(d, ast.Call) else d
        name = d.attr if isinstance(d, ast.Attribute) else d.id if isinstance(d, ast.Name) else ""
        if name in _CACHING:
            return True
    return False


def _parents(func) -> dict[int, ast.AST]:
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(func):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


def _kept_or_disposed(func, call: ast.Call) -> bool:
    """Is what the call makes kept beyond the call (a global, an attribute, a mapping, a lazy `is None` guard), or
    disposed of (`.dispose()` anywhere in the function, `with`/`async with` it)?"""
    parents = _parents(func)
    up = parents.get(id(call))
    while isinstance(up, ast.Await):
        up = parents.get(id(up))
    names: set[str] = set()
    if isinstance(up, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        # `_, sessions = make_engine_and_sessions()` unpacks into local names: kept no more than a plain name
        targets = [e for t in (up.targets if isinstance(up, ast.Assign) else [up.target])
                   for e in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])]
        if not all(isinstance(t, ast.Name) for t in targets):
            return True  # self.engine = ..., app.state.engine = ..., engines[key] = ...
        names = {t.id for t in targets}
    elif isinstance(up, ast.withitem):
        return True
    glob = {n for node in own_nodes(func) if isinstance(node, (ast.Global, ast.Nonlocal)) for n in node.names}
    if names & glob:
        return True
    for node in own_nodes(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dispose":
            return True
        if isinstance(node, ast.withitem) and isinstance(node.context_expr, ast.Name) and node.context_expr.id in names:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "configure" and any(
                isinstance(n, ast.Name) and n.id in names for n in ast.walk(node)):
            return True  # Session.configure(bind=engine): the session factory, made once, keeps it
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in names and not all(
                isinstance(t, ast.Name) for t in node.targets):
            return True  # app.state.engine = engine
    at = parents.get(id(call))
    while at is not None and at is not func:
        if isinstance(at, ast.If) and _lazy(at.test):
            return True
        at = parents.get(id(at))
    return False


def _either(func, call: ast.Call) -> str | None:
    """`engine or make_engine()`, `make_engine() if x else y`: the call made on one side of an expression only."""
    parents = _parents(func)
    child, at = call, parents.get(id(call))
    while at is not None and not isinstance(at, ast.stmt):
        if isinstance(at, ast.BoolOp) and child is not at.values[0] or isinstance(at, ast.IfExp) and child is not at.test:
            return ast.unparse(at)
        child, at = at, parents.get(id(at))
    return None


def _lazy(test: ast.expr) -> bool:
    """`if engine is None`, `if not self._engine`, `if key not in engines`: made once, then kept."""
    return any(isinstance(n, (ast.Is, ast.IsNot, ast.Not, ast.NotIn)) for n in ast.walk(test)) or isinstance(test, ast.UnaryOp)


def _conditional(func, call: ast.Call) -> str | None:
    """The test of the innermost `if` (or the `except`) the call is made under, within the function: None on
    every path."""
    either = _either(func, call)
    if either:
        return either
    parents = _parents(func)
    child, at = call, parents.get(id(call))
    while at is not None and at is not func:
        if isinstance(at, ast.If) and child is not at.test:
            return ("not " if child in at.orelse else "") + ast.unparse(at.test)
        if isinstance(at, ast.ExceptHandler):
            return f"except {ast.unparse(at.type) if at.type else ''}".strip()
        child, at = at, parents.get(id(at))
    return None


def _depends(facts: Facts) -> dict[str, list[tuple[Span, str]]]:
    """The functions run per request that no decorator marks: those named in `Depends(...)` / `Security(...)` and
    the views given to Flask's `add_url_rule(...)`, in the application: name -> (where, "depends" or "view")."""
    out: dict[str, list[tuple[Span, str]]] = {}
    hits = mentions(facts, {*_DEPENDS, "add_url_rule"})
    for path in dict.fromkeys(s.path for name in hits for s, _ in hits[name] if _app_path(s.path)):
        tree = module_tree(facts, path)
        for node in ast.walk(tree) if tree is not None else ():
            if not isinstance(node, ast.Call):
                continue
            callee = _callee(node)[1]
            if callee in _DEPENDS:
                given = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "dependency"), None)
            elif callee == "add_url_rule":
                given = next((k.value for k in node.keywords if k.arg == "view_func"), node.args[2] if len(node.args) > 2 else None)
            else:
                continue
            if isinstance(given, (ast.Name, ast.Attribute)):
                name = given.id if isinstance(given, ast.Name) else given.attr
                out.setdefault(name, []).append((Span(path, node.lineno, node.lineno), "depends" if callee in _DEPENDS else "view"))
    return out


def _module_functions(facts: Facts, paths):
    """(path, module's last name, its imports, function) for each module-level function not cached by a decorator."""
    for path in paths:
        tree = module_tree(facts, path)
        if tree is None:
            continue
        imports = _imports(tree)
        module = path.removesuffix(".py").rsplit("/", 1)[-1]
        for func in tree.body:
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _cached(func):
                yield path, module, imports, func


def _helpers(facts: Facts, paths, made, factories, depends) -> dict[str, list[_Factory]]:
    """Module-level functions of the application, run neither per request nor as factories, that make an engine, use
    it and drop it without keeping or disposing it: name -> where."""
    out: dict[str, list[_Factory]] = {}
    for path, module, imports, func in _module_functions(facts, paths):
        if (func.name in depends or any(_route(d) for d in func.decorator_list)
                or any(f.path == path for f in factories.get(func.name, []))):
            continue
        for s in _sites(func, path, made, factories, imports):
            if not _kept_or_disposed(func, s.node) and not any(_returns_made(func, [s])) and not _conditional(func, s.node):
                via = s.via
                out.setdefault(func.name, []).append(_Factory(func.name, path, module, s.node.lineno,
                                                              via.made if via else s.engine, s.call,
                                                              via.maker if via else func.name))
                break
    return out
