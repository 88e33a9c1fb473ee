"""Section 1 (queries): "the latest" row taken from a descending sort on a nullable column, which PostgreSQL
heads with the rows whose column is NULL.

Read with `ast` from the application's queries (`order_by(Model.col.desc())`, `desc(Model.col)`) and with pglast
from the raw SQL it sends (`ORDER BY col DESC LIMIT 1`, `DISTINCT ON`). A sort key counts only where it surely is a
mapped column of the project (named through its class, an import of it, or an `aliased()` of it; in SQL, a column
of a table the query's FROM names), and only where the query's shape can be read to the row it takes."""

from __future__ import annotations

import ast
import re

from analyzers.facts.model import Facts, Span, TableFact
from analyzers.facts.names import Names, is_sqlalchemy
from analyzers.facts.paths import is_tooling_path
from analyzers.facts.sql import statement_trees
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.runs_on import on_postgres, runs_on
from analyzers.rules.s01_python_conditions import _bindings, _scopes, _short, hinted_modules
from analyzers.rules.s01_sql_logic import _ref, _scope, _walk
from analyzers.rules.s01_sql_strings import app_uses
from analyzers.rules.s05_uniqueness import nullable_column

_HINT = re.compile(r"\bdesc\(")
# calls of a chain that narrow the rows: a mention of the sort column in one of them may leave NULL out
_NARROWING = frozenset(("filter", "where", "having", "join", "outerjoin", "join_from", "filter_by"))
# methods on a query or a result that return the first row (`scalar`: on a Result or a Session; a Query's raises
# where there are several rows)
_FIRST = frozenset(("first", "first_or_404"))
_SENDERS = frozenset(("execute", "scalars", "scalar", "exec"))
# a column that ends a row's validity (`renounced_at`, `revoked_at`, `valid_until`): NULL may mean "not yet", the latest
# (not `ended_at` / `finished_at`: NULL there is a run not over yet, which "the latest finished" must not return)
_OPEN_END = re.compile(r"(^|_)(renounced|revoked|deleted|archived|expire|expires|expired|expiry|expiration|until|valid_to|"
                       r"left|retired|terminated|cancell?ed)($|_)", re.I)
_DEFAULTED = "the column has a default"
_STATE = re.compile(r"(^|_)(state|status)($|_)", re.I)
_SQL_DESC = 2  # pglast SortByDir.SORTBY_DESC
_SQL_NULLS_DEFAULT = 0  # pglast SortByNulls.SORTBY_NULLS_DEFAULT

_MODELS = {"app/models.py": HEADER + '''
class Build(Base):
    __tablename__ = "builds"
    id: Mapped[int] = mapped_column(primary_key=True)
    artefact_id: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int | None] = mapped_column(Integer)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
''', "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n"}


class LatestByNullableDescending(Rule):
    """"The latest" row taken from a descending sort on a nullable column, which PostgreSQL puts NULL first in.

    What it checks:
        In the application's code (tests left out, scripts info), a query that sorts by a mapped column
        descending (`Model.col.desc()`, `desc(Model.col)`; in raw SQL `ORDER BY col DESC`) without
        `.nulls_last()` / `nullslast()` / `NULLS LAST`, and takes the top row from it: `.first()`, `.limit(1)`,
        `session.scalar(...)` / `execute(...).scalar()`, or one row per group with `DISTINCT ON` (`.distinct(cols)`),
        directly or through the local name the query is built in. Only where the column is nullable in the schema
        the migrations build (the model's, where they do not say), is not part of the primary key, and nothing
        of the same query (its filters, its joins' conditions) names the column: a comparison there leaves NULL
        out, a filter does not pin the row by its primary key, and no primary key is sorted before it. Info, where
        the application runs on PostgreSQL (whether any writer leaves the column NULL is not followed, and the
        message says so); it also says so where its database is unknown, where the column has a
        default (rows get a value unless the code writes NULL), where the query filters on a state or status of
        the row (which may imply the column is set), or where the column ends the row's validity
        (`renounced_at`, `revoked_at`, `valid_until`: NULL may mean "still in force", rightly the latest); nothing
        on MySQL or SQLite.
    Why it matters:
        PostgreSQL sorts NULL above every value, so `ORDER BY revision DESC` starts with the rows whose revision is
        NULL (NULLS FIRST is the default for DESC). `.first()` returns one of them as "the latest": a build that
        never got a revision is taken for the newest one, a sample with no collection date for the most recent.
        Nothing fails, and on MySQL or SQLite (which put NULL last in a descending sort) the tests pass.
    Example:
        def latest_build(session, artefact_id):
            return session.scalars(select(Build).where(Build.artefact_id == artefact_id)
                                   .order_by(Build.revision.desc())).first()
    Instead:
        `Build.revision.desc().nulls_last()` (or `nullslast(desc(Build.revision))`, `ORDER BY revision DESC NULLS
        LAST`), or leave the NULLs out: `.where(Build.revision.is_not(None))`; or make the column NOT NULL.
    """

    ID = "CFG024"
    ITEM = "1.5"
    SEVERITY = Severity.INFO
    INVALID = ({**_MODELS, "app/builds.py": '''
from sqlalchemy import desc, select, text
from app.models import Build

def latest_build(session, artefact_id):
    return session.scalars(select(Build).where(Build.artefact_id == artefact_id)
                           .order_by(Build.revision.desc())).first()

def last_finished(session):
    return session.query(Build).order_by(desc(Build.finished_at)).limit(1).one_or_none()

latest_per_artefact = select(Build).distinct(Build.artefact_id).order_by(Build.artefact_id, Build.revision.desc())

def newest(session):
    stmt = select(Build).order_by(Build.revision.desc())
    return session.scalar(stmt)

def newest_sql(session):
    return session.execute(text("SELECT id FROM builds ORDER BY finished_at DESC LIMIT 1")).scalar()
'''},)
    VALID = ({**_MODELS, "app/builds.py": '''
from sqlalchemy import desc, nullslast, select, text
from app.models import Build

def latest_build(session, artefact_id):
    return session.scalars(select(Build).where(Build.artefact_id == artefact_id)
                           .order_by(Build.revision.desc().nulls_last())).first()

def last_finished(session):
    return session.query(Build).filter(Build.finished_at.is_not(None)).order_by(desc(Build.finished_at)).first()

def newest(session):
    return session.scalars(select(Build).order_by(nullslast(Build.revision.desc())).limit(1)).first()

def all_builds(session):
    return session.scalars(select(Build).order_by(Build.revision.desc())).all()

def by_creation(session):
    return session.query(Build).order_by(Build.created_at.desc(), Build.id.desc()).first()

def oldest(session):
    return session.query(Build).order_by(Build.revision).first()

def newest_sql(session):
    return session.execute(text("SELECT id FROM builds WHERE finished_at > :t ORDER BY finished_at DESC LIMIT 1"),
                           {"t": 0}).scalar()
'''}, {"app/models.py": _MODELS["app/models.py"].replace("from sqlalchemy.dialects.postgresql import INET, JSONB, UUID", ""),
        "docker-compose.yml": "services:\n  db:\n    image: mysql:8\n", "app/builds.py": '''
from sqlalchemy import select
from app.models import Build

def latest_build(session):
    return session.scalars(select(Build).order_by(Build.revision.desc())).first()
'''})

    def check(self):
        """Each query a finding, except a column with a default sorted by in several queries: one info for the
        column, the queries as related locations (a habit of the code, not one query's mistake)."""
        found = list(self._all())
        defaulted: dict[str, list] = {}
        for f in found:
            if _DEFAULTED in f.message and f.severity is Severity.INFO:
                defaulted.setdefault(f.anchor.split("#")[0].rsplit(":", 1)[-1], []).append(f)
        grouped = {id(f) for fs in defaulted.values() if len(fs) > 1 for f in fs}
        for f in found:
            if id(f) not in grouped:
                yield f
        for column, fs in defaulted.items():
            if len(fs) < 2:
                continue
            fs.sort(key=lambda f: (f.location.path, f.location.start_line))
            sites = [(Span(f.location.path, f.location.start_line, f.location.end_line), f.anchor,
                      "the same sort takes the top row here") for f in fs]
            yield self.grouped(f"{fs[0].message} (the same in {len(fs) - 1} other quer{'y' if len(fs) == 2 else 'ies'}"
                               f" sorting by `{column}`, listed)", sites, f"column:{column}:defaulted",
                               severity=Severity.INFO)

    def _all(self):
        facts = self.facts
        known = runs_on(facts)
        if known.not_postgres:
            return  # MySQL and SQLite put NULL last in a descending sort
        unknown = not known.found
        self._anchors: dict[str, int] = {}
        by_class = _tables_by_class(facts)
        seen: set[tuple[str, int, str]] = set()
        for m, tree, names in hinted_modules(facts, _HINT):
            if m.revision is not None:
                continue
            models = _module_models(tree, names, m.path, by_class)
            for scope, body, params in _scopes(tree):
                reader = _Reader(facts, names, models, _bindings(body), params, by_class)
                for found in reader.findings(body):
                    node, table, col, state, taken, how = found
                    key = (m.path, node.lineno, col.name)
                    if key in seen:
                        continue
                    seen.add(key)
                    yield self._report(facts, m.path, scope, node, table, col, taken, how, unknown, state)
        yield from self._raw_sql(facts, unknown, seen)

    def _report(self, facts, path, scope, node, table, col, taken, how, unknown, state=None):
        written = _short(ast.unparse(node)) if isinstance(node, ast.AST) else node
        nullable_where = ("as the migrations build it" if facts.migration_tables.get(table.name) is not None
                          and facts.migration_tables[table.name].columns.get(col.name) is not None
                          else "as the model declares it")
        model_col = table.columns.get(col.name)
        default = col.server_default or col.default or (model_col.server_default or model_col.default if model_col else None)
        message = (f"{scope + ': ' if scope else ''}`{written}` sorts by `{table.name}.{col.name}`, which may be NULL "
                   f"({nullable_where}), and {how} takes the top row{taken}: PostgreSQL sorts NULL first in a "
                   f"descending order (NULLS FIRST is its default for DESC), so a row whose {col.name} is NULL comes "
                   f"back as the latest/highest; write `.nulls_last()` (`NULLS LAST`) or leave the NULLs out "
                   f"(`.is_not(None)`)")
        # a fresh judge found most such sorts harmless where every writer sets the column: whether one leaves it
        # NULL is not followed, so the finding says so and stays an info
        severity = Severity.INFO
        if not default:
            message += " (whether any code leaves it NULL, dbreview did not follow: where none does, no row is affected)"
        if default:
            message += (f" ({_DEFAULTED}, `{_short(default, 40)}`: rows get a value unless the code "
                        "writes NULL there, which dbreview did not follow)")
            severity = Severity.INFO
        if _OPEN_END.search(col.name):
            message += (f" (NULL in `{col.name}` may mean the row is still in force: not renounced, revoked or expired, "
                        "which a descending sort then rightly puts first as the latest; dbreview cannot tell which is "
                        "meant)")
            severity = Severity.INFO
        if state:
            message += (f" (the query also filters on `{state}`: if that state implies the column is set, no NULL "
                        "reaches the sort; dbreview cannot tell)")
            severity = Severity.INFO
        if unknown:
            message += " (dbreview could not tell which database the application runs on: this holds on PostgreSQL, " \
                       "not on MySQL or SQLite)"
            severity = Severity.INFO
        if is_tooling_path(path):
            severity = Severity.INFO
        line = node.lineno if isinstance(node, ast.AST) else taken_line(node)
        span = Span(path, line, getattr(node, "end_lineno", None) or line)
        anchor = f"function:{path}:{scope}:{table.name}.{col.name}"
        count = self._anchors[anchor] = self._anchors.get(anchor, 0) + 1
        f = self.finding(message, span, anchor if count == 1 else f"{anchor}#{count}", severity=severity)
        return on_postgres(facts, f)

    def _raw_sql(self, facts, unknown, seen):
        for use, _ in app_uses(facts):
            if not use.text or "desc" not in use.text.lower():
                continue
            trees = statement_trees(use.text, use.formatted)
            for stmt in trees or ():
                for query in _walk(stmt):
                    if type(query).__name__ != "SelectStmt" or not query.sortClause:
                        continue
                    for table, col, written, taken in _sql_findings(facts, query):
                        key = (use.span.path, use.span.start, col.name)
                        if key in seen:
                            continue
                        seen.add(key)
                        message_scope = use.function or "<module>"
                        f = self._report(facts, use.span.path, message_scope, _At(written, use.span.start), table, col,
                                         taken, "the SQL", unknown)
                        yield f


class _At(str):
    """A location-less sort key of raw SQL: its text, and the line of the call that sends it."""

    def __new__(cls, text: str, line: int):
        out = super().__new__(cls, text)
        out.line = line
        return out


def taken_line(node: _At) -> int:
    return node.line


def _tables_by_class(facts: Facts) -> dict[str, TableFact]:
    """Class name -> its table, for names only one mapped class of the project has."""
    out: dict[str, TableFact] = {}
    twice: set[str] = set()
    for table in facts.tables.values():
        if not table.class_name or table.view:
            continue
        if table.class_name in out:
            twice.add(table.class_name)
        out[table.class_name] = table
    for name in twice:
        out.pop(name)
    return out


def _module_models(tree: ast.Module, names: Names, path: str, by_class: dict[str, TableFact]) -> dict[str, TableFact]:
    """The names of the module that stand for a mapped class: defined here, or imported from the module that
    defines it."""
    out: dict[str, TableFact] = {}
    defined = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for name, table in by_class.items():
        if name in defined and table.path == path:
            out[name] = table
    for alias, qualname in names.imports.items():
        head, _, last = qualname.rpartition(".")
        if not head or last not in by_class or alias in defined or is_sqlalchemy(qualname):
            continue
        where = by_class[last].path
        dotted = "." + where.removesuffix(".py").removesuffix("/__init__").replace("/", ".") + "."
        if "." + head.lstrip(".") + "." not in dotted:
            continue  # a class of the same name from elsewhere (a schema, a library's)
        out[alias] = by_class[last]
    return out


def _primary(table: TableFact, name: str) -> bool:
    col = table.columns.get(name)
    if col is not None and col.primary_key:
        return True
    return any(con.kind == "primary_key" and name in con.columns for con in table.constraints)


def _nullable(facts: Facts, table: TableFact, name: str):
    """The column as the database has it where surely nullable and not keyed, else None."""
    if _primary(table, name):
        return None
    model = table.columns.get(name)
    if model is None or model.from_library:
        return None
    built = facts.migration_tables.get(table.name)
    migrated = built.columns.get(name) if built else None
    in_migrations = migrated is not None and (migrated.nullable is not None or migrated.type_name is not None)
    if not in_migrations and model.nullable is None and (table.unknown_bases or model.type_args.get("unresolved")):
        return None  # what the model implies rests on a base or a type dbreview could not read
    nullable, col = nullable_column(facts, table, name)
    if not nullable or col is None:
        return None
    return col


class _Reader:
    def __init__(self, facts: Facts, names: Names, models: dict[str, TableFact], local_bound, params, by_class) -> None:
        self.facts = facts
        self.names = names
        self.by_class = by_class
        self.local = local_bound
        hidden = {n for n, values in local_bound.items() if any(v is not None for v in values)} | set(params)
        self.models = {n: t for n, t in models.items() if n not in hidden}
        for name, values in local_bound.items():  # `alias = aliased(Model)`: every binding of the name
            if name in params or not values:
                continue
            targets = {self._aliased(v, models) for v in values}
            if len(targets) == 1 and None not in targets:
                self.models[name] = models[targets.pop()]

    def _aliased(self, value, models) -> str | None:
        if (isinstance(value, ast.Call) and self.names.qualname(value.func).rsplit(".", 1)[-1] == "aliased"
                and value.args and isinstance(value.args[0], ast.Name) and value.args[0].id in models):
            return value.args[0].id
        return None

    def _table(self, owner: ast.AST) -> TableFact | None:
        if isinstance(owner, ast.Name):
            return self.models.get(owner.id)
        if (isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name) and owner.attr in self.by_class
                and owner.value.id in self.names.imports and owner.value.id not in self.local
                and not is_sqlalchemy(self.names.imports[owner.value.id])):
            table = self.by_class[owner.attr]
            dotted = "." + table.path.removesuffix(".py").removesuffix("/__init__").replace("/", ".") + "."
            if "." + self.names.imports[owner.value.id].lstrip(".") + "." in dotted:
                return table
        return None

    def _column(self, node: ast.AST) -> tuple[TableFact, str] | None:
        """`Model.attr` of a mapped column: (table, the column's name)."""
        if not isinstance(node, ast.Attribute):
            return None
        table = self._table(node.value)
        if table is None:
            return None
        col = next((c for c in table.columns.values() if c.attr == node.attr), None)
        return (table, col.name) if col is not None else None

    def _desc_key(self, key: ast.AST) -> ast.AST | None:
        """The column a bare descending sort key sorts by (`Model.col.desc()`, `desc(Model.col)`), None for any
        other key (ascending, NULLS LAST or FIRST said, a function of the column)."""
        if not isinstance(key, ast.Call) or key.keywords:
            return None
        func = key.func
        if isinstance(func, ast.Attribute) and func.attr == "desc" and not key.args:
            return func.value
        qualname = self.names.qualname(func)
        if qualname.rsplit(".", 1)[-1] == "desc" and is_sqlalchemy(qualname) and len(key.args) == 1:
            return key.args[0]
        return None

    def findings(self, body: list[ast.stmt]):
        parents = _parents(body)
        for node in _calls(body):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "order_by":
                shape = None
                for i, key in enumerate(node.args):
                    found = self._sorted(key, node.args[:i])
                    if found is None:
                        continue
                    if shape is None:
                        shape = self._shape(node, parents, body) or ([], [], None)
                    methods, narrowing, how = shape
                    taken = _takes_top(methods) if how is not None else None
                    if taken is not None and (hit := self._hit(found, narrowing)) is not None:
                        yield key, *hit, taken, how
            elif isinstance(func, ast.Attribute) and func.attr == "over":
                order = next((k.value for k in node.keywords if k.arg == "order_by"), None)
                keys = list(order.elts) if isinstance(order, (ast.List, ast.Tuple)) else [order] if order else []
                label = _label(node, parents)
                if label is None or not _first_of_rank(body, label):
                    continue
                narrowing = [c for c in _calls(body) if isinstance(c.func, ast.Attribute) and c.func.attr in _NARROWING]
                for i, key in enumerate(keys):
                    found = self._sorted(key, keys[:i])
                    if found is not None and (hit := self._hit(found, narrowing)) is not None:
                        yield key, *hit, f" ranked first by `row_number()` (`{label} == 1`)", "the query"

    def _sorted(self, key: ast.AST, before: list[ast.AST]):
        """(the column expression, its table, its name) of a bare descending key on a mapped column, where no key
        before it is the table's primary key (which decides the order alone)."""
        column = self._desc_key(key)
        resolved = self._column(column) if column is not None else None
        if resolved is None:
            return None
        for earlier in before:
            inner = _strip_direction(earlier)
            got = self._column(inner)
            if got is not None and _primary(got[0], got[1]) and \
                    len([c for c in got[0].columns.values() if c.primary_key]) == 1:
                return None
        return column, *resolved

    def _hit(self, found, narrowing: list[ast.Call]):
        column, table, name = found
        if any(self._mentions(call, column, name) for call in narrowing):
            return None
        if self._single_row(table, narrowing):
            return None
        col = _nullable(self.facts, table, name)
        if col is None:
            return None
        return table, col, self._state_filter(table, narrowing)

    def _state_filter(self, table: TableFact, narrowing: list[ast.Call]) -> str | None:
        """A condition of the query on a state or status of the sorted table (`Update.state.PUBLISHED`,
        `Build.status == "done"`), which may imply the column is set: as written, or None."""
        for call in narrowing:
            for part in [*call.args, *(k.value for k in call.keywords)]:
                for n in ast.walk(part):
                    # a state the rows are in: `status == "sold"`, `status.in_(...)`, coaster's `Update.state.PUBLISHED`
                    # (not `status != "canceled"`, which says nothing of the rows left)
                    if isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], (ast.Eq, ast.In)):
                        sides = (n.left, n.comparators[0])
                    elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("in_", "is_"):
                        sides = (n.func.value,)
                    elif isinstance(n, ast.Attribute) and n.attr.isupper():
                        sides = (n.value,)
                    else:
                        continue
                    for side in sides:
                        if isinstance(side, ast.Attribute) and _STATE.search(side.attr) and self._table(side.value) is table:
                            return _short(ast.unparse(side))
            if isinstance(call.func, ast.Attribute) and call.func.attr == "filter_by":
                if any(k.arg and _STATE.search(k.arg) for k in call.keywords):
                    return next(k.arg for k in call.keywords if k.arg and _STATE.search(k.arg))
        return None

    def _single_row(self, sorted_table: TableFact, narrowing: list[ast.Call]) -> bool:
        """A filter pins a table's primary key (`Task.id == task_id`) and the sorted table is that one, or one it
        refers to by a foreign key (the task's status): the query has one row to sort, whatever the order."""
        pinned: list[TableFact] = []
        for call in narrowing:
            for part in call.args:
                for n in ast.walk(part):
                    if not (isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], ast.Eq)):
                        continue
                    for side in (n.left, n.comparators[0]):
                        resolved = self._column(side)
                        if resolved is None:
                            continue
                        table, col = resolved
                        keys = [c for c in table.columns.values() if c.primary_key]
                        if len(keys) == 1 and keys[0].name == col:
                            pinned.append(table)
        for table in pinned:
            if table is sorted_table:
                return True
            if any(fk.table in (sorted_table.name, sorted_table.class_name) for c in table.columns.values()
                   for fk in c.foreign_keys):
                return True
        return False

    def _mentions(self, call: ast.Call, column: ast.AST, name: str) -> bool:
        """Does a filter / join call name the column (a comparison, `is_not(None)`, a join's condition)?"""
        wanted = ast.dump(column)
        attr = column.attr if isinstance(column, ast.Attribute) else None
        for part in [*call.args, *(k.value for k in call.keywords)]:
            for n in ast.walk(part):
                if ast.dump(n) == wanted:
                    return True
                if isinstance(n, ast.Attribute) and n.attr == attr:
                    return True  # the same attribute through another name (an alias, the row's table): not sure
        if isinstance(call.func, ast.Attribute) and call.func.attr == "filter_by":
            return any(k.arg in (attr, name) for k in call.keywords)
        return False

    def _shape(self, order_by: ast.Call, parents, body):
        """(the methods called on the query, in and after the chain, the narrowing calls of the query, how it is
        read), or None where the query leaves the function's reach (returned, passed on) before it takes a row."""
        methods: list[ast.Call] = []
        narrowing: list[ast.Call] = []
        link = order_by.func.value
        while isinstance(link, ast.Call) and isinstance(link.func, ast.Attribute):  # the chain before it
            methods.append(link)
            if link.func.attr in _NARROWING:
                narrowing.append(link)
            link = link.func.value
        if isinstance(link, ast.Call):
            methods.append(link)
        how = self._upward(order_by, parents, body, methods, narrowing, set(), 0)
        return (methods, narrowing, how) if how is not None else None

    def _upward(self, node: ast.AST, parents, body, methods, narrowing, visited: set[str], depth: int) -> str | None:
        """Walk from `node` up the chain it is part of and through the local name it is bound to, collecting the
        calls made on the query. Returns how the row is taken (a phrase), or None where it cannot be read."""
        current = node
        while True:
            parent = parents.get(id(current))
            if isinstance(parent, ast.Attribute) and parent.value is current:
                grand = parents.get(id(parent))
                if isinstance(grand, ast.Call) and grand.func is parent:
                    methods.append(grand)
                    if parent.attr in _NARROWING:
                        narrowing.append(grand)
                    current = grand
                    continue
                return "the query"
            if isinstance(parent, ast.Call) and current in parent.args and isinstance(parent.func, ast.Attribute) \
                    and parent.func.attr in _SENDERS:
                methods.append(parent)
                current = parent
                continue
            if isinstance(parent, (ast.Await,)):
                current = parent
                continue
            break
        parent = parents.get(id(current))
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name) \
                and depth < 4:
            name = parent.targets[0].id
            if name in visited:
                return "the query"
            visited.add(name)
            for use in _name_uses(body, name):
                self._upward(use, parents, body, methods, narrowing, visited, depth + 1)
        return "the query"


def _strip_direction(key: ast.AST) -> ast.AST:
    """`Model.col` of `Model.col.desc()`, `Model.col.asc()`, `desc(Model.col)`, `asc(Model.col)`."""
    while isinstance(key, ast.Call):
        if isinstance(key.func, ast.Attribute) and key.func.attr in ("desc", "asc", "nulls_last", "nulls_first",
                                                                       "nullslast", "nullsfirst") and not key.args:
            key = key.func.value
        elif len(key.args) == 1 and (isinstance(key.func, ast.Name) and key.func.id in ("desc", "asc") or
                                     isinstance(key.func, ast.Attribute) and key.func.attr in ("desc", "asc")):
            key = key.args[0]
        else:
            break
    return key


def _label(over: ast.Call, parents) -> str | None:
    """The name `func.row_number().over(...)` is labelled with (`.label("rn")`), or the local name it is bound to."""
    head = over.func.value if isinstance(over.func, ast.Attribute) else None
    if not (isinstance(head, ast.Call) and isinstance(head.func, ast.Attribute) and head.func.attr in ("row_number",
                                                                                                      "rank", "dense_rank")):
        return None
    parent = parents.get(id(over))
    if isinstance(parent, ast.Attribute) and parent.attr == "label":
        grand = parents.get(id(parent))
        if isinstance(grand, ast.Call) and grand.args and isinstance(grand.args[0], ast.Constant) \
                and isinstance(grand.args[0].value, str):
            return grand.args[0].value
    return None


def _first_of_rank(body: list[ast.stmt], label: str) -> bool:
    """Does the scope keep only the first of the ranking: `sub.c.rn == 1`, `literal_column("rn") == 1`?"""
    for node in _calls(body):
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            for n in ast.walk(arg):
                if not (isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], ast.Eq)):
                    continue
                left, right = n.left, n.comparators[0]
                if isinstance(left, ast.Constant):
                    left, right = right, left
                if not (isinstance(right, ast.Constant) and right.value == 1):
                    continue
                if isinstance(left, ast.Attribute) and left.attr == label:
                    return True
                if isinstance(left, ast.Call) and left.args and isinstance(left.args[0], ast.Constant) \
                        and left.args[0].value == label:
                    return True
    return False


def _takes_top(methods: list[ast.Call]) -> str | None:
    """How the calls take the top row: ` with .first()`, ..., None where they do not."""
    for call in methods:
        func = call.func
        attr = func.attr if isinstance(func, ast.Attribute) else None
        if attr in _FIRST and not call.args:
            return f" with `.{attr}()`"
        if attr == "limit" and len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and call.args[0].value == 1:
            return " with `.limit(1)`"
        if attr == "distinct" and call.args:
            return " of each group with DISTINCT ON (`.distinct(...)`)"
        if attr == "scalar" and not call.keywords and len(call.args) <= 1:
            value = func.value
            if call.args:  # session.scalar(stmt)
                return " with `session.scalar()`"
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in ("execute",):
                return " with `.execute(...).scalar()`"
    return None


def _calls(body: list[ast.stmt]):
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _parents(body: list[ast.stmt]) -> dict[int, ast.AST]:
    out: dict[int, ast.AST] = {}
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
            stack.append(child)
    return out


def _name_uses(body: list[ast.stmt], name: str):
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            yield node
        stack.extend(ast.iter_child_nodes(node))


# --- raw SQL

def _sql_findings(facts: Facts, query):
    """(table, column, the sort key as written, how the row is taken) for each bare `col DESC` of `query` on a
    nullable column of a table its FROM names, where the query takes its top row and its conditions do not name
    the column."""
    limit = query.limitCount
    distinct_on = bool(query.distinctClause) and query.distinctClause != (None,)
    if distinct_on:
        taken = " of each group with DISTINCT ON"
    elif type(limit).__name__ == "A_Const" and getattr(getattr(limit, "val", None), "ival", None) == 1:
        taken = " with LIMIT 1"
    else:
        return
    scope = _scope(query)
    mentioned: set[str] = set()
    for part in (query.whereClause, query.havingClause):
        if part is not None:
            mentioned |= {r[1] for n in _walk(part) if (r := _ref(n))}
    for n in _walk(query, into_queries=False):
        if type(n).__name__ == "JoinExpr" and n.quals is not None:
            mentioned |= {r[1] for x in _walk(n.quals) if (r := _ref(x))}
    def table_of(ref) -> TableFact | None:
        qualifier = ref[0]
        if qualifier is not None:
            table_name = scope.relations.get(qualifier)
        elif len(scope.relations) == 1:
            table_name = next(iter(scope.relations.values()))
        else:
            return None
        table = facts.tables.get(table_name) if table_name else None
        return None if table is None or table.unknown_bases or table.from_sql else table

    decided = False  # an earlier key is a table's primary key: the order is settled before this key
    for sort in query.sortClause:
        ref = _ref(sort.node)
        if decided:
            break
        if ref is not None and (keyed := table_of(ref)) is not None and _primary(keyed, ref[1]) \
                and len([c for c in keyed.columns.values() if c.primary_key]) == 1:
            decided = True
        if sort.sortby_dir != _SQL_DESC or sort.sortby_nulls != _SQL_NULLS_DEFAULT:
            continue
        if ref is None or ref[1] in mentioned:
            continue
        qualifier, name = ref
        table = table_of(ref)
        if table is None:
            continue
        col = _nullable(facts, table, name)
        if col is None:
            continue
        written = f"{qualifier + '.' if qualifier else ''}{name} DESC"
        yield table, col, written, taken
