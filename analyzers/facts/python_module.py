"""One Python file -> ModuleFacts: model classes, Table(...) objects, engine and session set-up,
event listeners and the SQL they send. Read with `ast`; nothing is imported or run."""

from __future__ import annotations

import ast
import copy
import re
from collections import Counter
from dataclasses import replace

from analyzers.facts import columns as col
from analyzers.facts.alembic_env import is_env, read_env
from analyzers.facts.aware_times import read_aware_times
from analyzers.facts.flow import Flow, assigned_text
from analyzers.facts.imports import read_imports
from analyzers.facts.json_context import class_attr, with_context
from analyzers.facts.migrations import is_migration, read_revision
from analyzers.facts.model import CallFact, ClassFact, JsonUse, ListenerFact, ModuleFacts, Ref, SqlUse, TableFact
from analyzers.facts.names import (Names, all_statements, const_bool, const_str, is_sqlalchemy, kwargs, last, module_level,
                                   module_name)
from analyzers.facts.newer_syntax import parse_python
from analyzers.facts.password_writes import hashed_fields, read_password_writes
from analyzers.facts.query_input import read_query_input
from analyzers.facts.secret_flow import read_secret_flow
from analyzers.facts.sql import parse_statements
from analyzers.facts.strings import constant_env, evaluate, strings_of
from analyzers.facts.early_effects import EFFECT_HINT, TASK_HINT, read_early_effects, read_pending_effects
from analyzers.facts.transaction_managers import HINT as MANAGER_HINT, read_transaction_managers
from analyzers.facts.early_effects import HINT as COMMIT_HINT
from analyzers.facts.split_commits import committers, read_split_commits
from analyzers.facts.swallowed_failures import HINT as FAILURE_HINT, read_swallowed_failures
from analyzers.facts.rewrites import hinted as rewrite_hinted
from analyzers.facts.rewrites import read_rewrites
from analyzers.facts import case_copies, consumed, discarded_queries, held_locks, in_place, spliced_passwords
from analyzers.facts.runners import read_runners
from analyzers.facts.table_names import name_builders, named_by_call
from analyzers.facts.usage import ModuleWide, mention_words, read_usage, top_functions
from analyzers.facts.folded import Folded
from analyzers.facts.walk import NODE_FIELDS, children, kept_walks, walk

_BASE_CLASSES = ("DeclarativeBase", "DeclarativeBaseNoMeta", "DeclarativeMeta")
ENGINE_CALLS = ("create_engine", "create_async_engine", "engine_from_config", "async_engine_from_config")
FACTORY_CALLS = (*ENGINE_CALLS, "sessionmaker", "async_sessionmaker", "scoped_session", "async_scoped_session")
_INTERESTING_CALLS = (*FACTORY_CALLS, "MetaData")
_EXECUTES = ("execute", "exec_driver_sql", "executescript")


def extract_module(path: str, text: str, module: str | None = None) -> ModuleFacts:
    """`module`: its dotted name when the path does not give it (a library stub, analyzers/facts/stubs)."""
    with kept_walks():  # the readers below walk the same trees again
        return _extract_module(path, text, module)


def _extract_module(path: str, text: str, module: str | None) -> ModuleFacts:
    module, is_package = (module, path.endswith("__init__.pyi")) if module else module_name(path)
    facts = ModuleFacts(path=path, module=module)
    try:
        tree = parse_python(text, path)
    except SyntaxError as exc:
        facts.errors.append((exc.lineno, f"does not parse as Python: {exc.msg}"))
        return facts
    except (ValueError, RecursionError) as exc:
        facts.errors.append((None, f"does not parse as Python: {exc}"))
        return facts
    names = Names(tree, module, is_package)
    env = constant_env(tree.body)
    if is_migration(tree, path):
        facts.revision = read_revision(tree, names, path, env, facts.errors)
        return facts
    facts.imports = read_imports(tree, module, is_package, text)
    facts.name_builders = name_builders(tree, env)
    if is_env(path):
        facts.alembic_env = read_env(tree, names, path)
    reader = _Reader(facts, names, env)
    reader.read(tree, ModuleWide(names, path) if ModuleWide.wanted(text) else None)
    folded = Folded(text)  # for the case-insensitive gates
    if folded.search(_PASSWORD_WORDS):  # the few modules that name a password are read for what they write to it
        facts.password_writes, facts.password_passes = read_password_writes(tree, path)
        for node in module_level(tree.body):
            fact = next((c for c in facts.classes if isinstance(node, ast.ClassDef) and c.name == node.name), None)
            if fact is not None:
                fact.hashed_fields = hashed_fields(node)
    if folded.search(_SECRET_WORDS):  # the modules that name a token or a key: what they store and look up
        facts.secret_uses, facts.token_makers = read_secret_flow(tree, path)
    if _CLOCK_WORDS.search(text):  # the modules that tell the time: aware values beside naive columns
        facts.aware_uses = read_aware_times(tree, path)
    if _QUERY_WORDS.search(text):
        facts.query_inputs = read_query_input(tree, reader.flow, path)
    facts.usage = read_usage(tree, names, path, reader.querying(), reader.wide, reader.owners) or None
    if consumed.WORDS.search(text):
        facts.consumed = consumed.read_consumed(reader.all_functions, names, path)
    if case_copies.WORDS.search(text):
        facts.case_copies = case_copies.read_case_copies(tree, names, path)
    if reader.owners and _RUN_WORDS.search(text):  # a class whose methods may run a statement handed to them
        facts.runners = read_runners(reader.all_functions, reader.owners, names, path)
    if rewrite_hinted(text):  # `obj.n += 1` and the like: read only where the text may hold one
        facts.rewrites, facts.next_numbers = read_rewrites(reader.all_functions, reader.owners, names, path)
    if in_place.SAVE_HINT.search(text) and in_place.HINT.search(text):  # `obj.data["k"] = v` where something commits
        facts.in_place = in_place.read_in_place(reader.all_functions, reader.owners, names, path)
    if folded.search(held_locks.HINT) and held_locks.CALL_HINT.search(text):  # a row lock beside a network call
        facts.held_locks = held_locks.read_held_locks(reader.all_functions, reader.owners, names, path)
    if COMMIT_HINT.search(text) and EFFECT_HINT.search(text):  # a task, mail or HTTP call beside a commit
        facts.early_effects = read_early_effects(reader.all_functions, reader.owners, path)
    if TASK_HINT.search(text):  # a task enqueued where a transaction manager may commit after the function
        facts.pending_effects = read_pending_effects(reader.all_functions, reader.owners, path)
    if MANAGER_HINT.search(text):
        facts.transaction_managers = read_transaction_managers(tree, path)
    if COMMIT_HINT.search(text):
        facts.committers = committers(reader.all_functions, reader.owners, module)
        facts.split_commits = read_split_commits(reader.all_functions, reader.owners, names, module, path)
    if discarded_queries.HINT.search(text):  # `query.filter(...)` as a statement: its result dropped
        facts.discarded_queries = discarded_queries.read_discarded_queries(reader.all_functions, reader.owners, names, path)
    if "except" in text and FAILURE_HINT.search(text):  # a commit or flush in a try whose handler may swallow it
        facts.swallowed_failures = read_swallowed_failures(reader.all_functions, reader.owners, path)
    if "://" in text and spliced_passwords.HINT.search(text):  # a database URL built from its parts
        facts.spliced_passwords = spliced_passwords.read_spliced_passwords(tree, names, path)
    facts.mentions = {k: tuple(sorted(v)) for k, v in reader.mentions.items()}
    facts.top_functions = top_functions(tree)
    return facts


_PASSWORD_WORDS = re.compile(r"passw|pwd", re.I)
_INDEXED, _MENTIONED, _WIDE_ONLY = 0, 1, 2  # which readers of _Reader._index a node is for
_DEF_READ = frozenset(("args", "body", "decorator_list"))  # a function's fields _Reader._index reads apart
_CLOCK_WORDS = re.compile(r"now\(|time\w*\(|today\(|stamp\(|astimezone\(|tzinfo=")
_QUERY_WORDS = re.compile(r"like\(|getattr\(")
_RUN_WORDS = re.compile(r"execute\(|scalars?\(")
_SECRET_WORDS = re.compile(r"token|api_?key|reset_key|\bcode\b|_code\b|urandom|uuid4", re.I)


class _Reader:
    def __init__(self, facts: ModuleFacts, names: Names, env: dict[str, list[str]]) -> None:
        self.facts, self.names, self.env, self.path = facts, names, env, facts.path
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.class_factories: dict[str, tuple[list[str], ast.ClassDef]] = {}

    def read(self, tree: ast.Module, wide: ModuleWide | None) -> None:
        self.flow = Flow(tree, self.names, self.env)
        self.wide = wide
        self._index(tree)
        self._bindings(tree.body, top=True)
        self._column_helpers(tree)
        self._class_factories(tree)
        self.views = {t.id for node in module_level(tree.body) if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                      and _makes_view(node.value, self.names) for t in node.targets if isinstance(t, ast.Name)}
        made: dict[str, ClassFact] = {}
        for node in module_level(tree.body):
            if isinstance(node, ast.ClassDef):
                made[node.name] = self._class(node)
                self._class_tables(node)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(target := node.targets[0], ast.Attribute) \
                    and isinstance(target.value, ast.Name) and target.value.id in made:
                # `Action.source_id = Column(...)` after the class: declarative maps it as if the body said it
                inside = ast.copy_location(ast.Assign([ast.copy_location(ast.Name(target.attr, ast.Store()), target)], node.value), node)
                self._class_statement(made[target.value.id], inside)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) and isinstance(node.value, ast.Call):
                self._module_assignment(node)  # `db.Table("tags", ...)` need not be assigned to be defined
            elif isinstance(node, ast.For):
                self._tables_in_loop(node)
        self._listeners()
        self._calls()
        self._session_binds(tree)
        self._json_uses(tree)
        self.facts.quoting = tuple(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                                   and self.flow.quotes(n))

    def _index(self, tree: ast.Module) -> None:
        """The one walk over the tree (walks dominate the cost of reading a file), for three readers.
        This one's index: every function, every call with its innermost enclosing function, the targets of
        assigned calls, subscripts; none of them in a function's annotations or keyword-only defaults.
        `mentions`: every name the module mentions (`get_by_slug(...)`, `service.get_by_slug`, "get_by_slug")
        -> the module-level functions whose bodies mention it ("" for anywhere else: module level, a class's
        methods, decorators, default values), save in a module-level function's return annotation. What
        nothing mentions, nothing calls (short of a name built at run time). And usage's module-wide uses
        (`wide`, where the module's words allow them), from every node."""
        self.all_functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.calls: list[tuple[ast.Call, ast.FunctionDef | ast.AsyncFunctionDef | None]] = []
        self.assigned: dict[int, str] = {}
        self.subscripts: list[ast.Subscript] = []
        self.owners: dict[int, str] = {}  # a method -> its class's name
        self.flask_config: list[ast.Assign | ast.AnnAssign] = []  # SQLALCHEMY_ENGINE_OPTIONS = {...}, app.config["SQLALCHEMY_POOL_SIZE"] = 5
        mentions: dict[str, set[str]] = {}
        self.mentions = mentions
        wide = self.wide
        # (node, its innermost function, where it is mentioned, its depth, what reads it: _INDEXED (all three),
        # _MENTIONED (not the index), _WIDE_ONLY (a module-level function's return annotation))
        stack: list[tuple[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef | None, str, int, int]] = [(tree, None, "", 0, _INDEXED)]
        pop, push, fields = stack.pop, stack.append, NODE_FIELDS
        while stack:
            node, func, where, depth, reads = pop()
            cls = node.__class__  # dispatched on the exact class: ast.parse makes no subclasses
            below = depth + 1
            if cls is ast.FunctionDef or cls is ast.AsyncFunctionDef:
                if reads == _INDEXED:
                    self.all_functions.append(node)
                    self.functions.setdefault(node.name, node)
                top = depth == 1
                inner_where = node.name if top else where
                for deco in node.decorator_list:
                    push((deco, func, "" if top else where, below, reads))
                outside = _MENTIONED if reads == _INDEXED else reads  # the index skips annotations and keyword-only defaults
                arguments = node.args
                for name in fields[arguments.__class__]:
                    if name != "defaults":
                        value = getattr(arguments, name, None)
                        for child in (value if value.__class__ is list else (value,)):
                            if isinstance(child, ast.AST):
                                push((child, node, inner_where, below + 1, outside))
                for name in fields[cls]:
                    if name not in _DEF_READ:  # returns (and type_params in a newer syntax)
                        value = getattr(node, name, None)
                        for child in (value if value.__class__ is list else (value,)):
                            if isinstance(child, ast.AST):
                                push((child, node, inner_where, below, _WIDE_ONLY if top else outside))
                for child in reversed(arguments.defaults):  # preorder: a call before the calls in its arguments
                    push((child, node, inner_where, below + 1, reads))
                for child in reversed(node.body):
                    push((child, node, inner_where, below, reads))
                continue
            kids = []
            for name in fields[cls]:  # walk.children, inlined: this loop meets every node of the file
                value = getattr(node, name, None)
                if value.__class__ is list:
                    kids.extend([v for v in value if isinstance(v, ast.AST)])
                elif isinstance(value, ast.AST):
                    kids.append(value)
            if cls is ast.Name:
                if reads != _WIDE_ONLY:
                    mentions.setdefault(node.id, set()).add(where)
            elif cls is ast.Attribute:
                if reads != _WIDE_ONLY:
                    mentions.setdefault(node.attr, set()).add(where)
                if wide is not None and node.attr == "create_all":
                    wide.see(node, cls, depth)
            elif cls is ast.Constant:
                value = node.value
                if isinstance(value, str):
                    if reads != _WIDE_ONLY:
                        if value.isidentifier():
                            mentions.setdefault(value, set()).add(where)
                        else:
                            for word in mention_words(value):  # "pkg.module:get_by_slug", a path
                                mentions.setdefault(word, set()).add("")
                    if wide is not None:
                        wide.see(node, cls, depth)
            elif cls is ast.Call:
                if reads == _INDEXED:
                    self.calls.append((node, func))
                    if _sets_naming_convention(node):  # `db.Model.metadata.naming_convention.update(...)`
                        self.facts.calls.append(CallFact(NAMING_CONVENTION, col.span_of(node, self.path), {}))
                if wide is not None:
                    wide.see(node, cls, depth)
            elif cls is ast.Assign:
                if reads == _INDEXED:
                    if (made := _made(node.value)) is not None:
                        self.assigned[id(made)] = ast.unparse(node.targets[0])
                    if _flask_setting(node.targets[0]):
                        self.flask_config.append(node)
                    if _sets_naming_convention(node):  # `db.Model.metadata.naming_convention = {...}` after the fact
                        self.facts.calls.append(CallFact(NAMING_CONVENTION, col.span_of(node, self.path), {}))
                if wide is not None:
                    wide.see(node, cls, depth)
            elif cls is ast.AnnAssign:  # `engine: AsyncEngine = await make_engine(...)` in a function
                if reads == _INDEXED and func is not None and (made := _made(node.value)) is not None:
                    self.assigned[id(made)] = ast.unparse(node.target)
                if reads == _INDEXED and node.value is not None and _flask_setting(node.target):
                    self.flask_config.append(node)  # `SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {...}`
                if wide is not None:
                    wide.see(node, cls, depth)
            elif cls is ast.Subscript:
                if reads == _INDEXED:
                    self.subscripts.append(node)
            elif cls is ast.ClassDef:
                if reads == _INDEXED:
                    self.owners.update((id(f), node.name) for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)))
                if wide is not None:
                    wide.see(node, cls, depth)
            elif cls is ast.AugAssign or cls is ast.AnnAssign:
                if wide is not None:
                    wide.see(node, cls, depth)
            for child in reversed(kids):  # preorder: a call before the calls in its arguments
                push((child, func, where, below, reads))

    def querying(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        """The functions that may build or count a query: they call select(), query() or len(), delete() or
        update() of a class, or read `Model.query` (analyzers/facts/usage.py follows them)."""
        found: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for call, func in self.calls:
            if func is None or id(func) in found:
                continue
            f = call.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ("select", "query", "len") or (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute)
                                                      and f.value.attr == "query") or (
                    name in ("delete", "update") and len(call.args) == 1 and _class_like(call.args[0])) or (
                    name in ("delete", "update") and not call.args and isinstance(f, ast.Attribute)):  # a Table's
                found[id(func)] = func
        return list(found.values())

    # -- what the module's names are bound to (followed across modules when linking) ----------

    def _bindings(self, body: list[ast.stmt], top: bool = False) -> None:
        bindings = self.facts.bindings
        if top:
            bindings.update((n, Ref("name", q)) for n, q in self.names.imports.items())
            self.facts.stars = list(self.names.stars)
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):  # in an if/try: the branch that runs rebinds
                for a in node.names:
                    name = a.asname or a.name.split(".")[0]
                    if name in self.names.imports:
                        bindings[name] = Ref("name", self.names.imports[name])
            elif isinstance(node, ast.ClassDef):
                bases = tuple(("base", self._ref(b)) for b in node.bases)  # what it is: an Enum, a model...
                bindings[node.name] = Ref("class", f"{self.facts.module}.{node.name}", keywords=bases)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bindings[node.name] = Ref("function", of=self._returned(node))
                self.facts.binding_spans[node.name] = col.span_of(node, self.path)  # rules read what it returns
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                ref = self._ref(node.value)
                for t in targets:
                    if isinstance(t, ast.Name):
                        bindings[t.id] = ref
                        self.facts.binding_spans[t.id] = col.span_of(node, self.path)
            elif isinstance(node, ast.If) and last(self.names.qualname(node.test)) == "TYPE_CHECKING":
                self._bindings(node.orelse)  # what runs; the body only informs type checkers
            elif isinstance(node, (ast.If, ast.Try, ast.With)):  # try/except ImportError, if/else on a setting
                for inner in (node.body, getattr(node, "orelse", []), getattr(node, "finalbody", []),
                              *(h.body for h in getattr(node, "handlers", []))):
                    self._bindings(inner)

    def _ref(self, node: ast.AST, depth: int = 0) -> Ref:
        """A reference to what an expression stands for: names, attributes, calls (with the keyword
        arguments that name something), `Annotated[T, mapped_column(...)]`; anything else is opaque."""
        if depth > 8:
            return Ref("opaque")
        if isinstance(node, ast.Name):
            q = self.names.imports.get(node.id)
            return Ref("name", q or f"{self.facts.module}.{node.id}")
        if isinstance(node, ast.Attribute):
            return Ref("attr", node.attr, self._ref(node.value, depth + 1))
        if isinstance(node, ast.Call):
            keywords = tuple(
                (k.arg, self._ref(k.value, depth + 1)) for k in node.keywords
                if k.arg and isinstance(k.value, (ast.Name, ast.Attribute, ast.Call))
            )
            return Ref("call", of=self._ref(node.func, depth + 1), keywords=keywords)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return Ref("string", node.value)  # `WORKFLOWS_TABLE = "workflows"`: another module's __tablename__ may name it
        if isinstance(node, ast.Subscript) and last(self.names.qualname(node.value)) == "Annotated":
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for extra in parts[1:]:
                if isinstance(extra, ast.Call) and col.is_column_call(extra, self.names):
                    return Ref("annotated", column=col.read_column(extra, "", parts[0], self.names, self.path, "", extra))
            return self._ref(parts[0], depth + 1) if parts else Ref("opaque")
        return Ref("opaque")

    def _returned(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> Ref | None:
        """What a function returns, when its return statements say: a call, a class defined inside it, or
        a name it bound to one of those (`engine = create_engine(...); return engine`)."""
        local: dict[str, Ref] = {}
        returned: list[ast.expr] = []
        for node in all_statements(func):  # all three are statements: those of ast.walk, in its order
            if isinstance(node, ast.Return):
                if node.value is not None:
                    returned.append(node.value)
            elif isinstance(node, ast.ClassDef):  # a class made inside: its bases say what it is
                bases = tuple(("base", self._ref(b)) for b in node.bases)
                local[node.name] = Ref("class", f"{self.facts.module}.{func.name}.<locals>.{node.name}", keywords=bases)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if isinstance(node.value, ast.Call):
                    local.setdefault(node.targets[0].id, self._ref(node.value))
        for value in returned:
            if isinstance(value, ast.Name) and value.id in local:
                return local[value.id]
            if isinstance(value, ast.Call):
                return self._ref(value)
        return None

    # -- models ------------------------------------------------------------------------------

    def _class(self, node: ast.ClassDef, keep: bool = True) -> ClassFact:
        """The class's facts, kept in the module's unless `keep` is false (a template's)."""
        bases = tuple(self._qualify(b) for b in node.bases)
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        fact = ClassFact(
            name=node.name,
            module=self.facts.module,
            path=self.path,
            span=col.span_of(node, self.path),
            bases=bases,
            tablename=None,
            table_args=[],
            columns=[],
            relationships=[],
            sqlmodel_table=const_bool(kw.get("table")) is True,
            is_base=any(last(self.names.qualname(d.func if isinstance(d, ast.Call) else d)) == "as_declarative" for d in node.decorator_list),
        )
        sqlmodel = fact.sqlmodel_table or any(last(b) == "SQLModel" for b in bases)
        for stmt in self._class_body(node.body):
            self._class_statement(fact, stmt, sqlmodel)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in MAPPING_HOOKS and self._adds_columns(stmt):
                fact.mapping_hook = stmt.name
        # `class Base(DeclarativeBase)` makes a base; a project's own `DeclarativeBase = declarative_base()` is a base
        # its models inherit: `class User(DeclarativeBase)` with a __tablename__ is a model (tracim's spelling)
        fact.is_base = fact.is_base or any(last(b) in _BASE_CLASSES and (b.startswith("sqlalchemy") or not fact.tablename)
                                           for b in bases)
        table = self._table_attribute(node)
        if table is not None:  # `__table__ = Table("activity", Base.metadata, ...)`: the class maps that table
            table.class_name = fact.name
            table.columns = {n: replace(c, declared_in=fact.name) for n, c in table.columns.items()}
            table.relationships.extend(fact.relationships)
            self.facts.tables.append(table)
        for deco in node.decorator_list:  # @registry.mapped, @mapper_registry.mapped_as_dataclass
            target = deco.func if isinstance(deco, ast.Call) else deco
            if isinstance(target, ast.Attribute) and target.attr in ("mapped", "mapped_as_dataclass"):
                fact.mapped_by = self._qualify(target.value)
        if any("password" in c.name or "passwd" in c.name for c in fact.columns) or any(
                "password" in t.id for st in node.body if isinstance(st, ast.Assign) for t in st.targets
                if isinstance(t, ast.Name)):  # `password = property(get, set)` of a class mapped imperatively
            hashing, fact.hashes_passwords, fact.fast_digest = _hashing_methods(node.body)
            fact.hashed_on_set = _hashing_setters(node.body, hashing)
        templates = self._templates(node) if keep else []
        self.facts.templates.extend((node.name, t) for t in templates)
        if not keep:
            return fact
        if fact.columns or fact.tablename or fact.is_base or fact.relationships or fact.sqlmodel_table or fact.table_args or (
                fact.mapped_by or fact.hashed_on_set or templates or fact.mapping_hook or fact.args_from or fact.view):
            self.facts.classes.append(fact)
        elif bases and any(b for b in bases):  # maybe a subclass of a model (inheritance): keep it light
            self.facts.classes.append(fact)
        elif any(isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_declared_attr(st, self.names) for st in node.body):
            self.facts.classes.append(fact)  # a mixin of declared_attrs only, which may make columns
        return fact

    def _adds_columns(self, hook: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Whether a mapping hook, or a function of the module it calls, adds columns or properties to the table or
        the mapper (`table.append_column(...)`, `mapper.add_property(...)`); not one that only listens to events."""
        called = [self.functions[n.func.id] for n in walk(hook)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in self.functions]
        return any(isinstance(n, ast.Attribute) and n.attr in ("append_column", "add_property")
                   for body in (hook, *called) for n in walk(body))

    def _templates(self, node: ast.ClassDef) -> list[ClassFact]:
        """The classes a mixin builds, in a declared_attr or __init_subclass__, for each class that inherits it:
        `type(f"{cls.__name__}Event", (Event, Base), {"__tablename__": f"{cls.__name__.lower()}_events", ...})`,
        read as a class body whose names of `cls` are TEMPLATE_NAMES (link.py fills them in). One that builds
        its names otherwise is named as not followed."""
        out = []
        for func in node.body:
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or not (
                    func.name == "__init_subclass__" or _is_declared_attr(func, self.names)) or not func.args.args:
                continue
            for call in walk(func):
                if not (isinstance(call, ast.Call) and self.names.callee(call) == "type" and len(call.args) == 3
                        and isinstance(call.args[2], ast.Dict) and "__tablename__" in map(const_str, call.args[2].keys)):
                    continue
                made = _templated(call, func.args.args[0].arg)
                name, bases, body = const_str(made.args[0]), made.args[1], made.args[2]
                assert isinstance(body, ast.Dict)
                table = body.values[[const_str(k) for k in body.keys].index("__tablename__")]
                if isinstance(table, ast.Constant) and table.value is None:
                    continue  # `"__tablename__": None`: a subclass in its parent's table, no table of its own
                statements = [ast.copy_location(ast.Assign([ast.Name(key, ast.Store())], value), value)
                              for key, value in ((const_str(k), v) for k, v in zip(body.keys, body.values)) if key]
                synthetic = ast.copy_location(ast.ClassDef(
                    name=name or "", bases=list(bases.elts) if isinstance(bases, ast.Tuple) else [], keywords=[],
                    body=statements, decorator_list=[], type_params=[]), call)
                fact = self._class(synthetic, keep=False) if name else None
                if fact is None or not fact.tablename or "{" in fact.tablename:
                    self.facts.unfollowed_tables.append((call.lineno, f"a class built by type(...) in {node.name}.{func.name}"))
                else:
                    out.append(fact)
        return out

    def _table_attribute(self, node: ast.ClassDef) -> TableFact | None:
        """The `Table(...)` a class body assigns to `__table__`, read as a module-level one is."""
        for stmt in self._class_body(node.body):
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                    and stmt.targets[0].id == "__table__" and isinstance(stmt.value, ast.Call)
                    and last(self.names.callee(stmt.value)) == "Table" and stmt.value.args and const_str(stmt.value.args[0])):
                return self._table(stmt.value)
        return None

    def _class_body(self, body: list[ast.stmt]):
        """The statements of a class body, and those of its `if`s: `if TYPE_CHECKING: <annotations>
        else: <columns>` declares the columns in its else branch (what runs)."""
        for stmt in body:
            if not isinstance(stmt, ast.If):
                yield stmt
                continue
            if last(self.names.qualname(stmt.test)) != "TYPE_CHECKING":
                yield from self._class_body(stmt.body)
            yield from self._class_body(stmt.orelse)

    def _class_statement(self, fact: ClassFact, stmt: ast.stmt, sqlmodel: bool = False) -> None:
        names = self.names
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target, value, annotation = stmt.targets[0].id, stmt.value, None
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            target, value, annotation = stmt.target.id, stmt.value, stmt.annotation
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and last(names.callee(stmt.value)) == "Index":
            # `Index("ix_name", name)` in the body, on the class's own columns: SQLAlchemy puts it on the table
            if (item := col.read_table_item(stmt.value, names, self.path, fact.tablename)) is not None:
                fact.table_args.append(item)
            return
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _is_declared_attr(stmt, names):
            fact.dialect_impl = fact.dialect_impl or stmt.name == "load_dialect_impl"
            fact.engine_hook = fact.engine_hook or stmt.name in ENGINE_HOOKS
            for deco in stmt.decorator_list:  # @validates("password"): the value is transformed on the way in
                if isinstance(deco, ast.Call) and last(names.qualname(deco.func)) == "validates":
                    fact.validated.extend(v for v in (const_str(a) for a in deco.args) if v)
            return
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_declared_attr(stmt, names):
            returned = next((n.value for n in walk(stmt) if isinstance(n, ast.Return) and n.value is not None), None)
            if isinstance(returned, ast.Call):  # `fk = ForeignKey(...)` then `return Column(Integer, fk)`
                returned = _inline_locals(stmt, returned)
            if stmt.name == "__table_args__":  # `return auto_table_args(cls, schema="events")`, a dict, a tuple
                fact.schema = _schema_of(returned) or fact.schema
                fact.schema_expr = _schema_of(returned, written=True) or fact.schema_expr
                me = stmt.args.args[0].arg if stmt.args.args else "cls"
                fact.args_from = tuple(dict.fromkeys(  # `return cls._table_args + (...)`: each class's own items
                    n.attr for r in walk(stmt) if isinstance(r, ast.Return) and r.value is not None for n in walk(r.value)
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me
                    and not n.attr.startswith("__")))
                if isinstance(returned, (ast.Tuple, ast.List)):  # its indexes and constraints, as in a plain __table_args__
                    fact.table_args.extend(self._table_items(returned, fact.tablename))
                return
            if stmt.name == "__tablename__":
                if const_str(returned) is not None:  # @declared_attr def __tablename__(cls): return "plus_control"
                    fact.tablename = const_str(returned)
                elif returned is not None and "__name__" in ast.unparse(returned):
                    fact.tablename_rule = _tablename_rule(returned)
                return
            if isinstance(returned, ast.Call) and col.is_column_call(returned, names):
                fact.columns.append(col.read_column(returned, stmt.name, stmt.returns, names, self.path, fact.name, stmt))
            elif isinstance(returned, ast.Call) and col.is_relationship_call(returned, names):
                fact.relationships.append(col.read_relationship(returned, stmt.name, stmt.returns, names, self.path, stmt))
            elif isinstance(returned, ast.Call) and (callee := names.callee(returned)) \
                    and not callee.startswith(("sqlalchemy", "sqlmodel")):  # `return foreign_key(Tenant.id)`: settled at link
                fact.helper_calls += (self._helper_call(stmt.name, callee, returned, stmt),)
            elif not stmt.name.startswith("__"):  # what it returns is not read: the attribute may be a column
                fact.unread_attrs.append(stmt.name)
            return
        else:
            return
        if isinstance(value, ast.Call) and len(value.args) == 2 and names.callee(value) == "typing.cast":
            value = value.args[1]  # `id = cast(str, Column(String))`: a hint for the type checker, the column itself
        if target == "__tablename__":  # a literal, or a module constant (`__tablename__ = AUDIT_TABLE_NAME`)
            named = self.env.get(value.id, ()) if isinstance(value, ast.Name) else ()
            fact.tablename = const_str(value) or (named[0] if len(named) == 1 else None)
            if fact.tablename is None and not named and (q := names.qualname(value)):
                fact.tablename_from = self._own(q)
            if fact.tablename is None and (by := named_by_call(value)) is not None:  # prefixed("users"): link.py settles it
                fact.tablename, fact.named_by = by[1], (self._qualify(by[0]), by[1])
        elif target == "__mapper_args__" and isinstance(value, ast.Dict):
            for k, v in zip(value.keys, value.values):
                if const_str(k) == "polymorphic_on":
                    fact.polymorphic_on = const_str(v) or (v.id if isinstance(v, ast.Name) else None)
                elif const_str(k) == "primary_key" or k is None:  # `**base_args` may carry one too
                    fact.mapper_primary_key = _mapper_key(v) if k is not None else ("?",)
        elif isinstance(value, ast.Constant) and value.value is None and annotation is None and not target.startswith("__"):
            fact.cleared.append(target)  # `id = None`: the inherited column is taken away
        elif target == "__abstract__":
            fact.abstract = const_bool(value) is True
        elif target == "__versioned__":
            fact.versioned = True
        elif target == "impl" and value is not None and col.read_type(value, names):
            fact.impl = col.read_type(value, names)  # a TypeDecorator: the SQL type it stores
        elif target == "__table_args__":
            fact.table_args.extend(self._table_items(value, fact.tablename))
            fact.schema = _schema_of(value) or fact.schema
            fact.schema_expr = _schema_of(value, written=True) or fact.schema_expr
            fact.view = fact.view or _marked_view(value)
        elif isinstance(value, (ast.Tuple, ast.List)) and (items := self._table_items(value, fact.tablename)):
            fact.named_args[target] = items  # `_table_args = (PrimaryKeyConstraint(...), ...)`: a base's __table_args__ may use it
        elif target == "__table__" and value is not None and (
            isinstance(value, ast.Call) and _makes_view(value, names) or _root_name(value) in self.views
        ):  # `__table__ = current_property.table` where `current_property = View(...)`; `__table__ = create_view(...)`
            fact.view = f"`__table__ = {ast.unparse(value)[:60]}`"
        elif target == "type_annotation_map" and isinstance(value, ast.Dict):
            fact.type_map.update(col.read_type_map(value, names))
        elif target == "registry" and isinstance(value, ast.Call) and isinstance(kwargs(value).get("type_annotation_map"), ast.Dict):
            fact.type_map.update(col.read_type_map(kwargs(value)["type_annotation_map"], names))  # registry(type_annotation_map=...)
        elif isinstance(value, ast.Call) and col.is_column_call(value, names):
            fact.columns.append(col.read_column(value, target, annotation, names, self.path, fact.name, stmt))
            made = kwargs(value).get("sa_column") if last(names.callee(value)) == "Field" else None
            if isinstance(made, ast.Call) and not col.is_column_call(made, names) and (callee := names.callee(made)) \
                    and not callee.startswith(("sqlalchemy", "sqlmodel")):  # `Field(sa_column=created_column())`
                fact.helper_calls += (self._helper_call(target, callee, made, stmt),)
        elif (
            isinstance(value, ast.Call) and value.args and col.is_column_call(value.args[0], names)
            and (last(names.callee(value)) in ("column_property", "deferred") or _wraps(value, annotation, names))
        ):  # column_property(db.Column(...), Parent.col), deferred(Column(Text)), immutable(mapped_column(...)): the column inside
            fact.columns.append(col.read_column(value.args[0], target, annotation, names, self.path, fact.name, stmt))
        elif isinstance(value, ast.Call) and col.is_relationship_call(value, names):
            fact.relationships.append(col.read_relationship(value, target, annotation, names, self.path, stmt))
        elif isinstance(value, ast.Call) and value.args and col.is_relationship_call(value.args[0], names) and _wraps(value, annotation, names):
            fact.relationships.append(col.read_relationship(value.args[0], target, annotation, names, self.path, stmt))
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in self.class_factories:
            self._made_class(fact, target, value)  # `Label = make_label(__tablename__)`: a model class of its own
        elif isinstance(value, ast.Call) and (callee := names.callee(value)) \
                and not callee.startswith(("sqlalchemy", "sqlmodel")):  # `type = varchar_enum(Kind)`: settled at link
            fact.helper_calls += (self._helper_call(target, callee, value, value),)
        elif value is None and annotation is not None and _bare_mapped_column(annotation, names):
            # SQLAlchemy 2.0: `refunded_at: Mapped[datetime | None]` alone is a column typed by its annotation
            fake = ast.Call(func=ast.Name("mapped_column"), args=[], keywords=[])
            ast.copy_location(fake, stmt)
            fact.columns.append(col.read_column(fake, target, annotation, names, self.path, fact.name, stmt))
        elif sqlmodel and annotation is not None and not target.startswith("_") and _plain_value(value) and not (
            ast.unparse(annotation).startswith(("ClassVar", "typing.ClassVar"))
        ):
            # SQLModel: `name: str` and `is_active: bool = True` are fields, hence columns of a table=True class
            keywords = [] if value is None else [ast.keyword("default", value)]
            fake = ast.Call(func=ast.Name("Field"), args=[], keywords=keywords)
            ast.copy_location(fake, stmt)
            fact.columns.append(col.read_column(fake, target, annotation, names, self.path, fact.name, stmt))

    def _table_items(self, value: ast.AST | None, table: str | None) -> list:
        items = []
        elts = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
        for elt in elts:
            if isinstance(elt, ast.Call):
                item = col.read_table_item(elt, self.names, self.path, table)
                if item is not None:
                    items.append(item)
        return items

    def _class_tables(self, node: ast.ClassDef) -> None:
        """Core tables a class holds as attributes (`class Model: users = sa.Table("users", metadata, ...)`,
        the schema of an application that queries `self.model.users`), and the indexes its body builds on them
        (`sa.Index("ix", users.c.email)`): as module-level ones are."""
        made: dict[str, TableFact] = {}  # the class's attribute -> its table
        for stmt in node.body:
            if not isinstance(stmt, (ast.Assign, ast.Expr)) or not isinstance(stmt.value, ast.Call) or not stmt.value.args:
                continue
            kind = last(self.names.callee(stmt.value))
            if kind == "Table" and isinstance(stmt, ast.Assign) and const_str(stmt.value.args[0]) \
                    and not any(isinstance(t, ast.Name) and t.id == "__table__" for t in stmt.targets):
                self._module_assignment(stmt)
                self.facts.tables[-1].holder = node.name
                made.update((t.id, self.facts.tables[-1]) for t in stmt.targets if isinstance(t, ast.Name))
            elif kind == "Index" and isinstance(stmt, ast.Expr) and len(stmt.value.args) > 1:
                column = stmt.value.args[1]  # `users.c.email`
                owner = column.value.value if isinstance(column, ast.Attribute) and isinstance(column.value, ast.Attribute) else None
                item = col.read_table_item(stmt.value, self.names, self.path, None)
                if isinstance(owner, ast.Name) and owner.id in made and item is not None:
                    made[owner.id].indexes.append(replace(item, table=made[owner.id].name))

    def _tables_in_loop(self, loop: ast.For) -> None:
        """`for entity in ("user", "group"): Table(f"{entity}_role_map", ...)` at module level: one table per
        constant the loop runs over; over anything else, the tables it builds are named as not followed."""
        made = [st for st in loop.body if isinstance(st, (ast.Assign, ast.Expr)) and isinstance(st.value, ast.Call)
                and last(self.names.callee(st.value)) == "Table" and st.value.args]
        if not made:
            return
        values = strings_of(loop.iter, self.env) if isinstance(loop.target, ast.Name) else None
        if values is None:
            self.facts.unfollowed_tables.append((made[0].lineno, f"Table({ast.unparse(made[0].value.args[0])[:60]}, ...) "
                                                 f"built in a loop over `{ast.unparse(loop.iter)[:60]}`"))
            return
        for value in values:
            for st in made:
                self._module_assignment(ast.Expr(_substituted(st.value, loop.target.id, value)))

    def _module_assignment(self, node: ast.Assign | ast.AnnAssign | ast.Expr) -> None:
        call = node.value
        assert isinstance(call, ast.Call)
        callee = self.names.callee(call)
        if last(callee) == "Table" and call.args and (const_str(call.args[0]) or named_by_call(call.args[0])):
            self.facts.tables.append(self._table(call))
        elif last(callee) in ("map_imperatively", "mapper") and len(call.args) >= 2 and all(
                isinstance(a, ast.Name) for a in call.args[:2]):  # registry.map_imperatively(User, user_table)
            self.facts.imperative.append((call.args[0].id, call.args[1].id))  # type: ignore[attr-defined]
        elif last(callee) == "Index":
            self._loose_index(call)

    def _table(self, call: ast.Call) -> TableFact:
        name = const_str(call.args[0]) or ""
        table = TableFact(name=name, class_name=None, path=self.path, span=col.span_of(call, self.path), schema=_schema_of(call))
        if not name and (by := named_by_call(call.args[0])) is not None:  # Table(prefixed("roles"), ...): link.py settles it
            name = table.name = by[1]
            table.named_by = (self._qualify(by[0]), by[1])
        if len(call.args) > 1 and isinstance(call.args[1], (ast.Name, ast.Attribute)):
            table.metadata = self._qualify(call.args[1])  # Base.metadata, or a MetaData() of its own
        for arg in call.args[1:]:
            if isinstance(arg, ast.Call) and col.is_column_call(arg, self.names):
                c = col.read_column(arg, "", None, self.names, self.path, name)
                c.attr = c.name
                table.columns[c.name] = c
            elif isinstance(arg, ast.Call):
                item = col.read_table_item(arg, self.names, self.path, name)
                if item is not None:
                    (table.indexes if hasattr(item, "using") else table.constraints).append(item)
                elif (callee := self.names.callee(arg)) and not callee.startswith(("sqlalchemy", "sqlmodel")):
                    table.helper_calls += ((self._own(callee), tuple(ast.unparse(a) for a in arg.args),
                                            tuple((k.arg or "**", ast.unparse(k.value)) for k in arg.keywords),
                                            col.span_of(arg, self.path)),)
        return table

    def _own(self, callee: str) -> str:
        """A called name qualified: a bare one is this module's own."""
        return f"{self.facts.module}.{callee}" if "." not in callee else callee

    def _helper_call(self, target: str, callee: str, call: ast.Call, at: ast.AST) -> tuple:
        """A class attribute set from a call of a function of the target (ClassFact.helper_calls)."""
        return (target, self._own(callee), tuple(ast.unparse(a) for a in call.args),
                tuple((k.arg or "**", ast.unparse(k.value)) for k in call.keywords), col.span_of(at, self.path))

    def _column_helpers(self, tree: ast.Module) -> None:
        """Module-level functions whose one `return` gives a Column(...): what a Table(...) that calls them holds."""
        for func in tree.body:
            if not isinstance(func, ast.FunctionDef):
                continue
            returned = [n.value for n in walk(func) if isinstance(n, ast.Return) and n.value is not None]
            if len(returned) != 1 or not col.is_column_call(returned[0], self.names):
                continue
            args = func.args
            positional = [*args.posonlyargs, *args.args]
            defaults = [None] * (len(positional) - len(args.defaults)) + [ast.unparse(d) for d in args.defaults]
            params = [(a.arg, d) for a, d in zip(positional, defaults)]
            params += [(a.arg, ast.unparse(d) if d is not None else None) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
            self.facts.column_helpers[func.name] = (tuple(params), ast.unparse(returned[0]))

    def _class_factories(self, tree: ast.Module) -> None:
        """Module-level functions that define a model class per call and return it (`def make_label(table): class
        Label(Base): __tablename__ = f"{table}_labels" ... return Label`): name -> (its parameters, the class)."""
        for func in tree.body:
            if not isinstance(func, ast.FunctionDef):
                continue
            inner = [st for st in func.body if isinstance(st, ast.ClassDef)]
            returned = [st.value for st in func.body if isinstance(st, ast.Return)]
            if len(inner) == 1 and len(returned) == 1 and isinstance(returned[0], ast.Name) and returned[0].id == inner[0].name \
                    and any(isinstance(st, ast.Assign) and "__tablename__" in (getattr(t, "id", None) for t in st.targets)
                            for st in inner[0].body):
                self.class_factories[func.name] = ([a.arg for a in (*func.args.posonlyargs, *func.args.args)], inner[0])

    def _made_class(self, owner: ClassFact, attr: str, call: ast.Call) -> None:
        """The class a factory of this module makes for a model (`Label = make_label(__tablename__)` in Artifact's
        body), read with the call's arguments in its parameters' place, named `Artifact.Label`; arguments other
        than strings and the model's own `__tablename__` leave it unplaced (its table's name is not known)."""
        params, cls = self.class_factories[call.func.id]  # type: ignore[attr-defined]
        given = dict(zip(params, call.args)) | {k.arg: k.value for k in call.keywords if k.arg}
        values = {p: owner.tablename if isinstance(v, ast.Name) and v.id == "__tablename__" else const_str(v)
                  for p, v in given.items()}
        if set(values) != set(params) or None in values.values():
            self.facts.unfollowed_tables.append((call.lineno, f"a class made by {ast.unparse(call)[:60]} in {owner.name}"))
            return
        made = _bound_class(cls, values)  # type: ignore[arg-type]
        made.name = f"{owner.name}.{attr}"
        self._class(made)

    def _loose_index(self, call: ast.Call) -> None:
        """`Index("ix", Model.col)` outside the class: attach it to Model's table later."""
        if last(self.names.callee(call)) != "Index" or len(call.args) < 2:
            return
        first = call.args[1]
        owner = None
        if isinstance(first, ast.Attribute):
            root = first
            while isinstance(root, ast.Attribute):
                root = root.value
            owner = root.id if isinstance(root, ast.Name) else None
        item = col.read_table_item(call, self.names, self.path, None)
        if owner and item is not None:
            self.facts.loose_indexes.append((owner, item))

    def _json_uses(self, tree: ast.Module) -> None:
        """Queries into JSON columns, on a class attribute: Model.col["k"], Model.col.contains(...),
        .has_key/.has_any/.has_all/.contained_by, .op("@>"), func.jsonb_*(Model.col); with what the
        query around each does with it (analyzers/facts/json_context.py)."""
        found: list[tuple[ast.AST, JsonUse]] = []
        for sub in self.subscripts:
            owner_attr = class_attr(sub.value)
            if owner_attr:
                found.append((sub, JsonUse(*owner_attr, "[]", col.span_of(sub, self.path))))
        for node, _ in self.calls:
            if not isinstance(node.func, ast.Attribute):
                continue
            use = None
            method, owner = node.func.attr, node.func.value
            if method in _JSON_METHODS and class_attr(owner):
                use = (*class_attr(owner), method)  # type: ignore[misc]
            elif method == "op" and node.args and const_str(node.args[0]) in _JSON_OPERATORS:
                if class_attr(owner):
                    use = (*class_attr(owner), f"op({const_str(node.args[0])})")  # type: ignore[misc]
            elif method.startswith(("jsonb_", "json_")):
                for arg in node.args:
                    if class_attr(arg):
                        use = (*class_attr(arg), method)  # type: ignore[misc]
                        break
            if use:
                found.append((node, JsonUse(use[0], use[1], use[2], col.span_of(node, self.path))))
        self.facts.json_uses.extend(with_context(tree, found))

    def _qualify(self, node: ast.AST) -> str:
        """A base class's qualified name: `Generic[T]` is Generic, `declarative_base()` a call ("...()")."""
        call = isinstance(node, ast.Call)
        node = node.func if isinstance(node, ast.Call) else node.value if isinstance(node, ast.Subscript) else node
        q = self.names.qualname(node)
        if q and "." not in q and q not in self.names.aliases:
            q = f"{self.facts.module}.{q}"
        return f"{q}()" if call and q else q

    # -- engine, sessions, listeners, SQL ----------------------------------------------------

    def _listeners(self) -> None:
        self.listener_functions: set[int] = set()
        for func in self.all_functions:
            for deco in func.decorator_list:
                if isinstance(deco, ast.Call) and self.names.callee(deco).endswith("listens_for") and len(deco.args) >= 2:
                    self._listener(deco.args[0], deco.args[1], func)
        for node, _ in self.calls:
            if self.names.callee(node).endswith("event.listen") and len(node.args) >= 3:
                fn = node.args[2]
                func = self.functions.get(fn.id) if isinstance(fn, ast.Name) else None
                if func is not None:
                    self._listener(node.args[0], node.args[1], func)

    def _listener(self, target: ast.AST, event: ast.AST, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        name = const_str(event)
        if name is None:
            return
        listener = ListenerFact(ast.unparse(target), name, func.name, col.span_of(func, self.path))
        listener.sql = self._sql_in(func)
        listener.does_nothing = all(_inert(stmt) for stmt in func.body)
        listener.hashes = _hashes(func)
        listener.touches_connection = bool(listener.sql) or _touches_connection(func)
        self.listener_functions.add(id(func))
        self.facts.listeners.append(listener)

    def _calls(self) -> None:
        for func in self.all_functions:
            if id(func) not in self.listener_functions:
                self.facts.sql.extend(u for u in self._sql_in(func) if u.formatted or u.statements)
        for assign in self.flask_config:
            target = assign.target if isinstance(assign, ast.AnnAssign) else assign.targets[0]
            self._flask_setting(target, assign.value, assign)
        for node, func in self.calls:
            callee = self.names.callee(node)
            if callee.startswith("sqlalchemy_continuum") and last(callee) == "make_versioned":
                self.facts.versioning.append(col.span_of(node, self.path))
            flask = last(callee).endswith("SQLAlchemy") or any(k.arg == "engine_options" for k in node.keywords) or (
                func is None and id(node) in self.assigned and last(callee)[:1].isupper()  # `db = MyAlchemy()`, perhaps
                and not _HASHING.search(last(callee))  # `pwd_context = CryptContext(...)`: read below
            ) and last(callee) not in _INTERESTING_CALLS
            factory = "engine" in last(callee).lower() and isinstance(node.func, (ast.Name, ast.Attribute))  # make_engine(url)
            if last(callee) in _INTERESTING_CALLS or flask or factory:
                if "." not in callee and callee not in self.names.aliases:
                    callee = f"{self.facts.module}.{callee}"  # this module's own function, or a variable: linking tells
                kw = {k.arg or "**": ast.unparse(k.value) for k in node.keywords}  # "**": settings we cannot read
                if last(callee) in ENGINE_CALLS and node.args and const_str(node.args[0]) is not None:
                    kw.setdefault("url", repr(const_str(node.args[0])))  # create_engine("sqlite:///cache.db")
                if last(callee).endswith("engine_from_config"):  # pool settings come from the configuration
                    kw.setdefault("**", ast.unparse(node.args[0]) if node.args else "configuration")
                if flask:  # Flask-SQLAlchemy, perhaps: its engine takes engine_options (and the app's configuration)
                    kw = _options(next((k.value for k in node.keywords if k.arg == "engine_options"), None))
                function = func and (f"{self.owners[id(func)]}.{func.name}" if id(func) in self.owners else func.name)
                fact = CallFact(callee, col.span_of(node, self.path), kw, self.assigned.get(id(node)), function)
                if last(callee) not in _INTERESTING_CALLS or last(callee) in ENGINE_CALLS or "sessionmaker" in last(callee):
                    fact.scope = _lifetime(node, func)
                    if fact.scope == "stored" and func is not None and fact.target:
                        fact.target = _kept_on_object(func, fact.target) or fact.target
                    fact.params = _parameters(func) if func else {}
                    fact.args = tuple(ast.unparse(a) for a in node.args)
                    if fact.scope == "passed" and func is not None and fact.target:
                        fact.handed = self._handed(func, fact.target)
                self.facts.calls.append(fact)
            elif isinstance(node.func, ast.Attribute) and node.func.attr in ("update", "setdefault"):
                for key, value in [(const_str(node.args[0]) if node.args else None, node.args[1] if len(node.args) > 1 else None),
                                   *((k.arg, k.value) for k in node.keywords)]:
                    if key and value is not None and key in FLASK_SETTINGS:  # app.config.update(SQLALCHEMY_ENGINE_OPTIONS=...)
                        self._flask_setting(ast.Constant(key), value, node)
            elif callee and _HASHING.search(last(callee)):  # where passwords get hashed, whatever the class
                # the function it is made in tells a password's hash from a key derived for encryption (PBKDF2HMAC)
                self.facts.calls.append(CallFact("password-hashing", col.span_of(node, self.path), {}, callee,
                                                 func.name if func else None))
            elif callee and _FAST_DIGESTS.match(last(callee)) and ("password" in ast.unparse(node).lower() or (
                    func is not None and any(_PASSWORD_WORDS.search(a.arg) for a in func.args.args))):
                # sha256(salt + password); `def encrypt(passwd): m = sha1(); m.update(passwd + salt)`
                self.facts.calls.append(CallFact("password-digest", col.span_of(node, self.path), {}, callee))
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "execution_options" and any(
                k.arg == "schema_translate_map" for k in node.keywords
            ):  # a schema per tenant: the same tables, another schema per request
                kw = {k.arg or "**": ast.unparse(k.value) for k in node.keywords}
                self.facts.calls.append(CallFact("execution_options", col.span_of(node, self.path), kw))
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "delete" and _looks_like_session(node.func.value):
                model = _model_of(node.args[0], func) if node.args else None
                self.facts.calls.append(
                    CallFact(
                        "session.delete", col.span_of(node, self.path), {"model": model} if model else {},
                        ast.unparse(node.args[0]) if node.args else None,
                    )
                )

    def _flask_setting(self, key: ast.AST, value: ast.AST, node: ast.AST) -> None:
        """A Flask-SQLAlchemy setting of the engine, as a fact of its own (FLASK_OPTIONS): the engine
        options it names, or "**" for options we cannot read."""
        name = _flask_setting(key) or ""
        option = const_str(key.slice) if isinstance(key, ast.Subscript) and isinstance(key.value, ast.Subscript) else None
        kw = ({option: ast.unparse(value)} if option else _options(value) if name == "SQLALCHEMY_ENGINE_OPTIONS"
              else {FLASK_SETTINGS[name]: ast.unparse(value)})
        self.facts.calls.append(CallFact(FLASK_OPTIONS, col.span_of(node, self.path), kw, name))

    def _handed(self, func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> tuple[tuple[str, str], ...]:
        """The calls of `func` that are handed the engine held in `name`: (callee, its position or keyword)."""
        out = []
        for call in self._calls_in(func):
            callee = self.names.callee(call)
            given = [(str(i), a) for i, a in enumerate(call.args)] + [(k.arg or "**", k.value) for k in call.keywords]
            out += [(callee, at) for at, a in given if callee and isinstance(a, ast.Name) and a.id == name]
        return tuple(out)

    def _session_binds(self, tree: ast.Module) -> None:
        """Module-level functions that bind one of their parameters, an engine, to a session factory of another
        name (`Session.configure(bind=engine)`): (parameter's position, its name, the factory, qualified)."""
        for func in tree.body:
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            params = [a.arg for a in [*func.args.posonlyargs, *func.args.args]]
            for call in self._calls_in(func):
                bind = next((k.value for k in call.keywords if k.arg == "bind"), None)
                if (isinstance(call.func, ast.Attribute) and call.func.attr == "configure" and isinstance(bind, ast.Name)
                        and bind.id in params and self.names.qualname(call.func.value)):
                    self.facts.session_binds.setdefault(func.name, []).append(
                        (params.index(bind.id), bind.id, self.names.qualname(call.func.value)))

    def _calls_in(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Call]:
        if not hasattr(self, "_by_function"):
            self._by_function: dict[int, list[ast.Call]] = {}
            for call, owner in self.calls:
                if owner is not None:
                    self._by_function.setdefault(id(owner), []).append(call)
        return self._by_function.get(id(func), [])

    def _is_text(self, call: ast.Call) -> bool:
        """sqlalchemy's text(), not a template library's (`from tagflow import text`)."""
        callee = self.names.callee(call)
        return last(callee) == "text" and is_sqlalchemy(callee)

    def _sql_in(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[SqlUse]:
        """SQL sent by the calls of `func` itself (a nested function's calls are its own)."""
        calls = self._calls_in(func)
        if not calls:
            return []
        env: dict[str, list[str]] | None = None
        uses: list[SqlUse] = []
        consumed: set[int] = set()
        awaited: set[int] | None = None
        for node in calls:
            if id(node) in consumed or not node.args:
                continue
            is_execute = isinstance(node.func, ast.Attribute) and node.func.attr in _EXECUTES
            if not is_execute and not self._is_text(node):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Call) and self._is_text(arg):
                consumed.add(id(arg))
            if env is None:
                env = constant_env(func.body, self.env)
                awaited = {id(n.value) for n in walk(func) if isinstance(n, ast.Await)}
            texts = assigned_text(func, arg, env, self.names, self.flow.scope(func)) or evaluate(arg, env, self.names)
            if texts is None:
                continue
            bound = bool(is_execute and (len(node.args) > 1 or node.keywords))
            rolled_back = is_execute and _on_uncommitted_connection(func, node)
            for t in texts:
                use = sql_use(t.value, t.formatted, bound, node, arg, self.path, func.name)
                use.rolled_back = rolled_back
                use.awaited = id(node) in (awaited or ()) if is_execute else None
                use.params = param_names(node) if is_execute else None
                use.unsent = not is_execute and _never_read(func, node)
                if t.formatted:
                    use.holes = self.flow.holes(arg, func, t.value)
                uses.append(use)
        return uses


# Methods of a Flask-SQLAlchemy subclass that set the engine's options in code.
# SQLAlchemy's hooks that run as a class is mapped: what they add to the table is code, not declarations.
MAPPING_HOOKS = ("__mapper_cls__", "__declare_first__", "__declare_last__", "__table_cls__")


ENGINE_HOOKS = ("apply_pool_defaults", "apply_driver_hacks", "_apply_driver_defaults", "create_engine", "_make_engine", "get_engine")
# Flask-SQLAlchemy makes the engine from the app's configuration: SQLALCHEMY_ENGINE_OPTIONS, and before
# its version 3 one key per pool setting.
FLASK_OPTIONS = "flask-sqlalchemy-engine-options"
NAMING_CONVENTION = "metadata-naming-convention"  # a MetaData's convention set once the MetaData is made
FLASK_SETTINGS = {
    "SQLALCHEMY_ENGINE_OPTIONS": "**", "SQLALCHEMY_POOL_SIZE": "pool_size", "SQLALCHEMY_POOL_TIMEOUT": "pool_timeout",
    "SQLALCHEMY_POOL_RECYCLE": "pool_recycle", "SQLALCHEMY_MAX_OVERFLOW": "max_overflow", "SQLALCHEMY_DATABASE_URI": "url",
}


def _substituted(call: ast.Call, name: str, value: str) -> ast.Call:
    """A copy of `call` with `name` read as the constant `value` (f-strings of it become constants), at the
    same lines."""
    class Put(_Folding):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return ast.copy_location(ast.Constant(value), node) if node.id == name and isinstance(node.ctx, ast.Load) else node

    return Put().visit(copy.deepcopy(call))


class _Folding(ast.NodeTransformer):
    """Names replaced by constants (in subclasses): an f-string made only of constants becomes one."""

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        self.generic_visit(node)
        parts = [v.value if isinstance(v, ast.FormattedValue) and v.conversion == -1 and v.format_spec is None else v
                 for v in node.values]
        if all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
            return ast.copy_location(ast.Constant("".join(p.value for p in parts)), node)  # type: ignore[union-attr]
        return node


# What stands for the class a mixin's template is filled in for (link.py): its name, its name in lower case,
# its table's name.
TEMPLATE_NAMES = {"name": "\x00name\x00", "lower": "\x00lower\x00", "table": "\x00table\x00"}


def _templated(call: ast.Call, cls: str) -> ast.Call:
    """A copy of a mixin's `type(...)` call with `cls.__name__`, `cls.__name__.lower()`, `cls.__tablename__`
    and `cls` itself (`relationship(cls)`) read as TEMPLATE_NAMES, f-strings of them as constants."""
    def named(node: ast.AST, attr: str) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.value, ast.Name) and node.value.id == cls

    class Put(_Folding):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            if isinstance(node.func, ast.Attribute) and node.func.attr == "lower" and not node.args and named(node.func.value, "__name__"):
                return ast.copy_location(ast.Constant(TEMPLATE_NAMES["lower"]), node)
            return self.generic_visit(node)

        def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
            if named(node, "__name__") or named(node, "__tablename__"):
                return ast.copy_location(ast.Constant(TEMPLATE_NAMES["name" if node.attr == "__name__" else "table"]), node)
            return self.generic_visit(node)

        def visit_Name(self, node: ast.Name) -> ast.AST:
            return ast.copy_location(ast.Constant(TEMPLATE_NAMES["name"]), node) if node.id == cls else node

    return Put().visit(copy.deepcopy(call))


def _flask_setting(target: ast.AST) -> str | None:
    """`SQLALCHEMY_POOL_SIZE = ...`, `config["SQLALCHEMY_ENGINE_OPTIONS"] = ...`: the setting's name; one option of
    it set apart (`config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] = ...`) is of SQLALCHEMY_ENGINE_OPTIONS."""
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Subscript) and const_str(target.slice):
        return "SQLALCHEMY_ENGINE_OPTIONS" if _flask_setting(target.value) == "SQLALCHEMY_ENGINE_OPTIONS" else None
    name = target.id if isinstance(target, ast.Name) else const_str(target.slice) if isinstance(target, ast.Subscript) else const_str(target)
    return name if name in FLASK_SETTINGS else None


def _options(value: ast.AST | None) -> dict[str, str]:
    """The engine options a dict gives (`{"pool_pre_ping": True}`, `dict(pool_size=5)`); "**" for what
    cannot be read (a name, a call, `**defaults`)."""
    if value is None:
        return {}
    if isinstance(value, ast.Dict):
        return {(const_str(k) if k is not None else None) or "**": ast.unparse(v) for k, v in zip(value.keys, value.values)}
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict" and not value.args:
        return {k.arg or "**": ast.unparse(k.value) for k in value.keywords}
    return {"**": ast.unparse(value)}


def _made(value: ast.AST | None) -> ast.Call | None:
    """The call whose result an assignment binds: `x = f()` and `x = await f()`."""
    if value.__class__ is ast.Await:
        value = value.value  # type: ignore[union-attr]
    return value if value.__class__ is ast.Call else None  # type: ignore[return-value]


_CACHING = ("lru_cache", "cache", "cached_property", "cached")


def _lifetime(call: ast.Call, func: ast.FunctionDef | ast.AsyncFunctionDef | None) -> str:
    """How long what an engine (or session factory) call makes lives, from where its result goes:
    module: made at import; cached: by a function whose result is cached; fallback: in an `except` clause,
    when another attempt failed; returned: by a factory;
    stored: kept on an object, a global or a mapping; passed: handed to another call; local: used
    within one call and dropped (a health check, a backup, an Alembic check)."""
    if func is None:
        return "module"
    if any(_name(d.func if isinstance(d, ast.Call) else d) in _CACHING for d in func.decorator_list):
        return "cached"
    parents: dict[int, ast.AST] = {}
    for node in walk(func):
        for child in children(node):
            parents[id(child)] = node
    up = parents.get(id(call))
    while up is not None and not isinstance(up, ast.ExceptHandler):
        up = parents.get(id(up))
    if up is not None:
        return "fallback"
    parent = parents.get(id(call))
    while isinstance(parent, ast.Await):  # `engine = await make_engine(...)`: the engine is what is awaited
        parent = parents.get(id(parent))
    if isinstance(parent, ast.Return):
        return "returned"
    if isinstance(parent, (ast.Call, ast.keyword)):
        return "passed"
    if isinstance(parent, ast.Attribute):
        return "local"  # create_engine(url).connect(): used on the spot
    targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target] if isinstance(parent, ast.AnnAssign) else []
    if not targets:
        return "local" if isinstance(parent, ast.withitem) else "unknown"
    if not all(isinstance(t, ast.Name) for t in targets):
        return "stored"  # self.engine = ..., cls._engine = ..., state["engine"] = ...
    names = {t.id for t in targets}
    if any(isinstance(n, ast.Global) and names & set(n.names) for n in walk(func)):
        return "stored"
    uses = {"local"}
    for node in walk(func):
        if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):
            up, held = parents.get(id(node)), False
            while isinstance(up, (ast.Tuple, ast.List, ast.Dict)):
                up, held = parents.get(id(up)), True
            if isinstance(up, ast.Return):
                uses.add("returned")
            elif isinstance(up, (ast.Yield, ast.YieldFrom)):  # `yield {"engine": engine}`: a lifespan's state
                uses.add("stored" if held else "passed")
            elif isinstance(up, (ast.Call, ast.keyword)) and not (isinstance(up, ast.Call) and up.func is node):
                uses.add("passed")
            elif isinstance(up, (ast.Assign, ast.AnnAssign)) and not _local_names(up, func):
                uses.add("stored")  # cache[key] = engine, self.engine = engine: made once, kept
    return next(u for u in ("stored", "returned", "passed", "local") if u in uses)  # the longest it may live


def _kept_on_object(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> str | None:
    """`db = create_engine(...)` then `self.conn = db`: the engine is kept where `self.conn = create_engine(...)`
    would keep it, on the object (whose lifetime dbreview cannot tell), not in a name of its own."""
    for node in walk(func):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id == name:
            kept = next((t for t in node.targets if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                         and t.value.id in ("self", "cls")), None)
            if kept is not None:
                return ast.unparse(kept)
    return None


def _sets_naming_convention(node: ast.AST) -> bool:
    """`x.naming_convention = {...}`, `x.naming_convention["fk"] = ...`, `x.naming_convention.update(...)`:
    a MetaData given its convention once made."""
    if isinstance(node, ast.Assign):
        targets = [t.value if isinstance(t, ast.Subscript) else t for t in node.targets]
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("update", "setdefault"):
        targets = [node.func.value]
    else:
        return False
    return any(isinstance(t, ast.Attribute) and t.attr == "naming_convention" for t in targets)


def _local_names(assign: ast.Assign | ast.AnnAssign, func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Does this assignment only bind local names of the function (another name for the same object)?"""
    targets = assign.targets if isinstance(assign, ast.Assign) else [assign.target]
    declared = {n for node in walk(func) if isinstance(node, (ast.Global, ast.Nonlocal)) for n in node.names}
    return all(isinstance(t, ast.Name) and t.id not in declared for t in targets)


def _parameters(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str | None]:
    """A function's parameters in order (self and cls aside), each with its default's source or None."""
    a = func.args
    positional = [*a.posonlyargs, *a.args]
    defaults = [None] * (len(positional) - len(a.defaults)) + [ast.unparse(d) for d in a.defaults]
    out = {p.arg: d for p, d in zip(positional, defaults)}
    out.update((p.arg, ast.unparse(d) if d is not None else None) for p, d in zip(a.kwonlyargs, a.kw_defaults))
    out.pop("self", None)
    out.pop("cls", None)
    return out


def _name(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _never_read(func: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> bool:
    """Is `call` (a text(), through method calls on it: `.bindparams(...)`) assigned to a local name that `func`
    never reads? Then what it builds is never sent."""
    for node in walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            while value is not call and isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
                value = value.func.value
            if value is call:
                name = node.targets[0].id
                shared = any(isinstance(n, (ast.Global, ast.Nonlocal)) and name in n.names for n in walk(func))
                return not shared and not any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
                                              for n in walk(func))
    return False


def _inert(stmt: ast.stmt) -> bool:
    """`pass`, `...`, a docstring, a bare `return`: a statement that does nothing."""
    if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Return) and stmt.value is None):
        return True
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _makes_view(call: ast.Call, names: Names) -> bool:
    """`View(...)`, `MaterializedView(...)`, `create_view(...)` (sqlalchemy-utils): a view, not a table."""
    name = last(names.callee(call)) or ""
    return name.endswith("View") or name.lower() in ("view", "create_view", "create_materialized_view")


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _marked_view(args: ast.AST | None) -> str | None:
    """`__table_args__ = {"info": {"is_view": True}}` (or `info=dict(is_view=True)`, a tuple ending in such a
    dict): the project's own mark of a view, which its env.py and create_all leave out."""
    if isinstance(args, (ast.Tuple, ast.List)) and args.elts:
        args = args.elts[-1]
    info = next((v for k, v in zip(args.keys, args.values) if const_str(k) == "info"), None) if isinstance(args, ast.Dict) else None
    if isinstance(info, ast.Dict):
        marks = {const_str(k): v for k, v in zip(info.keys, info.values)}
    elif isinstance(info, ast.Call) and isinstance(info.func, ast.Name) and info.func.id == "dict":
        marks = {k.arg: k.value for k in info.keywords}
    else:
        return None
    flag = next((k for k, v in marks.items() if k and "view" in k.lower() and const_bool(v) is True), None)
    return f"`info={{{flag!r}: True}}` in __table_args__" if flag else None


def _schema_of(args: ast.AST | None, written: bool = False) -> str | None:
    """The schema a `__table_args__` value or `Table(...)` names: `{"schema": "events"}`, a tuple ending
    in such a dict, or a call with `schema="events"`. `written`: a name or attribute it is given instead of a
    string (`Schemas.LEGACY`), as written."""
    if isinstance(args, (ast.Tuple, ast.List)) and args.elts:
        args = args.elts[-1]
    if isinstance(args, ast.Dict):
        given = next((v for k, v in zip(args.keys, args.values) if const_str(k) == "schema"), None)
    elif isinstance(args, ast.Call):
        given = next((k.value for k in args.keywords if k.arg == "schema"), None)
    else:
        given = None
    if written:
        return ast.unparse(given) if isinstance(given, (ast.Name, ast.Attribute)) else None
    return const_str(given) if given is not None else None


def sql_use(text: str, formatted: bool, bound: bool, call: ast.Call, literal: ast.AST, path: str, function: str | None) -> SqlUse:
    span = col.span_of(call, path)
    literal_span = col.span_of(literal, path)
    statements, _ = parse_statements(text, literal_span, formatted) if text.strip() else ([], None)
    has_params = bound or ":" in text.replace("::", "")
    return SqlUse(span, text, formatted, has_params, statements, function)


def param_names(call: ast.Call) -> tuple[str, ...] | None:
    """The parameter names an execute call passes beside its SQL: a dict literal (or a list of them, for
    executemany), `dict(a=...)`, or keywords; None when they cannot be read."""
    given = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "parameters"), None)
    if isinstance(given, (ast.List, ast.Tuple)) and given.elts and isinstance(given.elts[0], ast.Dict):
        given = given.elts[0]
    if isinstance(given, ast.Dict) and given.keys and all(const_str(k) is not None for k in given.keys):
        return tuple(const_str(k) for k in given.keys)
    if isinstance(given, ast.Call) and isinstance(given.func, ast.Name) and given.func.id == "dict" and not given.args:
        return tuple(k.arg for k in given.keywords if k.arg) or None
    if given is None:
        named = tuple(k.arg for k in call.keywords if k.arg and k.arg not in ("parameters", "execution_options", "bind_arguments"))
        return named or None
    return None


_JSON_METHODS = ("contains", "has_key", "has_any", "has_all", "contained_by", "path_exists", "path_match")
_JSON_OPERATORS = ("@>", "<@", "?", "?|", "?&", "->", "->>", "#>", "#>>", "@?", "@@")


_LOADERS = ("select", "get", "get_one", "query", "get_or_404", "first_or_404", "one_or_404")


# Calls whose result is (a row of) what they are given: a session's runners, the loaders, builtins over rows.
_PASSED_ON = frozenset(("execute", "scalars", "scalar", "exec", "scalar_one", "one", "first", "all", "next", "iter", "list",
                        "sorted", "reversed", *_LOADERS))


def _call_last(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _model_of(target: ast.AST, func: ast.FunctionDef | ast.AsyncFunctionDef | None) -> str | None:
    """The model class of the object passed to session.delete(), from the function's own assignments:
    `x = (await db.execute(select(Task).where(...))).scalar_one()` -> Task. None when not evident."""
    if func is None:
        return None
    bound: dict[str, ast.AST] = {}
    for node in walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound.setdefault(node.targets[0].id, node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            bound.setdefault(node.target.id, node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
            bound.setdefault(node.target.id, node.iter)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            bound.setdefault(node.arg, node.annotation)

    def resolve(expr: ast.AST, depth: int, seen: set[str]) -> str | None:
        if isinstance(expr, ast.Name) and expr.id[:1].isupper():
            return expr.id  # an annotation: `task: Task`
        for n in walk(expr):
            if isinstance(n, ast.Call) and n.args:
                first = n.args[0]
                if _call_last(n) in _LOADERS and isinstance(first, (ast.Name, ast.Attribute)):
                    cls = first.id if isinstance(first, ast.Name) else first.attr
                    if cls[:1].isupper():
                        return cls
            if isinstance(n, ast.Attribute) and n.attr == "query" and isinstance(n.value, ast.Name) and n.value.id[:1].isupper():
                return n.value.id  # Flask-SQLAlchemy: Task.query.get(id)
        if depth >= 4:
            return None
        # What a helper is given does not tell what it returns (`user_role = get_user_role(user)` holds no User); what
        # a session runs, or a builtin hands back, does (`session.scalars(stmt)`, `next(iter(rows))`).
        given = {id(a) for n in walk(expr) if isinstance(n, ast.Call) and _call_last(n) not in _PASSED_ON
                 for arg in [*n.args, *(k.value for k in n.keywords)] for a in walk(arg)}
        for n in walk(expr):
            if isinstance(n, ast.Name) and n.id in bound and n.id not in seen and id(n) not in given:
                found = resolve(bound[n.id], depth + 1, seen | {n.id})
                if found:
                    return found
        return None

    return resolve(target, 0, set())


def _on_uncommitted_connection(func: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> bool:
    """`call` runs on a name the function binds with `with <engine>.connect() as name:`, and nothing in the
    function commits (`commit()`, a `begin()` block) or asks for AUTOCOMMIT: its transaction is rolled back
    when the connection goes back to the pool, and a SET in it with it."""
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if not isinstance(receiver, ast.Name):
        return False
    opened = any(
        isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == receiver.id
        and isinstance(item.context_expr, ast.Call) and isinstance(item.context_expr.func, ast.Attribute)
        and item.context_expr.func.attr == "connect"
        for n in walk(func) if isinstance(n, (ast.With, ast.AsyncWith)) for item in n.items)
    commits = any(
        (isinstance(n, ast.Attribute) and n.attr in ("commit", "begin", "begin_nested"))
        or (isinstance(n, ast.Constant) and n.value == "AUTOCOMMIT")
        for n in walk(func))
    return opened and not commits


def _touches_connection(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A pool listener that reads its first argument (the DBAPI connection) or reaches the connection through
    the record: what it does may change the connection's state. One that only counts, logs or keeps figures
    in `record.info` does not."""
    params = [a.arg for a in (*func.args.posonlyargs, *func.args.args) if a.arg not in ("self", "cls")]
    first = params[0] if params else None
    return any(
        (isinstance(n, ast.Name) and n.id == first and isinstance(n.ctx, ast.Load))
        or (isinstance(n, ast.Attribute) and n.attr in _CONNECTION_ATTRS)
        for n in walk(func)
    ) or func.args.vararg is not None


_CONNECTION_ATTRS = frozenset(("dbapi_connection", "driver_connection", "connection", "invalidate", "soft_invalidate",
                               "cursor", "execute", "rollback", "commit", "close"))


def _hashes(func: ast.AST) -> bool:
    return any(isinstance(n, (ast.Name, ast.Attribute)) and _HASHING.search(n.id if isinstance(n, ast.Name) else n.attr)
               for n in walk(func))


_FAST_DIGESTS = re.compile(r"^(md5|sha1|sha224|sha256|sha384|sha512|sha3_\d+|blake2[bs])$")


def _hashing_methods(body: list[ast.stmt]) -> tuple[dict[str, ast.AST], bool, str]:
    """The class's methods that hash (a password hasher, a hashlib digest, or a method of the class that calls one:
    `self._hash(...)`); whether a password hasher is among them; and the digest's name where hashlib's fast
    digests are the only hashing."""
    methods = {s.name: s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    slow = _callers({name for name, m in methods.items() if _hashes(m)}, methods)
    digests = {name: d for name, m in methods.items() if (d := _digest(m))}
    hashing = _callers(slow | set(digests), methods)
    return {name: methods[name] for name in hashing}, bool(slow), "" if slow else next(iter(digests.values()), "")


def _callers(names: set[str], methods: dict[str, ast.AST]) -> set[str]:
    """`names` and the methods that call one of them on `self` or `cls` (two calls deep)."""
    for _ in range(2):
        names = names | {name for name, m in methods.items() if any(
            isinstance(n, ast.Attribute) and n.attr in names and isinstance(n.value, ast.Name)
            and n.value.id in ("self", "cls") for n in walk(m))}
    return names


def _digest(func: ast.AST) -> str:
    """The hashlib digest `func` calls (`sha256()`, `hashlib.sha512(...)`, `hashlib.new("sha256")`), or ""."""
    for n in walk(func):
        if isinstance(n, ast.Call):
            name = n.func.id if isinstance(n.func, ast.Name) else n.func.attr if isinstance(n.func, ast.Attribute) else ""
            if name == "new" and n.args and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str):
                name = n.args[0].value
            if _FAST_DIGESTS.match(name):
                return name
    return ""


def _hashing_setters(body: list[ast.stmt], hashing: dict[str, ast.AST]) -> list[str]:
    """Attributes set only through a method that hashes: `@password.setter`, or `password = synonym("_password",
    descriptor=property(get, set))` / `password = property(get, set)` (the synonym's column too)."""
    names = []
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in hashing:
            names += [d.value.id for d in stmt.decorator_list if isinstance(d, ast.Attribute)
                      and d.attr == "setter" and isinstance(d.value, ast.Name)]
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and isinstance(stmt.value, ast.Call):
            call, target = stmt.value, stmt.targets[0].id
            prop = next((k.value for k in call.keywords if k.arg == "descriptor"), call)
            setter = prop.args[1] if isinstance(prop, ast.Call) and len(prop.args) > 1 else next(
                (k.value for k in getattr(prop, "keywords", []) if k.arg == "fset"), None)
            if isinstance(setter, ast.Name) and setter.id in hashing:
                names.append(target)
                names += [s for s in (const_str(a) for a in call.args[:1]) if s and call is not prop]
    return names


_HASHING = re.compile(r"bcrypt|argon2|scrypt|pbkdf2|passlib|CryptContext|pwd_context|hashpw|checkpw|hash_password|generate_password_hash|make_password", re.I)


def _bound_class(cls: ast.ClassDef, values: dict[str, str]) -> ast.ClassDef:
    """A copy of a factory's class with its parameters' names read as the strings given (`f"{table}_labels"` becomes
    a string), at the same lines."""
    class Put(_Folding):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return ast.copy_location(ast.Constant(values[node.id]), node) if node.id in values else node

    return Put().visit(copy.deepcopy(cls))


def _plain_value(value: ast.AST | None) -> bool:
    """No value, or a literal default: not a call (Field/Relationship are read as such) nor ClassVar-ish."""
    return value is None or isinstance(value, (ast.Constant, ast.List, ast.Dict, ast.Tuple, ast.Name, ast.Attribute, ast.UnaryOp))


def _wraps(call: ast.Call, annotation: ast.AST | None, names: Names) -> bool:
    """A call of the project's or a library's own around a column or relationship of a `Mapped[...]` attribute
    (`with_roles(mapped_column(...), read={"all"})`, `immutable(relationship(...))`): it hands the ORM what it is
    given, the first argument. Not SQLAlchemy's own calls, which say what they make."""
    return annotation is not None and last(ast.unparse(annotation).split("[", 1)[0]) in ("Mapped", "WriteOnlyMapped", "DynamicMapped") \
        and not names.callee(call).startswith("sqlalchemy")


def _bare_mapped_column(annotation: ast.AST, names: Names) -> bool:
    """`Mapped[<a scalar Python type>]` (not a collection): a column, not a relationship. A name that is
    not a Python type (`Mapped[MetadataColumn]`, `Mapped[Status]`) is a column too, typed by what the
    name turns out to be when the target is linked: an Annotated alias, an enum, a library's type."""
    node = annotation
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return False
    if not (isinstance(node, ast.Subscript) and last(names.qualname(node.value)) == "Mapped"):
        return False
    py_type, _ = col.annotation_info(annotation, names)
    if py_type == "dict" or py_type == "list" and _of_plain_values(node):
        return True  # `Mapped[dict[str, Any]]`, `Mapped[list[str]]`: a relationship needs relationship(); a base's type map types it
    if py_type in col.ANNOTATION_TYPES:
        return py_type not in ("list", "dict")
    return py_type is not None and py_type not in _COLLECTIONS and col.annotation_ref(annotation, names) is not None


def _of_plain_values(mapped: ast.Subscript) -> bool:
    """`Mapped[list[dict[str, Any]]]`, `Mapped[list[str] | None]`: a list of values, not of a class's rows."""
    inner = mapped.slice
    if isinstance(inner, ast.BinOp):  # `list[str] | None`
        inner = inner.left if not (isinstance(inner.left, ast.Constant) and inner.left.value is None) else inner.right
    if not isinstance(inner, ast.Subscript):
        return False
    item = inner.slice
    named = item.value if isinstance(item, ast.Subscript) else item
    return isinstance(named, ast.Name) and named.id in ("dict", "str", "int", "float", "bool", "Any")


_COLLECTIONS = {"List", "Set", "Sequence", "Collection", "Iterable", "Dict", "Mapping", "FrozenSet", "Tuple", "AppenderQuery",
                "Any", "ClassVar"}


_DB_ATTRIBUTE = re.compile(r"(^|\.)_?db$")  # db, self._db, request.db (Pyramid's request-scoped session)


def _looks_like_session(node: ast.AST) -> bool:
    """`session`, `db.session`, `self._session`, `request.db`: the object itself is named so, not something reached
    through one (`self.session.integration_controller` is a controller)."""
    text = ast.unparse(node).lower()
    return "session" in text.rsplit(".", 1)[-1] or text == "s" or bool(_DB_ATTRIBUTE.search(text))


def _inline_locals(func: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> ast.Call:
    """The call with each argument that is a name the function binds once, at its top level, replaced by what it is
    bound to: a declared_attr's `fk = ForeignKey(...)`; `return Column(Integer, fk)` declares that foreign key."""
    assigned = [(t.id, st.value) for st in func.body if isinstance(st, ast.Assign) for t in st.targets if isinstance(t, ast.Name)]
    times = Counter(name for name, _ in assigned)
    bound = {name: value for name, value in assigned if times[name] == 1}
    if not bound:
        return call
    def inline(node: ast.expr) -> ast.expr:
        return bound.get(node.id, node) if isinstance(node, ast.Name) else node
    return ast.copy_location(ast.Call(func=call.func, args=[inline(a) for a in call.args],
                                      keywords=[ast.keyword(k.arg, inline(k.value)) for k in call.keywords]), call)


def _is_declared_attr(func: ast.FunctionDef | ast.AsyncFunctionDef, names: Names) -> bool:
    for deco in func.decorator_list:
        q = names.qualname(deco.func if isinstance(deco, ast.Call) else deco)
        if "declared_attr" in q:
            return True
    return False


def _class_like(node: ast.AST) -> bool:
    """`Visit`, `models.Visit`: what `delete()` or `update()` of a model names (not `session.delete(visit)`)."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name[:1].isupper()


def _tablename_rule(returned: ast.expr) -> str:
    """How a `@declared_attr __tablename__` derives a name from the class's: "lower" (`cls.__name__.lower()`) or
    "snake" (any other rewrite of `__name__`), with the constants added before and after it (`... + "s"`: tacker's
    plural), written "rule|prefix|suffix"."""
    parts: list[ast.expr] = []

    def flatten(node: ast.expr) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            flatten(node.left)
            flatten(node.right)
        else:
            parts.append(node)

    flatten(returned)
    core = next((i for i, n in enumerate(parts) if "__name__" in ast.unparse(n)), None)
    affixes = [p for i, p in enumerate(parts) if i != core]
    if core is None or not all(const_str(p) is not None for p in affixes):
        core, affixes = None, []
    text = ast.unparse(parts[core] if core is not None else returned).replace(" ", "")
    rule = "lower" if text.endswith("__name__.lower()") else "snake"
    if not affixes:
        return rule
    prefix = "".join(const_str(p) or "" for p in parts[:core])
    suffix = "".join(const_str(p) or "" for p in parts[core + 1:])
    return f"{rule}|{prefix}|{suffix}"


def _mapper_key(value: ast.expr) -> tuple[str, ...]:
    """The attributes `__mapper_args__ = {"primary_key": [id, __table__.c.code]}` names (by their last name: an
    attribute, `__table__.c.x`, `"x"`); "?" for an item dbreview cannot name."""
    items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
    out = []
    for item in items:
        if isinstance(item, ast.Name):
            out.append(item.id)
        elif isinstance(item, ast.Attribute):
            out.append(item.attr)
        else:
            out.append(const_str(item) or "?")
    return tuple(out)
