"""Section 6: tenants kept apart by the application's own queries (a filter on the tenant column), as most backends
do, rather than by Row-Level Security: a read whose tenant filter depends on an optional argument."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterator

from analyzers.facts.model import Facts, Span, TableFact
from analyzers.facts.paths import is_test_path, is_tooling_path
from analyzers.facts.walk import children
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import app_queries
from analyzers.rules.examples_common import HEADER
from analyzers.rules.mentions import mentions
from analyzers.rules.schema import Rls, rls_by_table, tenant_columns
from analyzers.rules.source_trees import python_tree

# The project scopes its reads of a table when at least this share of the functions that read it filter by its
# tenant column, and at least _LEAST of them do: below that, an unscoped read may be the design, not a slip.
SCOPED_SHARE = 0.5
_LEAST = 3
# Where reading every tenant's rows is the purpose: an admin's or superuser's view, a background job, a command.
_ALL_TENANTS_PATHS = ("admin", "superuser", "jobs", "job", "tasks", "workers", "worker", "cron", "celery", "scripts",
                      "internal")
_ALL_TENANTS_NAMES = ("admin", "superuser", "_all_", "every_org", "global")  # get_all_enabled_schedules
_NARROWS = ("where", "filter", "filter_by")
# What a call that checks or narrows to the caller's tenant is named like.
_CHECKS = re.compile(r"check|filter|authori|permi|access|allow|visib|valid|ensure|verify|scope|own", re.I)
# Parameters that carry the caller's tenant, besides the tenant column's own name.
_TENANT_HOLDERS = frozenset(("actor", "current_user", "tenant", "organization", "org", "organization_id", "org_id",
                             "tenant_id"))


@dataclass(frozen=True, slots=True)
class _Optional:
    """A read of `model` narrowed to the tenant only under `if <param>:`."""

    function: str
    param: str
    holder: str  # the function whose parameter it is: `function` or one it is defined in (a closure)
    model: str
    line: int  # the `if`
    query_line: int  # where the query is built
    filter_line: int
    position: int | None  # the parameter's among the positional ones after self or cls (None: keyword-only)
    # Not a tenant filter in the branch but the caller's tenant handed to a check there, the query narrowed to
    # `param` beside it and never filtered by the tenant: (the tenant's parameter, the call, its line).
    handed: tuple[str, str, int] | None = None
    selected: str = ""  # the class the query selects, where the tenant filter is on another joined to it


class TenantFilterOnlyWhenGiven(Rule):
    """A query of a tenant's table is scoped to the tenant only when an optional argument is given.

    What it checks:
        Tables that carry the tenant column (organization_id or organisation_id, tenant_id, org_id; else the foreign key to an
        organization-like table that much of the schema carries), where the project scopes its reads by it:
        at least half of the functions that read the table, and three or more, filter by that column (the message
        gives the count). A function that builds a query of such a table and adds the tenant filter only inside
        `if org_id:` (or `if org_id is not None:`) on an argument that defaults to None; or that, only inside
        `if project_id:`, narrows the query to that argument and hands the caller's tenant (`actor`,
        `current_user`, `org_id`) to a check, never filtering by the tenant column (the tenant is handed elsewhere
        only after the query is built, to calls that are not named like a check or a filter). In both, nothing
        else in the function filters by or compares the tenant column, and no guard rejects the missing argument:
        called without it, the same query reads every tenant's rows. A warning where a call of the function in the
        project leaves the argument out (cited); info where no call was read or the calls leaving it out are in
        admin code or background jobs; nothing where every call passes it. Not in
        admin or superuser code, background jobs, commands and scripts, nor in functions named for all rows
        (`get_all_schedules`), where reading every tenant may be the purpose; not on tables without the tenant
        column, nor on tables whose Row-Level Security the migrations enable and force with a policy (the database
        keeps the other tenants' rows out). Calls are found by the function's name: where the project defines two functions of that name,
        their calls are not told apart (info).
    Why it matters:
        A caller that forgets the argument (or a new endpoint that passes a value that is None for some users)
        gets no error and no empty result, but Organization B's rows: the isolation rests on every caller
        remembering an optional keyword. The checklist's question: can a user from Organization A access
        Organization B's data?
    Example:
        def list_invoices(session, customer_id, org_id=None):
            stmt = select(Invoice).where(Invoice.customer_id == customer_id)
            if org_id:
                stmt = stmt.where(Invoice.organization_id == org_id)
            return session.scalars(stmt).all()
    Instead:
        Make the tenant a required argument and filter by it on every path; where a path must read every tenant
        (an admin's report), give it its own function named for that, so that the unscoped read is a choice a
        reviewer can see.
    """

    ID = "TEN016"
    ITEM = "6.1"
    SEVERITY = Severity.WARNING

    _MODELS = HEADER + '''
class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(index=True)
    customer_id: Mapped[int]
'''
    _SCOPED = '''
from sqlalchemy import select
from models import Invoice

def get_invoice(session, invoice_id, org_id):
    return session.scalars(select(Invoice).where(Invoice.id == invoice_id, Invoice.organization_id == org_id)).one()

def unpaid(session, org_id):
    return session.scalars(select(Invoice).where(Invoice.organization_id == org_id)).all()

def for_customer(session, customer_id, org_id=None):
    stmt = select(Invoice).where(Invoice.customer_id == customer_id)
{branch}
    return session.scalars(stmt).all()
'''
    _OPTIONAL = "    if org_id:\n        stmt = stmt.where(Invoice.organization_id == org_id)"
    INVALID = ({"models.py": _MODELS, "app/invoices.py": _SCOPED.format(branch=_OPTIONAL)},)
    VALID = (
        # the tenant is required: the filter is on every path
        {"models.py": _MODELS, "app/invoices.py": _SCOPED.format(branch="    stmt = stmt.where(Invoice.organization_id == org_id)")},
        # a missing tenant is refused before the query runs
        {"models.py": _MODELS, "app/invoices.py": _SCOPED.format(
            branch="    if org_id is None:\n        raise PermissionError('no organization')\n" + _OPTIONAL)},
        # an admin's view of every organization
        {"models.py": _MODELS, "app/admin/invoices.py": _SCOPED.format(branch=_OPTIONAL)},
    )

    def check(self):
        facts = self.facts
        if not tenant_columns(facts):
            return
        reads = tenant_reads(facts)
        rls = rls_by_table(facts)
        for path, models in _modules(facts).items():
            tree = module_tree(facts, path)
            if tree is None:
                continue
            for found in _optional_scopes(tree, models):
                table, column = models[found.model]
                if database_scopes(rls.get(table.name) or rls.get(table.name.lower())):
                    continue
                scoped, read = reads[table.name]
                if len(scoped) < _LEAST or len(scoped) < SCOPED_SHARE * len(read):
                    continue
                callers = _callers(_calls(facts, found), found.holder)
                if callers is None:
                    continue
                said, severity, without = callers
                if found.handed:
                    tenant, callee, at = found.handed
                    what = (f"`{found.function}` checks the caller's tenant (`{tenant}`, handed to `{callee}` at line {at}) "
                            f"only when `{found.param}` is given (line {found.line}), and never filters {found.model} "
                            f"(table {table.name}) by {column}")
                else:
                    what = (f"`{found.function}` filters {found.model} (table {table.name}) by {column} only when "
                            f"`{found.param}` is given (line {found.line})")
                yield self.finding(
                    f"{what}; without it the query {f'of {found.selected} ' if found.selected else ''}built at line "
                    f"{found.query_line} is not scoped to a tenant: {said}. "
                    f"The project scopes its reads of {table.name}: {len(scoped)} of {len(read)} functions that read "
                    f"it filter by {found.model}.{column}. " + (
                        f"Filter by {found.model}.{column} on every path, or refuse a missing `{found.param}`."
                        if found.handed else f"Make `{found.param}` required, or refuse None before the query."),
                    Span(path, found.line, found.filter_line), f"function:{path}:{found.function}:{table.name}:tenant-optional",
                    severity=severity,
                    related=[(Span(path, found.query_line, found.query_line), "the query, unscoped on the other path"),
                             *((where, note) for where, note in without[:10])],
                )


def database_scopes(state: Rls | None) -> bool:
    """Row-Level Security enabled, forced and with a policy: the database keeps other tenants' rows out whatever the
    query says (whether the policy looks at the tenant is TEN003's and TEN004's to say)."""
    return state is not None and state.enabled is not None and state.forced is not None and bool(state.policies)


def _callers(calls: list[tuple[Span, str, bool]] | None, holder: str) -> tuple[str, Severity, list[tuple[Span, str]]] | None:
    """What the calls of the function say: a warning where one leaves the argument out (outside admin code and
    background jobs, which may read every tenant on purpose); info where those calls are all there are, or the calls
    are not known; None where every call passes it. The text, the severity, those calls."""
    if calls is None:
        return (f"dbreview does not tell the calls of `{holder}` from those of other functions of that name; a caller "
                f"that leaves it out gets every tenant's rows"), Severity.INFO, []
    without = [(where, note) for where, note, passes in calls if not passes]
    meant = [w for w in without if all_tenants_path(w[0].path)]
    unmeant = [w for w in without if not all_tenants_path(w[0].path)]
    if unmeant:
        first = unmeant[0][0]
        said = (f"{len(unmeant)} of the {len(calls)} calls of `{holder}` leave it out" if len(calls) > 1
                else f"the one call of `{holder}` leaves it out") + (
            f" ({first.path}:{first.start}{' and more' if len(unmeant) > 1 else ''})")
        return said, Severity.WARNING, unmeant
    if meant:
        first = meant[0][0]
        return (f"the calls of `{holder}` that leave it out are in admin code or background jobs ({first.path}:"
                f"{first.start}), which may read every tenant on purpose, but a request path that leaves it out gets "
                f"every tenant's rows"), Severity.INFO, meant
    if calls:
        return None  # every call passes it: nothing reads every tenant today
    return (f"no call of `{holder}` in the project was read; a caller that leaves it out gets every tenant's rows",
            Severity.INFO, [])


def tenant_reads(facts: Facts) -> dict[str, tuple[set[tuple[str, str]], set[tuple[str, str]]]]:
    """Tenant table -> (the functions that read it filtering by its tenant column, all the functions that read it),
    each (path, function name)."""
    columns = tenant_columns(facts)
    out: dict[str, tuple[set[tuple[str, str]], set[tuple[str, str]]]] = {}
    for q, table in app_queries(facts):
        column = _tenant_column(table, columns)
        if column is None:
            continue
        scoped, read = out.setdefault(table.name, (set(), set()))
        where = (q.span.path, q.function)
        read.add(where)
        if any(f.rpartition(".")[2] == column for f in q.filtered) or any(
                column in (a.rpartition(".")[2], b.rpartition(".")[2]) for a, b in q.equated):
            scoped.add(where)
    return out


def _tenant_column(table: TableFact, columns: tuple[str, ...]) -> str | None:
    return next((c for c in columns if c in table.columns), None)


def _modules(facts: Facts) -> dict[str, dict[str, tuple[TableFact, str]]]:
    """The application's modules that read a tenant table filtering by its tenant column -> the names their queries
    call those tables by -> (the table, its tenant column)."""
    columns = tenant_columns(facts)
    out: dict[str, dict[str, tuple[TableFact, str]]] = {}
    for q, table in app_queries(facts):
        column = _tenant_column(table, columns)
        path = q.span.path
        if column is None or all_tenants_path(path) or "." in q.model:
            continue
        if any(f.rpartition(".")[2] == column for f in q.filtered):
            out.setdefault(path, {})[q.model] = (table, column)
    return out


def all_tenants_path(path: str) -> bool:
    return is_test_path(path) or is_tooling_path(path) or any(
        p in _ALL_TENANTS_PATHS or p.startswith(("admin", "superuser")) for p in path.lower().replace(".py", "").split("/"))


def module_tree(facts: Facts, path: str) -> ast.Module | None:
    """The module's tree in any Python syntax, shared by every rule of the scan (source_trees); None where it does
    not parse."""
    try:
        tree = python_tree(facts, path)
    except (SyntaxError, ValueError, RecursionError):
        return None
    return tree if isinstance(tree, ast.Module) else None


def _calls(facts: Facts, found: _Optional) -> list[tuple[Span, str, bool]] | None:
    """The application's calls of the function by its name: (where, a note, whether it passes the argument by
    keyword, by position, or with **kwargs). None where the project defines two functions of that name, or the name is
    one word (`fetch`, `get`: a library's methods have it too): their calls are not told apart."""
    if "_" not in found.holder.strip("_"):
        return None
    out, defined = [], 0
    for path in dict.fromkeys(span.path for span, _ in mentions(facts, {found.holder})[found.holder]):
        tree = module_tree(facts, path)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == found.holder:
                defined += 1
            if not isinstance(node, ast.Call) or _callee(node) != found.holder:
                continue
            # `obj.method(a, b)`: the arguments after self, as the position counts them
            passes = (found.position is not None and len(node.args) > found.position) or any(
                k.arg in (found.param, None) for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args)
            out.append((Span(path, node.lineno, node.end_lineno or node.lineno),
                        f"called without `{found.param}`", passes))
    return out if defined <= 1 else None


def _optional_scopes(tree: ast.Module, models: dict[str, tuple[TableFact, str]]) -> Iterator[_Optional]:
    for func, outer in functions_in(tree, ()):
        if any(word in f"_{func.name.lower()}_" for word in _ALL_TENANTS_NAMES) or any(
                word in ast.unparse(d).lower() for d in func.decorator_list for word in ("admin", "superuser")):
            continue
        optional = _optional_params(func) | {p for f in outer for p in _optional_params(f) if p not in _params(func)}
        if not optional:
            continue
        body = list(own_nodes(func))
        for node in body:
            if not isinstance(node, ast.If) or node.orelse:
                continue
            param = _tested(node.test)
            if param not in optional:
                continue
            narrowed = _narrowed(node, param, models)
            built = _built_from(body, narrowed[0][0], node.lineno) if narrowed else None
            if built is None:
                continue
            query_line, built_model = built
            narrowed = [(stmt, model or built_model, attr, line) for stmt, model, attr, line in narrowed]
            # the tenant filter may be on a table joined to the one selected (`select(Ticket).join(Booking)`)
            scoped = [n for n in narrowed if n[1] in models and n[2] == models[n[1]][1]]
            model = scoped[0][1] if scoped else built_model
            if model not in models:
                continue
            column = models[model][1]
            handed = None
            if not scoped:
                narrowed = [n for n in narrowed if n[1] == model]
                handed = _handed_only_here(func, body, node, param, narrowed[0][0]) if narrowed else None
                if handed is None:
                    continue
            stmt, _, _, filter_line = (scoped or narrowed)[0]
            inside = {id(n) for n in ast.walk(node)} if scoped else set()
            if any(id(n) not in inside and _names_column(n, column) for n in body):
                continue  # scoped elsewhere too, or an ownership check on the column
            if _refused(body, param) or not _used_after(body, stmt, node):
                continue
            holder = next(f for f in (func, *reversed(outer)) if param in _params(f))
            positional = [p.arg for p in (*holder.args.posonlyargs, *holder.args.args)]
            bound = bool(positional) and positional[0] in ("self", "cls")
            position = positional.index(param) - bound if param in positional else None
            yield _Optional(func.name, param, holder.name, model, node.lineno, query_line, filter_line, position, handed,
                            built_model if built_model != model else "")


_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)  # the nodes a def can be under


def functions_in(node: ast.AST, outer: tuple) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, tuple]]:
    """Each function under `node` in preorder, with the functions around it. A def is a statement, so only statements
    (and the handlers and cases that hold them) are entered, never an expression; and a stack, not nested generators,
    whose every value passes through one generator per level of the tree (TEN017 reads every module)."""
    todo = [(child, outer) for child in reversed(children(node)) if isinstance(child, _HOLDS_STATEMENTS)]
    while todo:
        child, around = todo.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield child, around
            around = (*around, child)
        todo.extend([(grandchild, around) for grandchild in reversed(children(child))
                     if isinstance(grandchild, _HOLDS_STATEMENTS)])


def own_nodes(func: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of the functions and classes it defines."""
    todo = children(func)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        todo.extend(children(node))


def _params(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    a = func.args
    return {p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]}


def _optional_params(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The parameters that default to None."""
    a = func.args
    positional = [*a.posonlyargs, *a.args]
    pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults)) + list(zip(a.kwonlyargs, a.kw_defaults))
    return {p.arg for p, d in pairs if isinstance(d, ast.Constant) and d.value is None}


def _tested(test: ast.AST) -> str | None:
    """`if x:`, `if x is not None:`, `if x != None:` -> x."""
    if isinstance(test, ast.Name):
        return test.id
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.IsNot, ast.NotEq))
            and isinstance(test.left, ast.Name) and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None):
        return test.left.id
    return None


def _narrowed(branch: ast.If, param: str, models: dict[str, tuple[TableFact, str]]) -> list[tuple[str, str, str, int]]:
    """The branch's `stmt = stmt.where(Model.attr == <param>)` statements: (stmt, Model, attr, the line)."""
    out = []
    for assign in branch.body:
        if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Name)):
            continue
        stmt, call = assign.targets[0].id, assign.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _NARROWS
                and isinstance(call.func.value, ast.Name) and call.func.value.id == stmt):
            continue
        if call.func.attr == "filter_by":  # the model is the one the statement was built from
            out += [(stmt, "", k.arg, assign.lineno) for k in call.keywords if k.arg and _mentions(k.value, param)]
        for node in (n for arg in call.args for n in ast.walk(arg)):
            if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
                for side, other in ((node.left, node.comparators[0]), (node.comparators[0], node.left)):
                    if (isinstance(side, ast.Attribute) and isinstance(side.value, ast.Name) and side.value.id in models
                            and _mentions(other, param)):
                        out.append((stmt, side.value.id, side.attr, assign.lineno))
    return out


def _handed_only_here(func: ast.AST, body: list[ast.AST], branch: ast.If, param: str, stmt: str) -> tuple[str, str, int] | None:
    """A parameter that carries the caller's tenant (`actor`, `org_id`), handed to a call inside the branch and
    elsewhere only to calls made once the query is built that do not sound like a check or a filter (a
    post-processing step): (the parameter, the call in the branch, its line)."""
    built = max((n.lineno for n in body if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == stmt for t in n.targets)), default=branch.lineno)
    calls = {id(a): n for n in body if isinstance(n, ast.Call) for a in [*n.args, *(k.value for k in n.keywords)]}
    guarded = {id(n) for b in body if isinstance(b, ast.If) and _tested(b.test) == param for n in ast.walk(b)}
    for tenant in sorted(_params(func) & _TENANT_HOLDERS):  # type: ignore[arg-type]
        handed = next((n for n in ast.walk(branch) if isinstance(n, ast.Call) and any(
            isinstance(a, ast.Name) and a.id == tenant for a in [*n.args, *(k.value for k in n.keywords)])), None)
        if handed is None:
            continue
        if all(id(n) in guarded or _afterwards(calls.get(id(n)), built) for n in body
               if isinstance(n, ast.Name) and n.id == tenant):
            return tenant, _callee(handed), handed.lineno
    return None


def _afterwards(call: ast.Call | None, built: int) -> bool:
    return call is not None and call.lineno > built and not _CHECKS.search(_callee(call))


def _callee(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "a call")


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _names_column(node: ast.AST, column: str) -> bool:
    """`X.org_id` (a filter, an ownership check) or `filter_by(org_id=...)`; not `helper(org_id=org_id)`."""
    return (isinstance(node, ast.Attribute) and node.attr == column) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "filter_by"
        and any(k.arg == column for k in node.keywords))


def _refused(body: list[ast.AST], param: str) -> bool:
    """`if param is None: raise ...` (or return, or `if not param:`), `assert param`: the unscoped path never runs."""
    for node in body:
        if isinstance(node, ast.Assert) and _mentions(node.test, param):
            return True
        if isinstance(node, ast.If) and _mentions(node.test, param) and node.body and isinstance(
                node.body[-1], (ast.Raise, ast.Return)) and _tested(node.test) is None:
            return True
    return False


def _built_from(body: list[ast.AST], stmt: str, before: int) -> tuple[int, str] | None:
    """Where `stmt` is first bound to a query of a class (select(Model), session.query(Model)) before the branch, and
    the class's name."""
    found = []
    for node in body:
        if isinstance(node, ast.Assign) and node.lineno < before and any(
                isinstance(t, ast.Name) and t.id == stmt for t in node.targets):
            for n in ast.walk(node.value):
                if isinstance(n, ast.Call) and _callee(n) in ("select", "query") and n.args and isinstance(
                        n.args[0], ast.Name):
                    found.append((node.lineno, n.args[0].id))
    return min(found) if found else None


def _used_after(body: list[ast.AST], stmt: str, branch: ast.If) -> bool:
    end = branch.end_lineno or branch.lineno
    return any(isinstance(n, ast.Name) and n.id == stmt and isinstance(n.ctx, ast.Load) and n.lineno > end for n in body)
