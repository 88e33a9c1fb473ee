"""How a module's code uses the models: the queries its functions build and run, what they filter on, how
they fetch rows, which relationships they reach on the objects loaded; where it soft deletes; and, in tests,
how the test database is built. Read with `ast`, one function at a time, names followed only inside the
function (a statement returned or handed to another function escapes, and is marked so)."""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field
from typing import Iterator

from analyzers.facts.columns import span_of
from analyzers.facts.core_tables import as_core, core_names
from analyzers.facts.discarded_queries import GENERATIVE
from analyzers.facts.model import Span
from analyzers.facts.names import Names, const_str, last
from analyzers.facts.predicates import asserted_terms
from analyzers.facts.walk import children, walk

SOFT_DELETE_COLUMNS = ("deleted_at", "is_deleted", "deleted", "deleted_on", "deleted_date", "date_deleted", "time_deleted",
                       "deleted_time")

# Methods of a statement or ORM Query that narrow it, load with it, or fetch its rows.
_FILTERS = ("where", "filter", "filter_by", "having")
_LIMITS = ("limit", "first", "get", "get_or_404", "first_or_404", "exists", "slice", "scalar", "one_or_404", "distinct",
           "group_by", "execution_options")
_JOINS = ("join", "outerjoin", "join_from", "select_from", "union", "union_all", "subquery", "cte", "correlate",
          "from_statement", "with_entities", "add_columns")
FETCHES = ("all", "first", "one", "one_or_none", "scalar_one", "scalar_one_or_none", "scalar", "scalars", "fetchall",
           "unique", "get", "count", "paginate", "fetchone", "partitions", "yield_per")
_RUNS = ("execute", "scalars", "scalar", "exec", "stream", "stream_scalars", "paginate")
_EAGER = ("selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager", "defaultload",
          "raiseload", "lazyload", "noload", "Load", "load_only", "undefer", "with_loader_criteria")


@dataclass(slots=True)
class QueryUse:
    """One query of the application, from its root (`select(Patient)`, `session.query(Patient)`,
    `Patient.query`) through everything its function does with it."""

    span: Span
    function: str
    model: str  # the class selected, as written
    model_ref: str  # its qualified name as the module's imports tell (src.models.Patient)
    is_async: bool  # run with `await` in an async function
    methods: tuple[str, ...]  # every method called on it and on its result, in no particular order
    filtered: tuple[str, ...]  # attributes the filters name (`Patient.deleted_at`, filter_by(deleted_at=...)): "Class.attr" or "attr"
    equals: tuple[str, ...]  # attributes of the model compared with `==` (or filter_by): the columns that pick the row
    opaque_filter: bool  # a filter dbreview cannot read through (a call of the project's, *args, a variable)
    eager: tuple[str, ...]  # names inside .options(...): the relationships loaded with it
    opaque_options: bool  # options it cannot read (a variable, *opts)
    escapes: bool  # returned, yielded or handed to another function before or instead of running
    columns_only: bool  # select(Model.id), select(Model, Other): not whole objects of one model
    instances: tuple[str, ...] = ()  # local names the loaded object(s) are bound to
    reached: tuple[tuple[str, Span], ...] = ()  # attributes read on those objects, where
    # attributes read on each row inside a `for` loop or comprehension over the rows: (attr, the read, the loop)
    looped: tuple[tuple[str, Span, Span], ...] = ()
    joined: tuple[str, ...] = ()  # attributes the join conditions name (`.join(Visit, Visit.patient_id == Patient.id)`): "Class.attr"
    ranges: tuple[str, ...] = ()  # attributes of the model tested by a range (`<`, `>`, between, overlaps)
    # attributes an index may look up: tested with `==`, in_() or is_() at the top of a filter or join condition
    # (and-ed, not under or_), "Class.attr", or "attr" from filter_by
    keyed: tuple[str, ...] = ()
    nulls: tuple[str, ...] = ()  # attributes of the model tested `.is_(None)` or `== None` at the top of a filter
    catches_many: int = 0  # the line of an `except MultipleResultsFound` around the query's run (0: none)
    statement: str = "select"  # "delete" or "update": a bulk statement (`delete(Visit).filter_by(...)`), in Usage.writes
    # what the filters assert of single columns, and-ed (analyzers/facts/predicates.py): ("Class.attr" or "attr" from
    # filter_by, "IS NULL" | "IS NOT NULL" | "= <constant>"), for the partial indexes that may serve the query
    asserted: tuple[tuple[str, str], ...] = ()
    # Attributes compared with a value (`==`, in_(), is_(); not another model's attribute), and-ed, in filters and join
    # conditions: "Class.attr", or "attr" from filter_by.
    valued: tuple[str, ...] = ()
    # Pairs of attributes of two models tested equal (`A.x == B.y`, and-ed) in filters and join conditions.
    equated: tuple[tuple[str, str], ...] = ()
    # The joins: (the class joined to, "Class.attr" of it that its condition names), or ("", "Class.rel") for a join
    # through a relationship (`.join(Case.signals)`, `.join(Signal, Case.signals)`).
    join_into: tuple[tuple[str, str], ...] = ()
    # A filter whose test dbreview cannot read (as opaque_filter, but not where a call of the project's only gives
    # the value a model's attribute is compared with: `X.user_id == current(user).id` tests user_id all the same).
    unread_test: bool = False
    # Attributes of the model compared with `==` case-folded: `func.lower(User.email) == ...` (or upper).
    folded: tuple[str, ...] = ()
    # The model is the class the method running the query is defined on (`session.query(cls)`, `type(self)`): its table,
    # if it maps one, is defined in this module.
    own_class: bool = False
    # Handed unrun to a method of the class the query's method is defined on (`self.get_one_or_none(statement)`):
    # (that class's name, the method called, the statement's position among its arguments); analyzers/facts/runners.py
    # says what such a method does with it. None: not so handed, or handed to two.
    handed: tuple[str, str, int] | None = None


@dataclass(slots=True)
class TestDatabase:
    """What a test module shows of how tests build their database."""

    create_all: list[Span] = field(default_factory=list)  # metadata.create_all / db.create_all
    sqlite: list[Span] = field(default_factory=list)  # a sqlite:// URL
    postgres: list[Span] = field(default_factory=list)  # a postgresql:// URL, testcontainers, pytest-postgresql
    migrates: list[Span] = field(default_factory=list)  # alembic upgrade run by the tests


@dataclass(slots=True)
class Usage:
    """All that one module shows of how the code uses the models."""

    queries: list[QueryUse] = field(default_factory=list)
    # Bulk DELETE and UPDATE statements of one model (`delete(Visit).filter_by(patient_id=...)`): they find their
    # rows by what they filter on, as a query does, but load none; apart from the queries, which rules read as loads.
    writes: list[QueryUse] = field(default_factory=list)
    len_all: list[tuple[Span, str]] = field(default_factory=list)  # len(<query>.all()): (where, the function)
    # soft-delete columns written: (column, what it is written on as the code names it, where). What: the
    # model of `update(Lead).values(...)`, else the name of the object (`lead` of `lead.deleted_at = now`);
    # None where nothing names it (`self`, a dict, setattr on an expression).
    soft_deletes: list[tuple[str, str | None, Span]] = field(default_factory=list)
    central_filters: list[Span] = field(default_factory=list)  # with_loader_criteria, a query_class ...
    test_db: TestDatabase = field(default_factory=TestDatabase)

    def __bool__(self) -> bool:
        t = self.test_db
        return bool(self.queries or self.writes or self.len_all or self.soft_deletes or self.central_filters or t.create_all or t.sqlite
                    or t.postgres or t.migrates)


_WRITE_SQL = re.compile(r"\s*(DELETE|UPDATE|INSERT|WITH)\b.*\bRETURNING\b", re.I | re.S)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MODULE_WORDS = re.compile(r"deleted|query_cl|with_loader_criteria|create_all|sqlite|postgres|alembic|testcontainers|Query")


def read_usage(tree: ast.Module, names: Names, path: str, functions: list[ast.FunctionDef | ast.AsyncFunctionDef],
               wide: ModuleWide | None, owners: dict[int, str] | None = None) -> Usage:
    """`functions`: those that may query (they call select(), query(), len() or read `.query`). `wide`: what the
    extractor's one traversal met of the module-wide uses (None where the module's words rule them out). `owners`:
    a method (by id) -> the name of the class it is defined on, which its `cls` (or `self.__class__`) is read as."""
    usage = Usage()
    if wide is not None:
        wide.settle(tree, usage)
    core = core_names(tree, names) if functions else set()
    for func in functions:
        owner = (owners or {}).get(id(func))
        func = as_core(func, core, names)
        _Function(_as_defined_on(func, owner) if owner else func, names, path, usage,
                  f"{names.module}.{owner}" if owner and names.module else owner).read()
    return usage


# Methods whose first parameter is not the class they are defined on (a subclass being made or created).
_SUBCLASS_HOOKS = ("__init_subclass__", "__new__", "__class_getitem__", "__prepare__")


def _as_defined_on(func: ast.FunctionDef | ast.AsyncFunctionDef, owner: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """A method in which the class it is defined on is named where the code reaches it through the method's first
    parameter (`cls` of a @classmethod; `self.__class__`, `type(self)`): `session.query(cls)` in `class Tag` is a
    query of Tag. Called on a subclass it runs on that subclass, whose rows are the class's own or a part of them
    (inheritance): the rules take the name only where a table is mapped by that class, so a mixin's or an abstract
    base's method, which runs on whichever model inherits it, resolves to no table. A copy; `func` itself unchanged."""
    args = [*func.args.posonlyargs, *func.args.args]
    decorators = {last(ast.unparse(d)) for d in func.decorator_list}
    if not args or func.name in _SUBCLASS_HOOKS or "staticmethod" in decorators:
        return func
    first = args[0].arg
    if any(isinstance(n, ast.Name) and n.id == first and not isinstance(n.ctx, ast.Load) for n in walk(func)):
        return func  # bound again in the body: not the class all along
    on_class = "classmethod" in decorators

    def names_class(node: ast.AST) -> bool:
        if on_class:
            return isinstance(node, ast.Name) and node.id == first
        return (isinstance(node, ast.Attribute) and node.attr == "__class__" and isinstance(node.value, ast.Name)
                and node.value.id == first) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type"
            and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Name) and node.args[0].id == first)

    if not any(names_class(n) for n in walk(func)):
        return func

    class _Named(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> ast.AST:
            if names_class(node):
                return ast.copy_location(ast.Name(owner, ast.Load()), node)
            return self.generic_visit(node)

    return _Named().visit(copy.deepcopy(func))


def _named(node: ast.AST) -> str | None:
    """The name an object is known by (`lead`, `self.lead` -> lead); None for `self` or an expression."""
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    return None if name in (None, "self", "cls") else name


def _written_on(call: ast.Call, names: Names) -> str | None:
    """What `.values(deleted_at=...)` or `.update(...)` writes on: the model its chain starts from
    (`update(Lead)`, `session.query(Lead)`), or the object it is called on (`lead.update(...)`), or what an imported
    module's function is given first (`service.update(lead_id, ...)`)."""
    node: ast.AST = call.func.value if isinstance(call.func, ast.Attribute) else call
    while True:
        if isinstance(node, ast.Call):
            if last(names.callee(node)) in ("update", "query", "select") and node.args:
                return _named(node.args[0])
            node = node.func.value if isinstance(node.func, ast.Attribute) else node.func
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call):
            node = node.value
        elif isinstance(node, ast.Name) and node.id in names.imports and call.args and node is call.func.value:
            return _named(call.args[0])  # service.update(certificate_id, deleted=True): a module's function, given the row
        else:
            return _named(node)


def top_functions(tree: ast.Module) -> dict[str, bool]:
    """The module-level functions -> whether they are decorated (registered: called by whatever they register with)."""
    return {s.name: bool(s.decorator_list) for s in tree.body if s.__class__ is ast.FunctionDef or s.__class__ is ast.AsyncFunctionDef}


def mention_words(text: str) -> list[str]:
    """The names a string that is not itself an identifier mentions ("pkg.module:get_by_slug", a path)."""
    return _WORD.findall(text) if len(text) < 200 else []


# The node classes ModuleWide.see reads.
WIDE_CLASSES = frozenset((ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Call, ast.Attribute, ast.Constant, ast.ClassDef))
_WIDE_LISTS = ("soft_deletes", "central_filters", "create_all", "sqlite", "postgres", "migrates")


class ModuleWide:
    """The module-wide uses (soft-delete writes, central filters, how the tests build their database), read node by
    node as the extractor's one traversal of the module meets them (analyzers/facts/python_module.py `_Reader._index`),
    in whatever order it goes. Their lists are kept in ast.walk's order (breadth first): by depth, and where two
    entries of one list come from nodes of the same depth, by a walk of the module in that order instead."""

    def __init__(self, names: Names, path: str) -> None:
        self.names, self.path = names, path
        self.found: dict[str, list[tuple[int, int, object]]] = {k: [] for k in _WIDE_LISTS}  # (depth, node id, entry)

    @staticmethod
    def wanted(text: str) -> bool:
        return bool(_MODULE_WORDS.search(text))  # only where it can find something

    def settle(self, tree: ast.Module, usage: Usage) -> None:
        """Into `usage`, each list in ast.walk's order."""
        if any(_tied(entries) for entries in self.found.values()):
            self.found = {k: [] for k in _WIDE_LISTS}
            for node in walk(tree):
                if node.__class__ in WIDE_CLASSES:
                    self.see(node, node.__class__, 0)
        ordered = {k: [e for _, _, e in sorted(v, key=_depth)] for k, v in self.found.items()}  # stable
        db = usage.test_db
        usage.soft_deletes, usage.central_filters = ordered["soft_deletes"], ordered["central_filters"]  # type: ignore[assignment]
        db.create_all, db.sqlite, db.postgres, db.migrates = (ordered["create_all"], ordered["sqlite"],  # type: ignore[assignment]
                                                              ordered["postgres"], ordered["migrates"])

    def see(self, node: ast.AST, cls: type, depth: int) -> None:
        names, path, found, at = self.names, self.path, self.found, id(node)

        def add(key: str, entry: object) -> None:
            found[key].append((depth, at, entry))

        if cls is ast.Assign or cls is ast.AugAssign or cls is ast.AnnAssign:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
            for t in targets:
                if isinstance(t, ast.Attribute) and t.attr in SOFT_DELETE_COLUMNS:
                    add("soft_deletes", (t.attr, _named(t.value), span_of(node, path)))
                if isinstance(t, ast.Name) and t.id in ("query_class", "query_cls") and not isinstance(node, ast.AugAssign):
                    add("central_filters", span_of(node, path))
        elif cls is ast.Call:
            assert isinstance(node, ast.Call)
            qualified = names.callee(node)
            callee = last(qualified)
            for k in node.keywords:
                if k.arg in SOFT_DELETE_COLUMNS and callee in ("values", "update", "dict", "model_copy", "copy"):
                    add("soft_deletes", (k.arg, _written_on(node, names), span_of(node, path)))
                elif k.arg in ("query_class", "query_cls"):
                    add("central_filters", span_of(node, path))
            if callee == "setattr" and len(node.args) >= 2 and const_str(node.args[1]) in SOFT_DELETE_COLUMNS:
                add("soft_deletes", (const_str(node.args[1]) or "", _named(node.args[0]), span_of(node, path)))
            elif callee == "update" and node.args and isinstance(node.args[-1], ast.Dict):
                for k in node.args[-1].keys:
                    key = const_str(k) or (k.attr if isinstance(k, ast.Attribute) else None)
                    if key in SOFT_DELETE_COLUMNS:
                        add("soft_deletes", (key, _written_on(node, names), span_of(node, path)))
            elif callee == "with_loader_criteria" or (callee in _FILTERS and _generic_soft_delete_filter(node)):
                add("central_filters", span_of(node, path))  # every query, or a repository's, filtered at once
            elif callee in ("PostgresContainer", "postgresql_proc", "postgresql_noproc", "factories") or "testcontainers" in qualified:
                add("postgres", span_of(node, path))
            elif callee == "upgrade" and "alembic" in qualified:
                add("migrates", span_of(node, path))
        elif cls is ast.Attribute:
            if node.attr == "create_all":  # type: ignore[attr-defined]
                receiver = ast.unparse(node.value)  # type: ignore[attr-defined]
                if receiver.endswith("metadata") or receiver in ("db", "self.db", "_db"):
                    add("create_all", span_of(node, path))
        elif cls is ast.Constant:
            if isinstance(node.value, str):  # type: ignore[attr-defined]
                text = node.value.strip().lower()  # type: ignore[attr-defined]
                if text.startswith("sqlite"):
                    add("sqlite", span_of(node, path))
                elif text.startswith(("postgresql", "postgres://")):
                    add("postgres", span_of(node, path))
                elif text.startswith("alembic upgrade"):
                    add("migrates", span_of(node, path))
        elif cls is ast.ClassDef and any(last(names.qualname(b)) in ("Query", "BaseQuery") for b in node.bases):  # type: ignore[attr-defined]
            if "deleted" in ast.unparse(node):
                add("central_filters", span_of(node, path))


def _depth(entry: tuple[int, int, object]) -> int:
    return entry[0]


def _tied(entries: list[tuple[int, int, object]]) -> bool:
    """Two nodes of one depth: their order in ast.walk is not known from the depth."""
    first: dict[int, int] = {}
    return any(first.setdefault(depth, node) != node for depth, node, _ in entries)


_NESTED = {ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef}  # read on their own
_BINDS = {ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.comprehension}


class _Function:
    """The queries of one function, followed through its local names."""

    def __init__(self, func: ast.FunctionDef | ast.AsyncFunctionDef, names: Names, path: str, usage: Usage,
                 owner_ref: str | None = None, through_helpers: bool = False) -> None:
        self.func, self.names, self.path, self.usage = func, names, path, usage
        self.owner_ref = owner_ref  # the qualified name of the class a method is defined on
        # Follow a statement handed to a method of `self` on to what that method gives back (a helper's own reading,
        # analyzers/facts/runners.py); otherwise it escapes there.
        self.through_helpers = through_helpers
        self.parent: dict[int, ast.AST] = {}
        self.loads: dict[str, list[ast.Name]] = {}  # local name -> where it is read
        self.assigns: dict[str, list[ast.AST]] = {}  # local name -> the values bound to it
        self.binds: dict[str, list[tuple[int, int]]] = {}  # local name -> where each binding takes effect
        self.bind_nodes: dict[str, list[tuple[tuple[int, int], ast.AST]]] = {}  # the same, with the binding statement
        self.nodes: list[ast.AST] = []
        todo: list[ast.AST] = [func]
        parent, nodes, push = self.parent, self.nodes, todo.append
        while todo:
            node = todo.pop()
            for child in children(node):
                cls = child.__class__  # the exact class: ast.parse makes no subclasses
                if cls in _NESTED:
                    continue  # a nested function is read on its own
                parent[id(child)] = node
                nodes.append(child)
                push(child)
                if cls is ast.Name:
                    if child.ctx.__class__ is ast.Load:
                        self.loads.setdefault(child.id, []).append(child)
                elif cls is ast.Assign and len(child.targets) == 1 and child.targets[0].__class__ is ast.Name:
                    self.assigns.setdefault(child.targets[0].id, []).append(child.value)
                if cls in _BINDS:
                    for t in (child.targets if isinstance(child, ast.Assign) else [child.target]):
                        for n in walk(t):
                            if isinstance(n, ast.Name):
                                self.binds.setdefault(n.id, []).append(_bound_at(child))
                                self.bind_nodes.setdefault(n.id, []).append((_bound_at(child), child))

    def read(self) -> None:
        for node in self.nodes:
            cls = node.__class__
            if cls is ast.Call:
                if last(self.names.callee(node)) == "len" and len(node.args) == 1 and self._counts_rows(node.args[0]):
                    self.usage.len_all.append((span_of(node, self.path), self.func.name))
                root = self._root(node)
                if root is not None:
                    self._query(node, *root)
                elif (model := self._bulk_write(node)) is not None:
                    self._query(node, model, False, self._ref(node.args[0]), last(self.names.callee(node)))
            elif cls is ast.Attribute and node.attr == "query" and _model_name(node.value) and isinstance(
                self.parent.get(id(node)), ast.Attribute
            ):
                self._query(node, _model_name(node.value) or "", False, self._ref(node.value))  # Patient.query.filter(...)

    def _ref(self, model: ast.AST) -> str:
        """The qualified name of a model as written: the class a method is defined on, where it names that class."""
        if self.owner_ref and isinstance(model, ast.Name) and model.id == self.owner_ref.rpartition(".")[2]:
            return self.owner_ref
        return getattr(model, "core_ref", None) or self.names.qualname(model)  # a Table's variable (core_tables.py)

    def _counts_rows(self, arg: ast.AST) -> bool:
        """`len(<rows of a query>.all())`: every row fetched to be counted. Not when the query is limited."""
        if not (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr in ("all", "fetchall")):
            return False
        chain = [arg.func.value]
        for _ in range(3):  # the chain itself, then what the name at its root was bound to
            methods, root = _chain(chain[-1])
            if methods & set(_LIMITS) - {"scalar", "distinct", "execution_options"}:
                return False
            if methods & {*_RUNS, *_FILTERS, "query"} or self._root_of(root):
                return not any(self._writes(node) for node in chain)
            if not isinstance(root, ast.Name) or len(self.assigns.get(root.id, ())) != 1:
                return False
            chain.append(self.assigns[root.id][0])
        return False

    def _writes(self, node: ast.AST, hops: int = 0) -> bool:
        """Whether the statement run is a DELETE, UPDATE or INSERT (its RETURNING rows are the result of the
        write, which count(*) cannot replace), followed through the names it uses: a statement built in steps
        (`stmt = insert(T)...`, then `stmt = stmt.on_conflict_do_update(...).returning(T.id)`) is a write if
        any of the values bound to its name is."""
        for n in ast.walk(node):
            if isinstance(n, ast.Call) and last(self.names.callee(n)) in ("delete", "update", "insert", "returning"):
                return True
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and _WRITE_SQL.match(n.value):
                return True
            if isinstance(n, ast.Name) and hops < 2 and any(
                    value is not node and self._writes(value, hops + 1) for value in self.assigns.get(n.id, ())):
                return True
        return False

    def _root_of(self, node: ast.AST) -> bool:
        return (isinstance(node, ast.Call) and self._root(node) is not None) or (
            isinstance(node, ast.Attribute) and node.attr == "query" and _model_name(node.value) is not None)

    def _root(self, call: ast.Call) -> tuple[str, bool, str] | None:
        """(model, columns only, its qualified name) when `call` starts a query of one model: select(Model), session.query(Model)."""
        callee = self.names.callee(call)
        name = last(callee)
        if not call.args:
            return None
        if name == "select" and (callee == "select" or callee.startswith(("sqlalchemy", "sqlmodel"))):
            pass
        elif name == "query" and isinstance(call.func, ast.Attribute) and _sessionish(call.func.value):
            pass
        else:
            return None
        first = call.args[0]
        model = _model_name(first)
        if model is not None:
            return model, len(call.args) > 1, self._ref(first)
        if isinstance(first, ast.Attribute) and _model_name(first.value):
            return _model_name(first.value) or "", True, self._ref(first.value)  # select(Patient.id)
        return None

    def _bulk_write(self, call: ast.Call) -> str | None:
        """The model of `delete(Model)` / `update(Model)` (SQLAlchemy's, or Flask-SQLAlchemy's `db.delete(Model)`): a
        class, never an object, so not `session.delete(obj)`."""
        callee = self.names.callee(call)
        name = last(callee)
        if name not in ("delete", "update") or len(call.args) != 1:
            return None
        receiver = callee.rpartition(".")[0]
        if callee != name and not callee.startswith(("sqlalchemy", "sqlmodel")) and last(receiver) not in ("db", "sa"):
            return None
        return _model_name(call.args[0])

    def _query(self, root: ast.AST, model: str, columns_only: bool, model_ref: str, statement: str = "select") -> None:
        acc = _Acc(legacy=isinstance(root, ast.Attribute) or last(self.names.callee(root)) == "query")
        self._follow(root, acc, 0, set())
        is_async = isinstance(self.func, ast.AsyncFunctionDef) and acc.awaited
        acc.instances -= {(name, at) for name, at in acc.instances if self._refreshed(name)}
        reached = tuple((attr, span_of(n, self.path)) for name, at in acc.instances for attr, n in self._reached(name, at))
        looped = tuple(dict.fromkeys((attr, span_of(n, self.path), span_of(loop, self.path))
                                     for name, loop in acc.loops if not self._refreshed(name) for attr, n in _read_in(loop, name)))
        (self.usage.queries if statement == "select" else self.usage.writes).append(QueryUse(
            span=span_of(root, self.path), function=self.func.name, model=model, model_ref=model_ref, is_async=is_async,
            methods=tuple(sorted(acc.methods)), filtered=tuple(sorted(acc.filtered)), equals=tuple(sorted(acc.equals.get(model, set()) | acc.equals.get("", set()))),
            opaque_filter=acc.opaque_filter or acc.value_call, unread_test=acc.opaque_filter, eager=tuple(sorted(acc.eager)), opaque_options=acc.opaque_options,
            escapes=acc.escapes, columns_only=columns_only, instances=tuple(sorted({name for name, _ in acc.instances})), reached=reached, looped=looped,
            handed=(self.owner_ref.rpartition(".")[2], *acc.handed) if self.owner_ref and acc.handed and acc.handed[0] else None,
            joined=tuple(sorted(acc.joined)),
            ranges=tuple(sorted(acc.ranges)), keyed=tuple(sorted(acc.keyed)), nulls=tuple(sorted(acc.nulls)),
            catches_many=self._catches_many(root), statement=statement,
            asserted=tuple(sorted(acc.asserted)), valued=tuple(sorted(acc.valued)), equated=tuple(sorted(acc.equated)),
            join_into=tuple(sorted(acc.join_into)), folded=tuple(sorted(acc.folded.get(model, set()))),
            own_class=bool(self.owner_ref) and model_ref == self.owner_ref,
        ))

    def _discarded(self, call: ast.Call) -> bool:
        """Whether `call`, a generative method of a query, and those chained on its result are a statement of their
        own: the new query they return is dropped."""
        node: ast.AST = call
        while isinstance(up := self.parent.get(id(node)), ast.Attribute) and up.attr in GENERATIVE and isinstance(
                above := self.parent.get(id(up)), ast.Call) and above.func is up:
            node = above
        return isinstance(up, ast.Expr)

    def _catches_many(self, node: ast.AST) -> int:
        """The line of the `except MultipleResultsFound` (alone or in a tuple) of a `try` whose body holds `node`."""
        while id(node) in self.parent:
            up = self.parent[id(node)]
            if isinstance(up, ast.Try) and any(node is stmt for stmt in up.body):
                for handler in up.handlers:
                    if handler.type is not None and any(
                            getattr(n, "id", None) == "MultipleResultsFound" or getattr(n, "attr", None) == "MultipleResultsFound"
                            for n in walk(handler.type)):
                        return handler.lineno
            node = up
        return 0

    def _follow(self, node: ast.AST, acc: _Acc, depth: int, seen: set[tuple[str, tuple[int, int]]]) -> None:
        """Up from `node` (the query, or a name bound to it): the methods called on it, the calls that run it,
        the names it is bound to (followed where they are read). `seen`: the bindings followed, each once for the
        whole query (shared, not a path's), so `stmt = stmt.where(...)` again and again is followed to the end."""
        while depth < 40:
            depth += 1
            parent = self.parent.get(id(node))
            if isinstance(parent, ast.Await):
                acc.awaited = True
                node = parent
                continue
            if isinstance(parent, ast.Attribute) and parent.value is node:
                call = self.parent.get(id(parent))
                if isinstance(call, ast.Call) and call.func is parent:
                    if parent.attr in GENERATIVE and self._discarded(call):
                        return  # `query.filter_by(deleted=False)` alone: a new query thrown away, this one unchanged
                    self._method(parent.attr, call, acc)
                    node = call
                    continue
                return  # an attribute read (`.statement`, `.c`): not followed
            if isinstance(parent, ast.Call) and node in parent.args:
                name = last(self.names.callee(parent))
                if isinstance(parent.func, ast.Attribute) and name in _RUNS:
                    acc.ran = True
                    node = parent
                    continue
                if not acc.ran and _on_self(parent.func, self.func):
                    hand = (parent.func.attr, parent.args.index(node))  # type: ignore[attr-defined]
                    acc.handed = hand if acc.handed in (None, hand) else ("", -1)  # two helpers: neither is the one
                    if self.through_helpers:
                        node = parent
                        continue
                if name in ("list", "tuple", "set", "sorted", "next", "iter", "len", "bool", "any"):
                    if name in ("list", "tuple", "sorted", "next", "iter"):
                        node = parent
                        continue
                    return
                acc.escapes = acc.escapes or not acc.ran  # handed on unrun: another function may filter it
                if not acc.ran and _rebound(node, self.parent.get(id(parent))):
                    node = parent  # `query = add_identity_filter(query, id_)`: the helper hands the query back, filtered
                    continue
                return
            if isinstance(parent, ast.Call) and any(k.value is node for k in parent.keywords):
                acc.escapes = acc.escapes or not acc.ran
                return
            if isinstance(parent, (ast.Return, ast.Yield, ast.YieldFrom)):
                acc.escapes = acc.escapes or not acc.ran
                return
            if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                for t in targets:
                    if isinstance(t, ast.Name) and (t.id, _bound_at(parent)) not in seen:
                        if acc.fetched_one:
                            acc.instances.add((t.id, _bound_at(parent)))
                        # once for the whole query, not once a path: `if a: q = q.filter(..)` ten times over has
                        # 2**10 paths through the same ten bindings
                        seen.add((t.id, _bound_at(parent)))
                        self._through_name(t.id, parent, acc, depth, seen)
                    elif not isinstance(t, ast.Name):
                        acc.escapes = True  # self.stmt = ..., a tuple: followed no further
                return
            if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
                # a legacy Query iterated as it is (`for m in session.query(M).filter(...)`) yields its objects too
                if isinstance(parent.target, ast.Name) and (acc.fetched_many or (acc.legacy and not acc.ran)):
                    acc.instances.add((parent.target.id, _bound_at(parent)))
                    acc.loops.append((parent.target.id, parent if isinstance(parent, (ast.For, ast.AsyncFor))
                                      else self.parent.get(id(parent))))
                return
            if isinstance(parent, (ast.IfExp, ast.BoolOp)):
                node = parent
                continue
            return

    def _through_name(self, name: str, bound: ast.AST, acc: _Acc, depth: int, seen: set[tuple[str, tuple[int, int]]]) -> None:
        """The places a local name bound to the query (or its result) is read while that binding holds."""
        start = _bound_at(bound)
        reads = []
        for use in self.loads.get(name, ()):
            at = (use.lineno, use.col_offset)
            if at <= start or self._exclusive(bound, use):
                continue
            # bound again on the way: unless in a branch of an `if` the binding or the read is not in (`if a: q = A`
            # / `else: q = B`, then `return q`: either reaches it)
            if any(start < b < at and self._on_the_way(node, bound, use) for b, node in self.bind_nodes.get(name, ())):
                continue
            reads.append(use)
        if any(self._exclusive(a, b) for a in reads for b in reads):
            acc.opaque_filter = True  # one branch filters by one column, another by another: not one set of filters
        for use in reads:
            self._follow(use, acc, depth, seen)

    def _on_the_way(self, again: ast.AST, bound: ast.AST, use: ast.AST) -> bool:
        """Does the binding `again` run on every path from `bound` to `use`: not in another branch than `bound`, and in
        no branch of an `if` that `use` is not inside on the same side?"""
        if self._exclusive(again, bound):
            return False
        around = self._branches(use)
        return all(around.get(k) == side for k, side in self._branches(again).items())

    def _exclusive(self, a: ast.AST, b: ast.AST) -> bool:
        """`a` and `b` sit in different branches of one `if` (`if x: stmt = stmt.where(A)` / `else: stmt =
        stmt.where(B)`): one never runs after the other."""
        branches = self._branches(a)
        return any(branches.get(k, side) != side for k, side in self._branches(b).items())

    def _branches(self, node: ast.AST) -> dict[int, str]:
        out: dict[int, str] = {}
        while id(node) in self.parent:
            parent = self.parent[id(node)]
            if isinstance(parent, ast.If) and node is not parent.test:
                out[id(parent)] = "body" if node in parent.body else "orelse"
            node = parent
        return out

    def _while_bound(self, name: str, start: tuple[int, int]) -> list[ast.Name]:
        """The reads of `name` after the binding that takes effect at `start`, before the next one (a name
        bound again, `stmt = stmt.where(...)`, is followed through its new binding). In a loop a later
        binding may come first in the text: reads are then kept up to the end of the function."""
        later = [b for b in self.binds.get(name, ()) if b > start]
        end = min(later) if later else (10**9, 0)
        return [u for u in self.loads.get(name, ()) if start < (u.lineno, u.col_offset) < end]

    def _method(self, method: str, call: ast.Call, acc: _Acc) -> None:
        acc.methods.add(method)
        if method in FETCHES:
            acc.ran = True
        if method in _FILTERS:
            for arg in call.args:
                self._filter(arg, acc)
                acc.keyed |= keyed_attributes(arg)
                acc.valued |= keyed_attributes(arg, values=True)
                acc.equated |= equated_attributes(arg)
                acc.asserted |= asserted_terms(arg, attribute_ref)
            for arg, value in self._keywords(call):
                if arg is None:
                    acc.opaque_filter = True  # filter_by(**filters): which columns, dbreview cannot tell
                else:
                    acc.filtered.add(arg)
                    acc.keyed.add(arg)
                    acc.valued.add(arg)
                    key = ast.Name(arg)
                    acc.asserted |= asserted_terms(ast.Compare(key, [ast.Eq()], [value]), lambda n, key=key, arg=arg: arg if n is key else None)
                    acc.equals.setdefault("", set()).add(arg)  # filter_by: the model's own attributes
        elif method in ("join", "outerjoin", "join_from"):
            acc.joined |= {f"{_model_name(n.value)}.{n.attr}" for a in [*call.args, *(k.value for k in call.keywords)]
                           for n in walk(a) if isinstance(n, ast.Attribute) and _model_name(n.value)}
            args = call.args[1:] if method == "join_from" else call.args  # join_from(Left, Right, on)
            conditions = [*args[1:], *(k.value for k in call.keywords if k.arg == "onclause")]
            for a in conditions:
                acc.keyed |= keyed_attributes(a)
                acc.valued |= keyed_attributes(a, values=True)
                acc.equated |= equated_attributes(a)
                acc.asserted |= asserted_terms(a, attribute_ref)
            target = _model_name(args[0]) if args else None
            for a in [*args[:1], *conditions]:
                if isinstance(a, ast.Attribute) and _model_name(a.value) and a.attr[:1].islower():
                    acc.join_into.add(("", f"{_model_name(a.value)}.{a.attr}"))  # a relationship: .join(Case.signals)
                elif target is not None and a is not args[0]:
                    acc.join_into |= {(target, ref) for ref in (attribute_ref(n) for n in walk(a))
                                      if ref is not None and ref.partition(".")[0] == target}
        elif method == "select_from":  # select(...).select_from(a.join(b, a.c.x == b.c.y)): Core tables' joins
            for n in (n for arg in call.args for n in walk(arg)):
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("join", "outerjoin"):
                    self._method(n.func.attr, n, acc)
        elif method == "options":
            for arg in call.args:
                if isinstance(arg, ast.Starred) or isinstance(arg, ast.Name):
                    acc.opaque_options = True
                for n in walk(arg):
                    if isinstance(n, ast.Attribute):
                        acc.eager.add(n.attr)
                    elif const_str(n):
                        acc.eager.add(const_str(n) or "")
        elif method in ("scalar_one", "scalar_one_or_none", "one", "one_or_none", "first", "get", "scalar",
                        "get_or_404", "first_or_404", "one_or_404"):
            acc.fetched_one, acc.fetched_many = True, False
        elif method in ("all", "scalars", "fetchall", "unique"):
            acc.fetched_many = True

    def _keywords(self, call: ast.Call):
        """A call's keyword arguments as (name, value), a dict unpacked into it (`filter_by(**{"name": n})`, or
        `**kw` where `kw` is such a dict, bound once and read nowhere else) as its keys; (None, value) where the
        names are not known (`**filters` given by the caller, a dict built in steps)."""
        for k in call.keywords:
            if k.arg is not None:
                yield k.arg, k.value
                continue
            value = k.value
            if isinstance(value, ast.Name) and len(self.assigns.get(value.id, ())) == 1 and len(self.binds.get(value.id, ())) == 1 \
                    and all(isinstance(self.parent.get(id(use)), ast.keyword) for use in self.loads.get(value.id, ())):
                value = self.assigns[value.id][0]
            keys = [const_str(key) if key is not None else None for key in value.keys] if isinstance(value, ast.Dict) else [None]
            if None in keys or any(not key.isidentifier() for key in keys):
                yield None, k.value
            else:
                yield from zip(keys, value.values)  # type: ignore[union-attr]

    def _filter(self, expr: ast.AST, acc: _Acc) -> None:
        if any(isinstance(n, ast.Starred) for n in walk(expr)) or (isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or)) or (
                isinstance(expr, ast.Call) and last(self.names.callee(expr)) == "or_") or _alternatives(expr):
            # Filters made elsewhere, or alternatives (`or_`, `A.x == x if by_x else A.y == y`): which rows match is
            # not read here.
            acc.opaque_filter = True
            return
        if isinstance(expr, ast.Compare) and all(isinstance(o, (ast.Lt, ast.Gt, ast.LtE, ast.GtE)) for o in expr.ops):
            acc.ranges.update(n.attr for n in (expr.left, *expr.comparators)
                              if isinstance(n, ast.Attribute) and _model_name(n.value))  # starts_at < :end
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in _RANGE_TESTS and (
                isinstance(expr.func.value, ast.Attribute) and _model_name(expr.func.value.value)):
            acc.ranges.add(expr.func.value.attr)  # Block.period.overlaps(...), Block.day.between(a, b)
        if _null_test(expr):
            acc.nulls.add(_null_test(expr) or "")
        elif isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], ast.Eq):
            left = expr.left
            if isinstance(left, ast.Attribute) and _model_name(left.value):
                acc.equals.setdefault(_model_name(left.value) or "", set()).add(left.attr)
            elif not isinstance(left, ast.Attribute):
                acc.opaque_filter = True  # func.lower(User.email) == ...: an expression index may make it unique
            for side in (left, expr.comparators[0]):
                folded = self._folded(side)
                if folded:
                    acc.folded.setdefault(folded[0], set()).add(folded[1])
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.And):
            for v in expr.values:
                self._filter(v, acc)
            return
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitAnd):  # (t.c.a == x) & (t.c.b == y), as and_()
            self._filter(expr.left, acc)
            self._filter(expr.right, acc)
            return
        if isinstance(expr, ast.Call) and last(self.names.callee(expr)) == "and_":
            for v in expr.args:
                self._filter(v, acc)
            return
        found = False
        values = _value_sides(expr)
        for n in walk(expr):
            if isinstance(n, ast.Attribute) and _model_name(n.value):
                acc.filtered.add(f"{_model_name(n.value)}.{n.attr}")
                found = True
            elif isinstance(n, ast.Attribute):
                acc.filtered.add(n.attr)  # self.model.deleted_at, alias.deleted_at
            elif isinstance(n, ast.Call) and not _sqlalchemy_call(self.names.callee(n)):
                if id(n) in values:
                    acc.value_call = True  # what an attribute is compared with: the test is read all the same
                else:
                    acc.opaque_filter = True  # a helper of the project's: it may filter anything
        if not found and isinstance(expr, ast.Name):
            acc.opaque_filter = True

    def _folded(self, node: ast.AST) -> tuple[str, str] | None:
        """(class, attribute) of `func.lower(User.email)` / `func.upper(...)`: a column compared case-folded."""
        if (isinstance(node, ast.Call) and len(node.args) == 1 and last(self.names.callee(node)) in ("lower", "upper")
                and isinstance(node.args[0], ast.Attribute) and _model_name(node.args[0].value)
                and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, (ast.Name, ast.Attribute))):
            return _model_name(node.args[0].value) or "", node.args[0].attr
        return None

    def _refreshed(self, name: str) -> bool:
        """`await session.refresh(obj, ["visits"])`: loads what it names; the object's reads are not followed."""
        for use in self.loads.get(name, ()):
            call = self.parent.get(id(use))
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "refresh" and (
                    len(call.args) + len(call.keywords) > 1):
                return True
        return False

    def _reached(self, name: str, at: tuple[int, int]):
        """Attributes read on a local name bound to a loaded object (`patient.visits`) while it holds it."""
        for use in self._while_bound(name, at):
            parent = self.parent.get(id(use))
            if isinstance(parent, ast.Attribute) and parent.value is use:
                yield parent.attr, parent


@dataclass(slots=True)
class _Acc:
    methods: set[str] = field(default_factory=set)
    filtered: set[str] = field(default_factory=set)
    joined: set[str] = field(default_factory=set)
    equals: dict[str, set[str]] = field(default_factory=dict)
    eager: set[str] = field(default_factory=set)
    instances: set[tuple[str, tuple[int, int]]] = field(default_factory=set)  # (name, where bound)
    loops: list[tuple[str, ast.AST]] = field(default_factory=list)  # (row name, the loop or comprehension over the rows)
    legacy: bool = False  # the root is a legacy Query (session.query(M), M.query), iterable as it is
    opaque_filter: bool = False
    value_call: bool = False  # a call of the project's gives a compared value (QueryUse.unread_test)
    opaque_options: bool = False
    escapes: bool = False
    awaited: bool = False
    fetched_one: bool = False
    fetched_many: bool = False
    ran: bool = False  # executed or fetched: what happens to the rows after says nothing of the filters
    ranges: set[str] = field(default_factory=set)
    keyed: set[str] = field(default_factory=set)
    nulls: set[str] = field(default_factory=set)
    asserted: set[tuple[str, str]] = field(default_factory=set)
    valued: set[str] = field(default_factory=set)
    equated: set[tuple[str, str]] = field(default_factory=set)
    join_into: set[tuple[str, str]] = field(default_factory=set)
    folded: dict[str, set[str]] = field(default_factory=dict)
    handed: tuple[str, int] | None = None  # (method of self, position): QueryUse.handed


def _rebound(name: ast.AST, statement: ast.AST | None) -> bool:
    """The call handed the name is assigned back to it alone: `stmt = helper(stmt, x)`."""
    return isinstance(name, ast.Name) and isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
        and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == name.id


def _on_self(func: ast.AST, method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`func` is `self.<name>` in a method whose first parameter is `self`."""
    args = method.args.args
    return (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
            and bool(args) and args[0].arg == "self")


_VALUE_TESTS = ("in_", "not_in", "notin_", "is_", "is_not", "isnot", "like", "ilike", "startswith", "endswith", "between")


def _alternatives(expr: ast.AST) -> bool:
    """`A.x == x if by_x else A.y == y`: a test of one column or of another. Not `(A.v == v) if pinned else True`,
    a test that is there or not (read as an optional one, as before)."""
    return isinstance(expr, ast.IfExp) and all(
        any(isinstance(n, ast.Attribute) and _model_name(n.value) for n in walk(branch)) for branch in (expr.body, expr.orelse))


def _value_sides(expr: ast.AST) -> set[int]:
    """The nodes (ids) that only give the value a model's attribute is tested against: the other side of `X.a == v`
    (`in`, `!=`, `<`...), the arguments of `X.a.in_(v)` and the like."""
    out: set[int] = set()
    for n in walk(expr):
        if isinstance(n, ast.Compare) and len(n.ops) == 1:
            sides = [n.left, n.comparators[0]]
            attrs = [s for s in sides if isinstance(s, ast.Attribute) and _model_name(s.value)]
            if len(attrs) == 1:
                out |= {id(m) for s in sides if s is not attrs[0] for m in walk(s)}
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _VALUE_TESTS \
                and isinstance(n.func.value, ast.Attribute) and _model_name(n.func.value.value):
            out |= {id(m) for a in [*n.args, *(k.value for k in n.keywords)] for m in walk(a)}
    return out


def _null_test(expr: ast.AST) -> str | None:
    """The model attribute `expr` tests for NULL: `X.a.is_(None)`, `X.a == None`."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "is_" and len(expr.args) == 1:
        side, value = expr.func.value, expr.args[0]
    elif isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], ast.Eq):
        side, value = expr.left, expr.comparators[0]
    else:
        return None
    if isinstance(value, ast.Constant) and value.value is None and isinstance(side, ast.Attribute) and _model_name(side.value):
        return side.attr
    return None


def attribute_ref(node: ast.AST) -> str | None:
    """"Class.attr" for a model's attribute (`Patient.deleted_at`)."""
    return f"{_model_name(node.value)}.{node.attr}" if isinstance(node, ast.Attribute) and _model_name(node.value) else None


def keyed_attributes(expr: ast.AST, values: bool = False) -> set[str]:
    """The model attributes `expr` tests in a way an index looks up ("Class.attr"): `X.a == v`, `X.a.in_(...)`,
    `X.a.is_(None)`, and-ed (`&`, `and_`, a bool `and`); nothing under an or_, a not_ or a helper's call.
    `values`: not `X.a == Y.b` (a join's test, which an index serves from the other side)."""
    if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.And):
        return {a for v in expr.values for a in keyed_attributes(v, values)}
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitAnd):
        return keyed_attributes(expr.left, values) | keyed_attributes(expr.right, values)
    if isinstance(expr, ast.Call) and (getattr(expr.func, "id", None) or getattr(expr.func, "attr", None)) == "and_":
        return {a for v in expr.args for a in keyed_attributes(v, values)}
    sides: list[ast.AST] = []
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], ast.Eq):
        sides = [expr.left, expr.comparators[0]]
        models = [n for n in sides if isinstance(n, ast.Attribute) and _model_name(n.value)]
        sides = models if len(models) == 1 or not values else []
    elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in ("in_", "is_"):
        sides = [expr.func.value]
    return {f"{_model_name(n.value)}.{n.attr}" for n in sides if isinstance(n, ast.Attribute) and _model_name(n.value)}


def equated_attributes(expr: ast.AST) -> set[tuple[str, str]]:
    """The pairs of model attributes `expr` tests equal ("A.x", "B.y"), and-ed as keyed_attributes reads them."""
    if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.And):
        return {p for v in expr.values for p in equated_attributes(v)}
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitAnd):
        return equated_attributes(expr.left) | equated_attributes(expr.right)
    if isinstance(expr, ast.Call) and (getattr(expr.func, "id", None) or getattr(expr.func, "attr", None)) == "and_":
        return {p for v in expr.args for p in equated_attributes(v)}
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], ast.Eq):
        left, right = attribute_ref(expr.left), attribute_ref(expr.comparators[0])
        if left is not None and right is not None:
            return {(left, right)}
    return set()


def _read_in(loop: ast.AST, name: str) -> Iterator[tuple[str, ast.Attribute]]:
    """Attributes read on `name` inside the body of a `for` loop (not after it: there the name holds the last row
    only), or anywhere in a comprehension, whose reads come before its `for` in the text (`[m.team for m in q]`)."""
    for part in loop.body if isinstance(loop, (ast.For, ast.AsyncFor)) else [loop]:
        for n in walk(part):
            if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name) and n.value.id == name:
                yield n.attr, n


def _bound_at(node: ast.AST) -> tuple[int, int]:
    """Where a binding takes effect: after its value (a loop's target, at the loop's header)."""
    if isinstance(node, (ast.For, ast.AsyncFor)):
        node = node.iter
    if isinstance(node, ast.comprehension):
        return (node.iter.end_lineno or 0, node.iter.end_col_offset or 0)
    return (node.end_lineno or node.lineno, node.end_col_offset or 0)


def _generic_soft_delete_filter(call: ast.Call) -> bool:
    """`.where(self.model.deleted_at.is_(None))`, `cls.is_deleted == False`: a filter on the soft-delete column of
    a model chosen at run time (a repository's base class, a mixin's class method)."""
    return any(
        isinstance(n, ast.Attribute) and n.attr in SOFT_DELETE_COLUMNS and _model_name(n.value) is None
        for arg in call.args for n in walk(arg)
    )


def _chain(node: ast.AST) -> tuple[set[str], ast.AST]:
    """The methods called along `a.b(...).c(...)` (awaits looked through) and what the chain starts from."""
    methods: set[str] = set()
    for _ in range(40):
        if isinstance(node, ast.Await):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            methods.add(node.func.attr)
            if node.func.attr in _RUNS and node.args:  # session.execute(select(X).limit(2)): the statement's own
                methods |= _chain(node.args[0])[0]
            node = node.func.value
        elif isinstance(node, ast.Attribute) and node.attr == "query":
            methods.add("query")
            return methods, node
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], (ast.Call, ast.Await)):
            node = node.args[0]  # list(session.scalars(...))
        else:
            break
    return methods, node


_RANGE_TESTS = ("between", "overlaps", "contained_by", "strictly_left_of", "strictly_right_of")


def _model_name(node: ast.AST) -> str | None:
    """A name that looks like a model class: `Patient`, `models.Patient`."""
    if isinstance(node, ast.Name) and node.id[:1].isupper() and not node.id.isupper():
        return node.id
    if isinstance(node, ast.Attribute) and node.attr[:1].isupper() and not node.attr.isupper() and isinstance(node.value, ast.Name) and node.value.id.islower():
        return node.attr
    return None


def _sessionish(node: ast.AST) -> bool:
    text = ast.unparse(node).lower()
    return "session" in text or text in ("db", "self.db", "s", "sess", "conn", "connection", "self._db", "tx", "uow")


def _sqlalchemy_call(callee: str) -> bool:
    name = last(callee)
    return callee.startswith(("sqlalchemy", "sqlmodel")) or name in (
        "and_", "or_", "not_", "func", "any_", "all_", "exists", "cast", "true", "false", "null", "tuple_", "literal",
        "coalesce", "lower", "upper", "now", "in_", "is_", "isnot", "is_not", "like", "ilike", "contains", "any", "has",
        "startswith", "endswith", "between", "notin_", "not_in", "isnot_distinct_from", "is_distinct_from", "desc", "asc",
        "op", "label", "astext", "as_string", "cast", "select", "where", "scalar_subquery", "col", "text",
    ) or callee.startswith("func.")
