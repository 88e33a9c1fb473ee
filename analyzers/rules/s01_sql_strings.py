"""Section 1, SQL sent from strings: values formatted into SQL text, followed to where they come from
(analyzers/facts/flow.py). A request's value is an injection; a constant, an enum member, a number, a
validated or quoted name is not."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from analyzers.facts.flow import RISK, Flow, annotated_class
from analyzers.facts.names import Names, last
from analyzers.facts.strings import constant_env
from analyzers.facts.model import Hole, ListenerFact, Span, SqlUse
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers import confine
from analyzers.rules.schema import is_test_path, is_tooling_path, python_paths
from analyzers.rules.source_trees import file_tree

_SQL_START = re.compile(
    r"^\s*(?:--[^\n]*\n\s*)*\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|SET|GRANT|REVOKE|TRUNCATE|COPY|"
    r"VACUUM|ANALYZE|REFRESH|COMMENT|DO|LOCK|EXPLAIN|CALL|SHOW|RESET|DECLARE|LISTEN|NOTIFY|MERGE|UPSERT|REINDEX|"
    r"CLUSTER|PREPARE|EXECUTE|DISCARD|VALUES|TABLE)\b",
    re.I,
)

_ADVICE = {
    "identifier": "it names a table, column or schema, which a bound parameter cannot: quote it (the dialect's "
                  "identifier preparer, psycopg's sql.Identifier) or check it against a fixed list first",
    "value": "pass it as a bound parameter (:name, with its value given apart)",
    "sql": "build the clause with SQLAlchemy constructs (select(), column(), and_()) or pick it from a fixed "
           "list of clauses",
    "statement": "no construct or bound parameter stands in for a statement: where callers pass SQL from users on "
                 "purpose, what confines it is the connection it runs on (a read-only role, a statement timeout) and "
                 "what is checked before it runs: check those",
}
_ROLE = {"identifier": "an identifier", "value": "a value", "sql": "a piece of the statement",
         "statement": "the whole statement run (SQL the function is given, not a piece spliced into its own)"}


def risky(use: SqlUse, facts) -> list[Hole]:
    """The values spliced into `use` whose source is not known to be safe, worst first (of two as bad, the one
    that does not rest on a helper dbreview could not read)."""
    found = [h for h in use.holes if h.source in RISK or (h.password and h.source not in ("constant", "typed"))]
    found = [h for h in (settle(facts, use, h) for h in found) if h is not None]
    return sorted(found, key=lambda h: (RISK.index(h.source) if h.source in RISK else len(RISK), bool(h.via)))


def hole_severity(hole: Hole, *, migration: bool = False) -> Severity | None:
    """Critical from a request. Elsewhere in the application: a warning for a value from a source that could
    not be followed (info for an identifier, which code usually picks, and for a piece of SQL, whose nature we
    cannot tell), info from the database or an attribute of the object, none from configuration. A whole statement
    run as given (`EXPLAIN {sql}`) from anywhere but the request is info. A migration takes no request: only a value from the database or
    from an unfollowed source written into the statement (which a quote in it breaks) is reported, as info.
    A password written into DDL is a warning, info from configuration or in a migration."""
    if hole.source == "request":
        return Severity.CRITICAL
    if hole.password:
        return Severity.INFO if migration or hole.source in ("configuration", "stored") else Severity.WARNING
    if hole.role == "statement" and not migration:
        return Severity.INFO if hole.source in RISK and hole.source != "configuration" else None
    if migration:
        return Severity.INFO if hole.role == "value" and hole.source in ("unknown", "stored") else None
    if hole.source == "unknown":
        return Severity.WARNING if hole.role == "value" and not hole.via else Severity.INFO
    if hole.source in ("partial", "object", "stored"):
        return Severity.INFO
    return None  # configuration: the operator's, not a user's


def explain(hole: Hole, sets_setting: bool = False, text: str | None = None) -> str:
    """`x` is an identifier; where it comes from; what to do instead. `text`: the statement, placeholders and all."""
    advice = _ADVICE[hole.role]
    if sets_setting and hole.role == "value":
        advice = "SET takes no bound parameters: use SELECT set_config('<setting>', :value, true) instead"
    if hole.role == "identifier" and text and f'"{{{hole.expr}}}"' in text:
        advice = ("it is written between double quotes, but a `\"` inside it is not doubled: a name holding one ends "
                  "the identifier there: escape it (the dialect's identifier preparer, psycopg's sql.Identifier) or "
                  "check it against a fixed list first")
    text = f"`{hole.expr}` is {_ROLE[hole.role]} and {hole.why}: {advice}"
    if hole.password:
        text += ("; a password written into DDL also lands in the server's statement log and in "
                 "pg_stat_statements, and a quote in it breaks the statement")
    return text


def helper_safe(facts, path: str, qualname: str) -> bool | None:
    """Is what the function `qualname`, imported by the module at `path`, returns safe (followed through
    re-exports to where the target defines it): quoted, or safe on every path it returns, followed within its
    own module (flow.Flow.safe_returns)? None: it could not be read (a library's, or bound to something other
    than a `def`)."""
    symbols = facts.derived.get("symbols")
    by_path = facts.derived.setdefault("modules_by_path", {m.path: m for m in facts.modules})
    if symbols is None or path not in by_path or "." not in qualname:
        return None
    found = symbols.function(qualname, by_path[path].module)
    if found is None:
        return None
    module, name = found
    if name in module.quoting:
        return True
    flow = _module_flow(facts, module.path, module.module)
    func = flow and next((n for n in flow.tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                          and n.name == name), None)
    return func is not None and flow.safe_returns(func)


def _module_flow(facts, path: str, module: str) -> Flow | None:
    """The flow of the module at `path`, built once a scan from its tree (_module_tree)."""
    flows = facts.derived.setdefault("helper_flows", {})
    if path not in flows:
        tree = _module_tree(facts, path)
        flows[path] = tree and Flow(tree, Names(tree, module, path.endswith("__init__.py")), constant_env(tree.body))
    return flows[path]


def _module_tree(facts, path: str) -> ast.Module | None:
    """A module of the target read again and parsed once a scan (source_trees, shared with the other rules), in any
    Python syntax (the extraction keeps facts, not trees): the helpers and classes other modules' SQL goes through."""
    trees = facts.derived.setdefault("class_trees", {})
    if path not in trees:
        try:
            trees[path] = file_tree(facts, path, confine.read_text(facts.root, path))
        except (OSError, SyntaxError, ValueError, RecursionError):
            trees[path] = None
    return trees[path]


_ENUM_BASE = re.compile(r"(?:^|\.)(?:Enum|IntEnum|StrEnum|Flag|IntFlag|\w*Choices)$")


def imported_enum(facts, path: str, qualname: str) -> bool | None:
    """Is the class `qualname`, imported by the module at `path`, an enum (a subclass of enum.Enum, IntEnum,
    a Django-style Choices, through the project's own bases)? None: it is no class of the target dbreview read."""
    symbols = facts.derived.get("symbols")
    by_path = facts.derived.setdefault("modules_by_path", {m.path: m for m in facts.modules})
    if symbols is None or path not in by_path:
        return None
    todo, seen = [symbols.resolve(qualname, by_path[path].module)], 0
    if todo[0].kind != "class":
        return None
    while todo and seen < 12:
        value, seen = todo.pop(), seen + 1
        if value.kind == "external" and _ENUM_BASE.search(value.name):
            return True
        if value.kind == "class":
            todo.extend(symbols.bases_of(value))
    return False


def enum_field(facts, path: str, qualname: str, field: str) -> bool | None:
    """Is the attribute `field` of the class `qualname` (imported by the module at `path`) declared an enum or a
    Literal in its class body (`col: SortColumn`, a GraphQL input's, a pydantic model's), or an ALL-CAPS attribute of
    a library's class (`States.UPLOADED`)? For "", is the class an enum. None: the class or the attribute's
    declaration could not be read."""
    if not field:
        return imported_enum(facts, path, qualname)
    symbols = facts.derived.get("symbols")
    by_path = facts.derived.setdefault("modules_by_path", {m.path: m for m in facts.modules})
    if symbols is None or path not in by_path:
        return None
    value = symbols.resolve(qualname, by_path[path].module)
    home = value.module  # the module that declares the class
    if value.kind == "external" and field.isupper():
        return True  # `States.UPLOADED` of a library's class: a constant, as an imported ALL-CAPS name is (flow.Flow._name)
    if value.kind != "class" or home is None:
        return None
    tree = _module_tree(facts, home.path)
    node = next((n for n in (tree.body if tree else ()) if isinstance(n, ast.ClassDef)
                 and n.name == value.name.rsplit(".", 1)[-1]), None)
    if node is not None and (imported_enum(facts, path, qualname) or _class_constant(node, field)):
        return True  # an enum's member, or a constant of the class: `ACTIONS = [CREATE, READ]` of literals
    declared = next((s.annotation for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                     and s.target.id == field), None) if node is not None else None
    kind = annotated_class(declared) if declared is not None else None
    if isinstance(kind, ast.Subscript):
        return True  # a Literal
    if kind is None:
        return None
    return imported_enum(facts, home.path, f"{home.module}.{ast.unparse(kind)}")


_EXTRA_ALLOWED = re.compile(r"""\bextra\s*=\s*(?:["']allow["']|Extra\.allow)""")


def declared_keys(facts, path: str, qualname: str) -> bool | None:
    """Are the keys of a dump of the class `qualname` (imported by the module at `path`: `body.model_dump()`) only the
    fields it declares: a pydantic model, through the project's own bases, none of which allows extra fields
    (`extra="allow"`)? None: it is no class of the target dbreview read."""
    symbols = facts.derived.get("symbols")
    by_path = facts.derived.setdefault("modules_by_path", {m.path: m for m in facts.modules})
    if symbols is None or path not in by_path:
        return None
    todo, seen, pydantic = [symbols.resolve(qualname, by_path[path].module)], 0, False
    if todo[0].kind != "class":
        return None
    while todo and seen < 12:
        value, seen = todo.pop(), seen + 1
        if value.kind == "external":
            pydantic = pydantic or (value.name.startswith("pydantic") and last(value.name) == "BaseModel")
            continue
        tree = _module_tree(facts, value.module.path) if value.kind == "class" and value.module is not None else None
        node = next((n for n in (tree.body if tree else ()) if isinstance(n, ast.ClassDef)
                     and n.name == value.name.rsplit(".", 1)[-1]), None)
        if node is None or _EXTRA_ALLOWED.search(ast.unparse(node)):
            return False if node is not None else None
        todo.extend(symbols.bases_of(value))
    return pydantic and not todo


def holds_given(facts, path: str, qualname: str) -> bool | None:
    """Is the class `qualname` (imported by the module at `path`) a dataclass whose instances hold what they are given
    and nothing else: no base, literal defaults, no __post_init__, and an __init__ of its own, if any, that only
    stores its parameters (`object.__setattr__(self, "name", name)`)? None: it is no class of the target dbreview read."""
    symbols = facts.derived.get("symbols")
    by_path = facts.derived.setdefault("modules_by_path", {m.path: m for m in facts.modules})
    if symbols is None or path not in by_path:
        return None
    value = symbols.resolve(qualname, by_path[path].module)
    tree = _module_tree(facts, value.module.path) if value.kind == "class" and value.module is not None else None
    node = next((n for n in (tree.body if tree else ()) if isinstance(n, ast.ClassDef)
                 and n.name == value.name.rsplit(".", 1)[-1]), None)
    if node is None:
        return None
    if node.bases or not any(last(ast.unparse(d.func if isinstance(d, ast.Call) else d)) == "dataclass"
                             for d in node.decorator_list):
        return False
    methods = {f.name: f for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    init = methods.get("__init__")
    params = {a.arg for a in [*init.args.args[1:], *init.args.kwonlyargs]} if init is not None else set()
    return "__post_init__" not in methods and all(
        isinstance(st.value, ast.Constant) for st in node.body if isinstance(st, ast.AnnAssign) and st.value is not None
    ) and all(_stores_parameter(st, params) for st in (init.body if init is not None else ()))


def _stores_parameter(st: ast.stmt, params: set[str]) -> bool:
    """A docstring, `self.x = param` or `object.__setattr__(self, "x", param)`."""
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
        return True
    if isinstance(st, ast.Assign):
        return isinstance(st.value, ast.Name) and st.value.id in params and all(
            isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" for t in st.targets)
    call = st.value if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) else None
    return call is not None and ast.unparse(call.func) == "object.__setattr__" and len(call.args) == 3 and isinstance(
        call.args[2], ast.Name) and call.args[2].id in params


def _class_constant(node: ast.ClassDef, field: str, depth: int = 0) -> bool:
    """Does the class body assign `field` a literal, or a list or tuple of literals and of such names of its own?"""
    value = next((st.value for st in node.body if isinstance(st, ast.Assign) and len(st.targets) == 1
                  and isinstance(st.targets[0], ast.Name) and st.targets[0].id == field), None)
    items = value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else [value] if value is not None else []
    return bool(items) and depth < 3 and all(
        (isinstance(v, ast.Constant) and isinstance(v.value, (str, int, float)))
        or (isinstance(v, ast.Name) and v.id != field and _class_constant(node, v.id, depth + 1)) for v in items)


_NUMBER = re.compile(r"(?:int|float|round|len)\(|-?\d")


def numbers_under(facts, key: str) -> bool | None:
    """Is every value the project's code (tests aside) writes under the dict key `key` (`ctx["timeout"] = ...`,
    `{"timeout": ...}`) a number: int(), float(), a literal? None: no such write in sight."""
    known = facts.derived.setdefault("numbers_under", {})
    if key in known:
        return known[key]
    write = re.compile(rf"""\[\s*['"]{re.escape(key)}['"]\s*\]\s*=(?!=)\s*(.+)|['"]{re.escape(key)}['"]\s*:\s*(.+)""")
    found: bool | None = None
    for path in python_paths(facts):
        if found is False:
            break
        try:
            text = "" if is_test_path(path) else confine.read_text(facts.root, path)
        except OSError:
            continue
        for m in write.finditer(text) if key in text else ():
            found = _NUMBER.match((m.group(1) or m.group(2)).strip()) is not None
            if not found:
                break
    known[key] = found
    return found


_PARAMETER = re.compile(r"^(?P<function>[\w.]+)\((?P<place>-?\d+):(?P<param>\w+)\)$")


def literal_callers(facts, function: str, place: int, param: str) -> bool | None:
    """Does every call of the module-level `function` (`pkg.mod.name`) in the project's other modules (tests aside,
    migrations included) pass a literal, a string or a number, for its parameter `param` (at `place` among the
    positional ones)? None: no call in sight, or the function is handed on as a value where it is imported."""
    module, _, name = function.rpartition(".")
    calls = 0
    for path in python_paths(facts):
        try:
            text = "" if is_test_path(path) else confine.read_text(facts.root, path)
        except OSError:
            continue
        if not re.search(rf"\bimport\b[^\n]*\b{re.escape(name)}\b", text) and f"{module.rpartition('.')[2]}.{name}" not in text:
            continue
        try:
            tree = file_tree(facts, path, text)
        except SyntaxError:
            return None
        called: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _names(node.func, name):
                called.add(id(node.func))
                given = next((k.value for k in node.keywords if k.arg == param), None)
                if given is None and 0 <= place < len(node.args) and not any(isinstance(a, ast.Starred) for a in node.args[:place + 1]):
                    given = node.args[place]
                if given is None:
                    return None  # its default, or unpacked arguments: not followed
                if not (isinstance(given, ast.Constant) and isinstance(given.value, (str, int, float))):
                    return False
                calls += 1
        if any(_names(n, name) and id(n) not in called for n in ast.walk(tree) if isinstance(getattr(n, "ctx", None), ast.Load)):
            return None  # handed on as a value (a table of handlers, an executor): what it is called with is not seen
    return True if calls else None


def _names(node: ast.AST, name: str) -> bool:
    return (isinstance(node, ast.Name) and node.id == name) or (isinstance(node, ast.Attribute) and node.attr == name)


def through(facts, path: str, name: str) -> bool | None:
    """Is what a value passes through (a Hole.via entry) safe: a function that quotes or returns only safe values,
    an enum (`pkg.Role.*`),
    a dict key written only with numbers (`[timeout]`), a key column of the row a mapper event flushes (`<row>:project_id`),
    a parameter every other module's call gives a literal
    (`pkg.mod.fn(1:table)`)? None: dbreview could not read it."""
    if name.startswith("["):
        return numbers_under(facts, name[1:-1])
    if name.startswith("<row>:"):
        return flushed_column(facts, name[6:])
    parameter = _PARAMETER.match(name)
    if parameter:
        return literal_callers(facts, parameter["function"], int(parameter["place"]), parameter["param"])
    if name.endswith(".*"):
        return imported_enum(facts, path, name[:-2])
    if name.endswith("~built"):  # called with safe values only: a class that holds them, or a safe helper
        return holds_given(facts, path, name[:-6]) or helper_safe(facts, path, name[:-6])
    if name.endswith(":*keys"):
        return declared_keys(facts, path, name[:-6])
    if ":" in name:  # a parameter's annotated class, and the attribute of it used (flow.Flow._typed_field)
        return enum_field(facts, path, *name.split(":", 1))
    return helper_safe(facts, path, name)


def settle(facts, use: SqlUse, hole: Hole) -> Hole | None:
    """A value that is safe if what it passes through in other modules is (Hole.via): functions that quote what
    they return, classes that are enums whose member it is (`pkg.Role.*`), a dict key the project writes only
    numbers under (`[timeout]`). None when each of them is; marked as passing through
    one dbreview could not read (an info); as it is when one of them is read and is not."""
    if not hole.via:
        return hole
    read = {name: through(facts, use.span.path, name) for name in hole.via}
    if False in read.values():
        return replace(hole, via=())
    unread = [name for name, quotes in read.items() if quotes is None]
    if not unread:
        return None
    if all(name.startswith("[") or _PARAMETER.match(name) or ":" in name for name in unread):
        return replace(hole, via=())  # no write of the key, no call in sight: its why already says which path was not followed
    if unread[0].endswith(".*"):
        return replace(hole, why=f"`{hole.expr}` is a member of `{unread[0][:-2]}`, which dbreview could not read (if that "
                                "is an enum, nothing is injected)")
    return replace(hole, why=f"`{hole.expr}` passes through `{unread[0].removesuffix('~built')}()`, which dbreview could not read (if that "
                            "quotes it, nothing is injected)")


def app_uses(facts) -> list[tuple[SqlUse, ListenerFact | None]]:
    """SQL the application sends (functions and event listeners; not tests), with the listener sending it."""
    uses = [(u, lst) for lst in facts.listeners for u in lst.sql] + [(u, None) for u in facts.sql]
    return [(u, lst) for u, lst in uses if not is_test_path(u.span.path) and not u.unsent]


def sent_later(uses: list[tuple[SqlUse, ListenerFact | None]]) -> set[int]:
    """The text()s whose statement a call among `uses` sends (`q = text(f"...")`, then `conn.execute(q)`): a value
    reported where the statement is sent is not reported again where it is built."""
    sent = {(u.span.path, u.function, u.text) for u, _ in uses if u.awaited is not None}
    return {id(u) for u, _ in uses if u.awaited is None and (u.span.path, u.function, u.text) in sent}


def alembic_operation(facts, use: SqlUse) -> bool:
    """Is `use` sent by the implementation of an Alembic operation (`@Operations.implementation_for(DropFnOp)`)?
    Alembic calls it with the operation a migration script builds: it runs as migration code, not on a request."""
    tree = _module_tree(facts, use.span.path) if use.function else None
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == use.function
               and any(isinstance(d, ast.Call) and ast.unparse(d.func).endswith("implementation_for")
                       for d in node.decorator_list) for node in (tree.body if tree else ()))


def uncalled_note(facts, use: SqlUse) -> str | None:
    """When nothing in the application runs the function that builds `use` (s05_integrity._uncalled): what to
    say of it, else None."""
    from analyzers.rules.s05_integrity import _uncalled

    callers = _uncalled(facts, use) if use.function else None
    if callers is None:
        return None
    if callers:
        return f"{use.function} is called only by {', '.join(callers)}, which nothing in the application's code calls"
    return f"no call of {use.function} was found in the application's code outside tests"


def trail(use: SqlUse, hole: Hole, listener: ListenerFact | None = None) -> list[tuple[Span, str]]:
    """Related locations: the listener, and the lines the value was followed through."""
    out = [(Span(use.span.path, listener.span.start, listener.span.start), "the listener")] if listener else []
    return out + [(Span(use.span.path, line, line), f"where `{hole.expr}` comes from") for line in hole.trail]


_ROUTE_EXAMPLE = '''
from fastapi import APIRouter, Request
from sqlalchemy import text

router = APIRouter()

@router.get("/patients")
async def search(request: Request, db):
    tenant = request.headers["x-tenant-id"]
    return await db.execute(text(f"SELECT * FROM patients WHERE organization_id = '{tenant}'"))
'''
_SAFE_EXAMPLE = '''
from enum import Enum
from fastapi import APIRouter
from sqlalchemy import text

router = APIRouter()
SORTABLE = {"last_name", "created_at"}

class Status(str, Enum):
    active = "active"

@router.get("/patients")
async def search(db, sort: str, limit: int = 50):
    if sort not in SORTABLE:
        raise ValueError(sort)
    rows = await db.execute(text(f"SELECT * FROM patients WHERE status = '{Status.active.value}' ORDER BY {sort} LIMIT {limit}"))
    return rows

def count(db, table):
    return db.execute(text(f"SELECT count(*) FROM {table}")).scalar()

def counts(db):
    return [count(db, name) for name in ("patients", "appointments")]
'''


def class_constant(facts, expr: str) -> bool:
    """`self.x` / `cls.x` that some class of the project declares as a literal (`x: ClassVar[float] = 0.5`, in a
    base class of another module) and no code assigns at run time (`obj.x = ...`): a constant, not input."""
    m = re.fullmatch(r"(?:self|cls)\.(\w+)", expr)
    if not m:
        return False
    attr = m.group(1)
    declared = re.compile(rf"^\s+{attr}\s*(?::[^=]+)?=(?!=)\s*(.*?)\s*(?:#.*)?$")
    literal = re.compile(r"-?\d[\d_.]*|True|False|None|'[^'\\]*'|\"[^\"\\]*\"")
    found = False
    for path in python_paths(facts):
        if is_test_path(path):
            continue
        try:
            text = confine.read_text(facts.root, path)
        except OSError:
            continue
        if attr not in text:
            continue
        for line in text.splitlines():
            if attr not in line:
                continue
            if re.search(rf"\.{attr}\s*(?:[-+*/]?=)(?!=)", line):
                return False  # set at run time somewhere
            d = declared.match(line)
            if d:
                if not literal.fullmatch(d.group(1)):
                    return False  # a class attribute computed from something
                found = True
    return found


_KEY_TYPES = ("Integer", "BigInteger", "SmallInteger", "UUID", "Uuid")


def flushed_column(facts, column: str) -> bool:
    """`target.project_id` of the row a mapper event flushes (`def f(mapper, connection, target)`, followed through
    the calls it makes too): is that column an integer or a UUID in every table that has one? PostgreSQL took it as one."""
    columns = [t.columns[column] for t in facts.tables.values() if column in t.columns]
    return bool(columns) and all(c.type_name in _KEY_TYPES for c in columns)


_SELECTS_ONE = re.compile(r"\bSELECT\s+(?:\w+\.)?(\w+)\s+FROM\s+\"?(?:\w+\.)?(\w+)\"?", re.I)


def stored_key(facts, use: SqlUse, hole: Hole) -> bool:
    """A value its own query reads as one key column (`SELECT id FROM permissions_unit ...` then
    `result.scalar()`), an integer or a UUID in the table the models or the migrations declare: it carries no SQL."""
    if hole.source != "stored" or not hole.trail:
        return False
    read = []
    for line in hole.trail:  # where it is read (`x = result.scalar()`): the query just above it, or the one
        lines = facts.lines(Span(use.span.path, max(line - 4, 1), line))  # the statement opened there runs
        if lines and lines[-1].rstrip().endswith(("(", "[")):  # `ids = [r[0] for r in conn.execute(` + the query
            read += _SELECTS_ONE.findall(" ".join(facts.lines(Span(use.span.path, line, line + 3))))[:1]
        elif lines and not re.match(r"\s*(?:async\s+)?def\s", lines[-1]):
            read += _SELECTS_ONE.findall(" ".join(lines))[-1:]
    if not read:
        return False
    for column, name in read:
        table = facts.tables.get(name) or facts.migration_tables.get(name)
        col = table.columns.get(column) if table is not None else None
        if col is None or col.type_name not in _KEY_TYPES:
            return False
    return True


_WRITES = re.compile(r"^\s*(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?(?:\w+\.)?(\w+)\"?", re.I)
_FROM_TABLE = re.compile(r"\b(?:FROM|UPDATE|JOIN)\s+\"?(?:\w+\.)?(\w+)\"?", re.I)


def read_back(facts, use: SqlUse, hole: Hole) -> bool:
    """In a migration: is the value read back from the very table the statement rewrites (`SELECT id, status
    FROM t` then `UPDATE t SET status = '{row[1]}'`)? Rows already stored, no request: nothing is injected."""
    if hole.source != "stored":
        return False
    written = {t.lower() for t in _WRITES.findall(use.text or "")}
    if not written:
        return False
    read: set[str] = set()
    for line in hole.trail:
        text = " ".join(facts.lines(Span(use.span.path, line, line + 3)))
        read |= {t.lower() for t in _FROM_TABLE.findall(text)}
    return bool(read) and read <= written


class SqlFromStrings(Rule):
    """SQL is built by formatting a value into its text.

    What it checks:
        f-strings, `%`, `.format()` and `+` that build the SQL given to `text()`, `execute()`,
        `exec_driver_sql()`, `cursor.execute()` and `op.execute()` (event listeners included; tests left out).
        Each value spliced in is followed within its function and its module (assignments, loops, checks,
        the calls of the function) to where it comes from; what a helper of the module returns is followed with
        the arguments of the call at hand (`_in_params("nm", names)` builds `:nm_0`, whatever its other calls give). From the request (a route's parameter, a header,
        the body): critical. A value from where we could not follow (a parameter whose callers are elsewhere):
        a warning; an identifier or a piece of SQL from there: info (code usually picks them); but where every
        call of the function in the project's other modules passes a literal (`restart_seq(op, "users")`), no
        finding. From the
        database or an attribute the module does not assign: info (a name read from the database's own
        catalogue, `SHOW SCHEMAS` or information_schema, is said to be one). In a migration, which no request
        reaches (and in an Alembic operation's implementation, `@Operations.implementation_for(Op)`, which
        runs the operation a migration builds), only a value from the database or an unfollowed source is reported, as info (and said to be in
        the downgrade when it is). A constant, an enum member (of an enum imported from another module of
        the project too: `Role.ADMIN.value`; an ALL-CAPS attribute of a class imported from a library, read as an
        imported ALL-CAPS name is: `States.UPLOADED`), a number, a
        typed parameter (int, UUID, an enum; or the attribute of a parameter whose class, in any module of the
        project, declares it an enum or a Literal: `body.status` of `status: Status`), a model's table name
        (`models.User.__tablename__`, `User.__table__.name`), a name checked against a list (or given first to a
        function of the module that raises unless it passes a check: `check_name(name)` of `if not
        PATTERN.match(name): raise`), a quoted identifier (the
        project's own helper whose body quotes, read in whichever module defines it; SQLAlchemy's column()), what
        a helper of another module returns when every path of it returns such a value whatever it is given (a
        role name it raises on unless it is in a fixed tuple),
        the keys of a parameter's pydantic dump (`data = body.model_dump()`, then `data.keys()`), with only keys of
        its own added (`data[RENAMED[k]] = v`), where the model, through the project's bases, allows no extra field:
        the names it declares;
        what a method of the same class returns (`cls.table_for(source)`, read there like a function of the module),
        an instance of a dataclass of the project built only of such values, whose instances hold what they are
        given (`json.dumps(asdict(Spec("composite")))`: no base, literal defaults, an `__init__` that only stores
        its parameters), a value the code generates itself (`uuid4().hex`, `datetime.now().isoformat()`),
        a name a query of only catalogue tables (pg_class, pg_index) returns, or a value from configuration: no
        finding. A number on every path but one that could not be followed (`ctx.get("timeout", 60000)`), or a
        value that passes through a function dbreview could not read: info, naming what it could not follow;
        but where every write of that key the project makes is a number (`{"timeout": int(s)}`): no finding. A
        password written into DDL (`CREATE ROLE ... PASSWORD '{pw}'`)
        is reported unless it is a constant. A whole statement the function is given and runs (`EXPLAIN {sql}`)
        is no piece spliced in: info that says what confines it is the connection, critical from the request.
        A key of the row a mapper event flushes (`target.project_id` in `def f(mapper, connection, target)`, or
        passed from there to a function of the module), where
        every table's column of that name is an integer or a UUID, is what PostgreSQL already took as one: no
        finding; nor a value its own query reads as one integer or UUID column (`SELECT id FROM units ...`, then
        `result.scalar()` or `for r in rows: ... r.id`), in the application or a migration. Settings of the security context are CFG003's. A value through the standard library's pure functions
        of text (`textwrap.dedent(TEMPLATE)`) is what its arguments are. A text() bound to a name its
        function never reads (the line that ran it commented out) is never sent: no finding; a value of a
        statement built in a text() and sent by a later `execute(q)` is reported once, where it is sent. Where no call of
        the function was found in the application's code outside tests (nor of the functions that call it),
        the finding says so and is info.
    Why it matters:
        A value spliced into SQL runs as SQL: a crafted header or path parameter reads or rewrites other
        tenants' rows. Values are bound as parameters; identifiers cannot be bound and must be quoted or
        picked from a fixed list.
    Example:
        @router.get("/patients")
        async def search(request: Request, db):
            tenant = request.headers["x-tenant-id"]
            return await db.execute(text(f"SELECT * FROM patients WHERE organization_id = '{tenant}'"))
    Instead:
        `db.execute(text("SELECT * FROM patients WHERE organization_id = :t"), {"t": tenant})`; for an
        identifier, check it against a fixed set or quote it with the dialect's identifier preparer.
    """

    ID = "CFG008"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    INVALID = ({"app/routes.py": _ROUTE_EXAMPLE},
               {"app/reports.py": '''
from sqlalchemy import text

def by_column(db, column, value):
    return db.execute(text(f"SELECT * FROM reports WHERE {column} = :v"), {"v": value})
'''},
               {"app/roles.py": '''
def create_reader(conn, password):
    conn.exec_driver_sql(f"CREATE ROLE reader LOGIN PASSWORD '{password}'")
'''})
    VALID = ({"app/routes.py": _SAFE_EXAMPLE},
             {"app/routes.py": _ROUTE_EXAMPLE.replace(
                 "text(f\"SELECT * FROM patients WHERE organization_id = '{tenant}'\")",
                 "text(\"SELECT * FROM patients WHERE organization_id = :t\"), {\"t\": tenant}")})

    def check(self):
        from analyzers.rules.s01_configuration import sets_context

        seen: set[tuple[object, str]] = set()  # one finding per place and value (a loop repeats the statement)
        uses = app_uses(self.facts)
        twins = sent_later(uses)
        sent: set[tuple[str, str | None, str]] = set()  # (path, function, value) reported where a statement is sent
        for use, listener in sorted(uses, key=lambda u: id(u[0]) in twins):  # the calls that send first
            if not use.formatted or sets_context(use) or not _SQL_START.match(use.text or ""):
                continue
            holes = [h for h in risky(use, self.facts) if not stored_key(self.facts, use, h)]
            if not holes:
                continue
            hole = holes[0]
            if (use.span, hole.expr) in seen or (id(use) in twins and (use.span.path, use.function, hole.expr) in sent):
                continue
            seen.add((use.span, hole.expr))
            sent.add((use.span.path, use.function, hole.expr))
            tooling = is_tooling_path(use.span.path) or alembic_operation(self.facts, use)
            severity = hole_severity(hole, migration=tooling and hole.source != "request")
            if severity is None or (hole.source == "object" and class_constant(self.facts, hole.expr)):
                continue
            where = f"the `{listener.event}` listener `{use.function}`" if listener else f"`{use.function}`"
            more = f" ({len(holes) - 1} more value(s) of unsure source in it)" if len(holes) > 1 else ""
            sets = any(st.kind in ("set", "set_local") for st in use.statements)
            dead = uncalled_note(self.facts, use) if severity != Severity.CRITICAL and not listener else None
            yield self.finding(
                f"SQL built from a string in {where}: {explain(hole, sets_setting=sets, text=use.text)}{more}"
                + (f"; but {dead}: nothing runs it today (delete the function, or bind the value when it is "
                   "called again)" if dead else ""),
                use.span, f"sql:{use.function}:{hole.expr}", severity=Severity.INFO if dead else severity,
                related=trail(use, hole, listener),
            )
        for rev in self.facts.revisions:
            for op, undoing in [*((o, False) for o in rev.upgrade), *((o, True) for o in rev.downgrade)]:
                use = op.sql
                if use is None or not use.formatted or not _SQL_START.match(use.text or ""):
                    continue
                holes = risky(use, self.facts)
                severity = hole_severity(holes[0], migration=True) if holes else None
                if severity is None or (use.span, holes[0].expr) in seen or read_back(self.facts, use, holes[0]) \
                        or stored_key(self.facts, use, holes[0]):
                    continue
                hole = holes[0]
                seen.add((use.span, hole.expr))
                runs = "is undone (its downgrade)" if undoing else "runs"
                yield self.finding(
                    f"{'the downgrade of ' if undoing else ''}migration {rev.revision} builds SQL from a string: "
                    f"{explain(hole, text=use.text)} (a migration takes no request; check where the value comes from when the "
                    f"migration {runs})",
                    use.span, f"migration:{rev.revision}:sql:{hole.expr}", severity=severity, item="3.2",
                    related=trail(use, hole),
                )
