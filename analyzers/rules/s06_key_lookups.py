"""Section 6: a request handler that loads a tenant's row by the id in its path and nothing else, in a project that
otherwise scopes its reads of that table to the tenant: the id alone decides, so another tenant's id reaches its row."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterator

from analyzers.facts.model import Facts, Span
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import mapped_names
from analyzers.rules.examples_common import HEADER
from analyzers.rules.s06_app_scoping import SCOPED_SHARE, all_tenants_path, database_scopes, functions_in, own_nodes, tenant_reads, module_tree
from analyzers.rules.schema import python_paths, rls_by_table, tenant_columns

_ROUTES = frozenset(("get", "post", "put", "patch", "delete", "route", "api_route"))
_PATH_PARAM = re.compile(r"[{<](?:\w+:)?(\w+)[}>]")  # FastAPI's {id}, Flask's <int:id>
# What a check of who may see the row is named like; a handler or loader that names any of these is not judged.
_GUARDED = re.compile(r"tenant|organi[sz]|\borg\b|org_id|compan|workspace|owner|permission|authori[sz]|access|allowed|"
                      r"ensure_|verify_|check_|can_|current_user|admin|superuser", re.I)
_LOADS = frozenset(("get", "get_or_404"))
_LEAST = 2  # functions that scope their reads of the table, at the least, for the project's way to be scoping


@dataclass(frozen=True, slots=True)
class _Lookup:
    """A load of `model` by one parameter alone, at `line`; through `via` (a function of the project) or directly."""

    model: str
    param: str
    line: int
    via: tuple[str, Span] | None = None


class TenantRowByIdAlone(Rule):
    """A request handler loads a tenant's row by the id in its path alone.

    What it checks:
        Route handlers (`@router.get("/items/{item_id}")`, `@bp.route("/items/<int:item_id>")`) that load a row of a
        table carrying the tenant column (organization_id, tenant_id, org_id) by a path parameter and nothing else:
        `session.get(Model, item_id)`, `session.query(Model).get(item_id)`, `Model.query.get_or_404(item_id)`,
        `.filter(Model.id == item_id)`, `.filter_by(id=item_id)`, in the handler or in a function of the project it
        hands the id to (`Knowledge.get_from_id(session, knowledge_id)`, followed one call deep). Reported only where
        the project scopes its reads of that table: at least half of the functions that read it, and two or more,
        filter by the tenant column (the message gives the count). Not where the handler or that function names the
        tenant, an owner, a permission or access check, the current user or admin anywhere (they may check the row
        after loading it), where the route's decorator names admin or a permission, in admin code, background jobs or
        scripts, nor on a table whose Row-Level Security the migrations enable and force with a policy. Dependencies
        and middleware (a `Depends(...)` that checks, a blueprint's `before_request`) are not followed: the message
        says so.
    Why it matters:
        Ids are guessed, enumerated or leaked in URLs; a user of Organization A who sends Organization B's id gets,
        changes or deletes B's row. The checklist's question: can a user from Organization A access Organization B's
        data?
    Example:
        @router.delete("/knowledge/{knowledge_id}")
        def delete_knowledge(knowledge_id: int):
            db.session.query(Knowledge).filter(Knowledge.id == knowledge_id).delete()
    Instead:
        Load by the id and the caller's tenant together (`filter(Knowledge.id == knowledge_id,
        Knowledge.organisation_id == org.id)`), or check the loaded row's tenant against the caller's before using it.
    """

    ID = "TEN017"
    ITEM = "6.1"
    SEVERITY = Severity.WARNING

    _MODELS = HEADER + '''
class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(index=True)
'''
    _ROUTES_CODE = '''
from fastapi import APIRouter, Depends
from models import Note

router = APIRouter()

@router.get("/notes")
def notes(session, org=Depends(current_org)):
    return session.query(Note).filter(Note.organization_id == org.id).all()

@router.get("/notes/recent")
def recent(session, org=Depends(current_org)):
    return session.query(Note).filter(Note.organization_id == org.id).limit(5).all()

@router.get("/notes/{{note_id}}")
def note(session, note_id: int{extra}):
    return {load}
'''
    INVALID = ({"models.py": _MODELS, "app/routes.py": _ROUTES_CODE.format(extra="", load="session.get(Note, note_id)")},)
    VALID = (
        {"models.py": _MODELS, "app/routes.py": _ROUTES_CODE.format(
            extra=", org=Depends(current_org)",
            load="session.query(Note).filter(Note.id == note_id, Note.organization_id == org.id).one()")},
    )

    def check(self):
        facts = self.facts
        columns = tenant_columns(facts)
        if not columns:
            return
        names, reads, rls = mapped_names(facts), tenant_reads(facts), rls_by_table(facts)
        functions = _functions(facts)
        loaders = _loaders(functions)
        for path, funcs in functions.items():
            for func in funcs:
                params = _route_params(func)
                body = _body(func) if params else ""
                if not params or _GUARDED.search(body):
                    continue
                seen: set[str] = set()
                for look in _lookups(func, params, loaders):
                    tables = names.get(look.model, [])
                    table = tables[0] if len(tables) == 1 else None
                    column = next((c for c in columns if table is not None and c in table.columns), None)
                    if table is None or column is None or table.name in seen or column in body:
                        continue
                    if database_scopes(rls.get(table.name) or rls.get(table.name.lower())):
                        continue
                    scoped, read = reads.get(table.name, (set(), set()))
                    if len(scoped) < _LEAST or len(scoped) < SCOPED_SHARE * len(read):
                        continue
                    seen.add(table.name)
                    yield self._finding(path, func, look, table, column, len(scoped), len(read))

    def _finding(self, path, func, look: _Lookup, table, column: str, scoped: int, read: int):
        route = next(ast.unparse(d) for d in func.decorator_list if _route(d))
        via = f" through `{look.via[0]}` ({look.via[1].path}:{look.via[1].start})" if look.via else ""
        return self.finding(
            f"`{func.name}` (`@{route}`) loads {look.model} (table {table.name}) by `{look.param}` from the request alone "
            f"(line {look.line}{via}): nothing in it filters by {column} or compares the row's {column} with the "
            f"caller's, while {scoped} of the {read} functions that read {table.name} filter by {look.model}.{column}. "
            f"A caller who sends another tenant's id reaches that tenant's row, unless a dependency or middleware "
            "dbreview does not follow checks it",
            Span(path, look.line, look.line), f"function:{path}:{func.name}:{table.name}:key-alone",
            related=[(look.via[1], "loads it by the id alone")] if look.via else [],
        )


def _route(decorator: ast.expr) -> bool:
    return (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) and decorator.func.attr in _ROUTES
            and bool(decorator.args) and isinstance(decorator.args[0], ast.Constant) and isinstance(decorator.args[0].value, str))


def _route_params(func) -> set[str]:
    """The path parameters of a route handler's routes; none where a route's decorator names admin or a permission."""
    routes = [d for d in func.decorator_list if _route(d)]
    if any(_GUARDED.search(ast.unparse(d)) for d in routes):
        return set()
    return {p for d in routes for p in _PATH_PARAM.findall(d.args[0].value)}  # type: ignore[attr-defined]


def _body(func) -> str:
    return "\n".join(ast.unparse(stmt) for stmt in func.body)


def _functions(facts: Facts) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]:
    """The functions of each module outside admin, tooling and tests, in preorder: read once for the handlers and the
    loaders both. A module that cannot hold either is not parsed (a third of polar's)."""
    return {path: [func for func, _ in functions_in(tree, ())] for path in python_paths(facts)
            if not all_tenants_path(path) and _may_hold(facts, path) and (tree := module_tree(facts, path)) is not None}


def _may_hold(facts: Facts, path: str) -> bool:
    """Whether the module may define a route handler (a decorator's `@`) or a loader (a call of `get`, `get_or_404`,
    `filter`, `where` or `filter_by`): words a module must spell, in ASCII, to hold either (Python folds some other
    letters into ASCII names: a module with them is parsed)."""
    text = "\n".join(facts.lines(Span(path, 1, 10**9)))
    return not text.isascii() or "def" in text and any(word in text for word in ("@", "get", "filter", "where"))


def _loaders(functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]
             ) -> dict[str, list[tuple[int | None, str, str, Span]]]:
    """Functions of the project that load a row by one of their parameters alone and name no check: their name ->
    (the parameter's position after self/cls, its name, the model, where)."""
    out: dict[str, list[tuple[int | None, str, str, Span]]] = {}
    for path, funcs in functions.items():
        for func in funcs:
            if any(_route(d) for d in func.decorator_list):
                continue
            positional = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
            positional = positional[1:] if positional[:1] in (["self"], ["cls"]) else positional
            params = {*positional, *(a.arg for a in func.args.kwonlyargs)}
            # the loads first: most functions load nothing, and the check's words are looked for in the unparsed body
            looks = list(_direct(func, params)) if params else []
            if not looks or _GUARDED.search(_body(func)):
                continue
            for look in looks:
                where = positional.index(look.param) if look.param in positional else None
                out.setdefault(func.name, []).append((where, look.param, look.model, Span(path, look.line, look.line)))
    return out


def _lookups(func, params: set[str], loaders) -> Iterator[_Lookup]:
    yield from _direct(func, params)
    for node in own_nodes(func):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        found = loaders.get(name, [])
        if len(found) != 1:  # a name two functions share: which one runs is not known
            continue
        position, param, model, where = found[0]
        arg = next((k.value for k in node.keywords if k.arg == param), None)
        if arg is None and position is not None and position < len(node.args):
            arg = node.args[position]
        if isinstance(arg, ast.Name) and arg.id in params:
            yield _Lookup(model, arg.id, node.lineno, (name, where))  # type: ignore[arg-type]


def _direct(func, params: set[str]) -> Iterator[_Lookup]:
    """Loads of a model by one parameter alone in the function's own body."""
    for node in own_nodes(func):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, args = node.func.attr, node.args
        if method in _LOADS and len(args) == 2 and isinstance(args[0], ast.Name) and _given(args[1], params):
            yield _Lookup(args[0].id, args[1].id, node.lineno)  # session.get(Model, id)
        elif method in _LOADS and len(args) == 1 and _given(args[0], params) and (model := _queried(node.func.value)):
            yield _Lookup(model, args[0].id, node.lineno)  # Model.query.get(id), session.query(Model).get(id)
        elif method in ("filter", "where") and len(args) == 1 and (found := _by_id(args[0], params)):
            yield _Lookup(*found, node.lineno)
        elif method == "filter_by" and not args and len(node.keywords) == 1 and node.keywords[0].arg == "id" \
                and _given(node.keywords[0].value, params) and (model := _queried(node.func.value)):
            yield _Lookup(model, node.keywords[0].value.id, node.lineno)  # type: ignore[attr-defined]


def _given(node: ast.expr, params: set[str]) -> bool:
    return isinstance(node, ast.Name) and node.id in params


def _queried(node: ast.expr) -> str | None:
    """The model of `Model.query` or `session.query(Model)`."""
    if isinstance(node, ast.Attribute) and node.attr == "query" and isinstance(node.value, ast.Name):
        return node.value.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "query" \
            and len(node.args) == 1 and isinstance(node.args[0], ast.Name):
        return node.args[0].id
    return None


def _by_id(test: ast.expr, params: set[str]) -> tuple[str, str] | None:
    """`Model.id == param` -> (Model, param)."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) \
            and isinstance(test.left, ast.Attribute) and test.left.attr == "id" and isinstance(test.left.value, ast.Name) \
            and _given(test.comparators[0], params):
        return test.left.value.id, test.comparators[0].id  # type: ignore[attr-defined]
    return None
