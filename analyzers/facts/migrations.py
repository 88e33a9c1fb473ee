"""An Alembic revision file -> RevisionFact: its place in the graph and every operation of its
upgrade and downgrade, with the SQL inside op.execute parsed."""

from __future__ import annotations

import ast
import copy
import re
import sys
from dataclasses import dataclass
from typing import Callable, Iterator

from analyzers.facts import columns as col
from analyzers.facts.model import ColumnFact, IndexFact, MigrationOp, RevisionFact, Span, SqlStatement, SqlUse, Unread
from analyzers.facts.names import Names, all_statements, const_bool, const_str, kwargs, last
from analyzers.facts.flow import Flow
from analyzers.facts.strings import Env, constant_env, evaluate, strings_of
from analyzers.facts.walk import walk

_MAX_INLINE_DEPTH = 2
_MAX_FOLLOW_DEPTH = 3  # functions of other modules of the project, followed call within call
# op.<name>(constraint_or_index_name, table, ...): a batch_op omits the table, second in op's signature.
# Parameter names of op.* (as Alembic spells them), so keyword calls read like positional ones.
_PARAMS = {
    "add_column": ("table_name", "column"), "drop_column": ("table_name", "column_name"),
    "drop_table": ("table_name",), "drop_index": ("index_name", "table_name"),
    "drop_constraint": ("constraint_name", "table_name"), "rename_table": ("old_table_name", "new_table_name"),
    "alter_column": ("table_name", "column_name"), "create_table": ("table_name",),
    "create_index": ("index_name", "table_name", "columns"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_foreign_key": ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
    "execute": ("sqltext",),
}
# Operations an extension registers on Alembic's `op` with the signature of Alembic's own (geoalchemy2's
# alembic_helpers: a column, index or table that also registers its spatial type and index).
_EXTENSION_OPS = {
    "add_geospatial_column": "add_column", "drop_geospatial_column": "drop_column",
    "create_geospatial_index": "create_index", "drop_geospatial_index": "drop_index",
    "create_geospatial_table": "create_table", "drop_geospatial_table": "drop_table",
}
_NOT_OPERATIONS = {
    "get_bind", "get_context", "f", "inline_literal", "implementation_for", "register_operation", "invoke",
    "run_async", "batch_alter_table",
}
# Batch operations whose only positional parameter is the column (the rest keyword-only): given more, they raise.
_ONE_POSITIONAL = frozenset(("add_column", "drop_column", "alter_column"))
# The arguments (after a batch's table is put in) that name what an op changes: unknown, the op is unread.
_NAMING = {
    "create_table": (0,), "add_column": (0,), "drop_column": (0, 1), "drop_table": (0,), "rename_table": (0, 1),
    "alter_column": (0, 1), "create_index": (1,), "drop_index": (0,), "drop_constraint": (0, 1),
    "create_unique_constraint": (1,), "create_primary_key": (1,), "create_check_constraint": (1,),
    "create_foreign_key": (1, 2),
}
# alter_column's keywords that only describe the column as it is, for the DDL of some databases: with no
# other keyword, Alembic's alter_column (any dialect, batch or not) emits no SQL at all.
_ALTER_DESCRIBES = frozenset((
    "existing_type", "existing_nullable", "existing_server_default", "existing_comment", "existing_autoincrement", "schema",
))
_CORE_DML = {"update": "UpdateStmt", "insert": "InsertStmt", "delete": "DeleteStmt", "select": "SelectStmt"}
# SQLAlchemy DDL constructs that make or drop something other than a table or a column.
_CORE_DDL = (
    "CreateSequence", "DropSequence", "CreateSchema", "DropSchema", "CreateIndex", "DropIndex", "AddConstraint",
    "DropConstraint", "SetTableComment", "DropTableComment", "SetColumnComment", "DropColumnComment",
)
# Inspector methods: a migration that calls them decides what to change by what the database has.
_INSPECTOR = frozenset((
    "has_table", "has_index", "has_sequence", "has_schema", "get_table_names", "get_columns", "get_indexes",
    "get_unique_constraints", "get_foreign_keys", "get_check_constraints", "get_pk_constraint", "get_view_names",
    "get_enums", "get_sequence_names",
))
# SQL that asks the catalog what the database holds (`SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE
# column_name = 'x')`): an `if` on its answer is an inspector check, asking about the names it quotes.
_CATALOG_QUERY = re.compile(r"\bFROM\s+(information_schema\.|pg_catalog\.|pg_(class|attribute|tables|indexes|type|enum|constraint)\b|sqlite_master\b)", re.I)
_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")
_TABLE_METHODS = ("create", "drop", "create_all", "drop_all")  # sa.Table(...).create(bind), metadata.create_all(bind)
_TABLE_SECOND = (
    "create_index", "create_unique_constraint", "create_foreign_key", "create_check_constraint",
    "create_primary_key", "drop_constraint",
)


def is_migration(tree: ast.Module, path: str) -> bool:
    assigned = {
        t.id
        for n in tree.body
        if isinstance(n, (ast.Assign, ast.AnnAssign))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return "revision" in assigned and "down_revision" in assigned and "upgrade" in defined


@dataclass(frozen=True)
class Helper:
    """A function of another module of the project that a revision calls, as read from that module:
    its `def`, and the module's names, constants, functions and tree (analyzers/facts/link.py finds it)."""

    func: ast.FunctionDef
    names: Names
    env: Env
    functions: dict[str, ast.FunctionDef]
    tree: ast.Module
    path: str


def read_revision(
    tree: ast.Module, names: Names, path: str, env: Env, errors: list, follow: Callable[[str, str], Helper | None] | None = None,
) -> RevisionFact:
    """`follow`: the project's function a qualified name leads to from a module, if any; without it (a file read alone)
    calls of other modules' functions are recorded on the revision (helper_calls), not followed."""
    values: dict[str, ast.AST] = {}
    spans: dict[str, Span] = {}
    for n in tree.body:
        if isinstance(n, (ast.Assign, ast.AnnAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            for t in targets:
                if isinstance(t, ast.Name) and n.value is not None:
                    values[t.id] = n.value
                    spans[t.id] = col.span_of(n, path)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    revision = (_strings(values.get("revision"), env) or (None,))[0]
    down = values.get("down_revision")
    downs = _strings(down, env)
    unread = []
    if revision is None:
        unread.append(Unread("revision", spans.get("revision", Span(path, 1, 1)), "its revision id is not a constant we could read"))
    if down is not None and not downs and not (isinstance(down, ast.Constant) and down.value is None):
        unread.append(Unread("revision", spans["down_revision"], f"its parent `{ast.unparse(down)}` is not a constant we could read"))
    reader = _OpReader(names, path, env, functions, values)
    reader.follow = follow
    reader.flow = Flow(tree, names, env)
    reader.methods = _schema_methods(tree, names)
    upgrades, downgrades = _bodies(functions, "upgrade"), _bodies(functions, "downgrade")
    upgrade = [op for f in upgrades for op in reader.ops(f)]
    helper_calls, reader.helper_calls = reader.helper_calls, []
    doc = ast.get_docstring(tree) or ""
    return RevisionFact(
        path=path,
        revision=revision,
        down_revisions=downs,
        span=spans.get("revision", Span(path, 1, 1)),
        upgrade=upgrade,
        helper_calls=helper_calls,
        downgrade=[op for f in downgrades for op in reader.ops(f)],
        upgrade_span=col.span_of(upgrades[0], path) if upgrades else None,
        downgrade_span=col.span_of(downgrades[0], path) if downgrades else None,
        downgrade_empty=all(_is_empty(f) for f in downgrades),
        message=doc.strip().splitlines()[0] if doc.strip() else None,
        doc=doc.strip(),
        downgrade_raises=any(isinstance(s, ast.Raise) for f in downgrades for s in f.body),
        branch_labels=_labels(values.get("branch_labels"), env),
        depends_on=_strings(values.get("depends_on"), env),
        unread=unread,
        imports=_imports_used(tree, [*upgrades, *downgrades], path),
    )


def _schema_methods(tree: ast.Module, names: Names) -> dict[str, str]:
    """Method name -> class, for the classes the migration defines that call Alembic's `op` (a rename
    helper: `Rn("user_id", "account_id").upgrade()`): calling them changes the schema in ways dbreview
    does not follow (the object's state decides what)."""
    out: dict[str, str] = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and (
                ast.unparse(n.func.value) == "op" or names.qualname(n.func.value).endswith("alembic.op")) for n in walk(cls)):
            out.update((f.name, cls.name) for f in cls.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("__"))
    return out


def _bodies(functions: dict[str, ast.FunctionDef], name: str) -> list[ast.FunctionDef]:
    """The functions that hold what `upgrade` (or `downgrade`) does: itself, or where it only picks one by
    the database bind it is given (Flask-Migrate's multi-database template: `def upgrade(engine_name=""):
    globals()[f"upgrade_{engine_name}"]()`), every `upgrade_<bind>`, the default bind's (`upgrade_`) first."""
    func = functions.get(name)
    if func is None:
        return []
    if not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("globals", "locals")
               for n in walk(func)):
        return [func]
    binds = sorted((f for n, f in functions.items() if n.startswith(f"{name}_")), key=lambda f: (f.name != f"{name}_", f.name))
    return binds or [func]


_LIBRARIES = ("alembic", "sqlalchemy", "sqlmodel", "typing", "collections", "datetime", "uuid", "enum", "json", "re", "os",
              "logging", "__future__", "decimal", "dataclasses", "functools", "itertools", "textwrap", "sys")


def _imports_used(tree: ast.Module, functions: list[ast.FunctionDef], path: str) -> list[tuple[str, str, Span]]:
    """Names imported from outside Alembic, SQLAlchemy and the standard library (at the top of the file
    or inside the functions) that the upgrade or downgrade use."""
    used = set()
    for f in functions:
        for n in walk(f):
            if n.__class__ is ast.Name:  # the exact class: ast.parse makes no subclasses
                used.add(n.id)
            elif n.__class__ is ast.Attribute and n.value.__class__ is ast.Name:
                used.add(n.value.id)
    out = []
    for node in all_statements(tree):  # imports are statements: those of ast.walk, in its order
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
        for alias in node.names:
            qualified = f"{module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
            local = alias.asname or alias.name.split(".")[0]
            if qualified.split(".")[0] in _LIBRARIES or local not in used or alias.name == "*":
                continue
            out.append((local, qualified, col.span_of(node, path)))
    return out


def _strings(node: ast.AST | None, env: Env) -> tuple[str, ...]:
    if node is None:
        return ()
    return tuple(strings_of(node, env) or ([] if const_str(node) is None else [const_str(node)]))


def _labels(node: ast.AST | None, env: Env) -> tuple[str, ...]:
    """`branch_labels`: its strings, or where a label is a name dbreview cannot read (`(cli.EXPAND_BRANCH,)`),
    that name as written: a revision that sets a label starts a branch of its own, whatever the label's value."""
    read = _strings(node, env)
    if read or node is None:
        return read
    return tuple(ast.unparse(e) for e in (node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node])
                 if not (isinstance(e, ast.Constant) and e.value is None))


def _is_empty(func: ast.FunctionDef) -> bool:
    """Nothing but `pass`, a docstring or `...`, and messages printed or logged (`print("We do not support
    downgrading")`): the downgrade changes nothing in the database."""
    for stmt in func.body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):  # docstring, ...
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and _says(stmt.value):
            continue
        return False
    return True


def _says(call: ast.Call) -> bool:
    """`print(...)`, `log.info(...)`, `logger.warning(...)`, `warnings.warn(...)`, `click.echo(...)` given
    constants only: a message, no database call."""
    func = call.func
    said = isinstance(func, ast.Name) and func.id == "print" or isinstance(func, ast.Attribute) and isinstance(
        func.value, ast.Name) and (func.value.id in ("log", "logger", "logging", "LOG", "warnings", "click")) and func.attr in (
        "debug", "info", "warning", "warn", "error", "critical", "echo")
    return said and all(isinstance(a, (ast.Constant, ast.JoinedStr)) for a in call.args)


_OTHER_DATABASES = ("mysql", "mariadb", "sqlite", "mssql", "oracle")


def _other_database(test: ast.expr) -> tuple[bool, bool]:
    """Whether an `if`'s body, and its else, run only on a database other than PostgreSQL: the test
    compares the dialect's name or the URL with names of databases (`dialect.name == "mysql"`,
    `url.startswith("postgres")`, `!=` and `not` turning it round)."""
    names = [n.value.lower() for n in ast.walk(test) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    if not names and (named := _database_named(test)) is not None:
        names = [named]  # `if settings.pg_uri:`, `if not USE_SQLITE:`: a setting that names the database
    if not names or not all(n.startswith(("postgres", *_OTHER_DATABASES)) for n in names):
        return False, False
    other = any(n.startswith(_OTHER_DATABASES) for n in names)
    if other == any(n.startswith("postgres") for n in names):
        return False, False  # both named (`in ("postgresql", "mysql")`): no branch is another database's alone
    negated = any(isinstance(n, (ast.NotEq, ast.NotIn, ast.Not)) for n in ast.walk(test))
    body_elsewhere = other != negated
    return body_elsewhere, not body_elsewhere


_SAYS_WHICH = {"uri", "url", "dsn", "use", "uses", "is", "using"}  # words of a setting that says which database it is


def _database_named(test: ast.expr) -> str | None:
    """The database a bare setting's name says is in use (`settings.letta_pg_uri`, `not config.use_sqlite`,
    `is_postgres`): its words, split at `_` and `.`, hold one database's name and a word that says it is the one
    used (not `settings.pg_pool_size`); None for anything else (a call, a comparison, two databases)."""
    node = test.operand if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) else test
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return None
    words = set(re.split(r"[_.]", ast.unparse(node).lower()))
    named = {"postgres" if w in ("pg", "postgres", "postgresql") else w for w in words} & {"postgres", *_OTHER_DATABASES}
    return named.pop() if len(named) == 1 and (words & _SAYS_WHICH or len(words) == 1) else None


def _leaves(body: list[ast.stmt]) -> bool:
    """The body ends the function (`return` or `raise` last): what follows its `if` runs only when the test fails."""
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise))


def _autocommit_set(stmt: ast.stmt, now: bool) -> bool:
    """What the statement sets the connection's autocommit to, else `now`: `dbapi_conn.autocommit = True` (or False),
    `conn.execution_options(isolation_level="AUTOCOMMIT")` (SQLAlchemy 2.0 sets a Connection's options in place)."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(t := stmt.targets[0], ast.Attribute) \
            and t.attr == "autocommit" and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, bool):
        return stmt.value.value
    levels = [k.value.value for n in walk(stmt) if isinstance(n, ast.Call) for k in n.keywords
              if k.arg == "isolation_level" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)]
    return levels[-1].upper() == "AUTOCOMMIT" if levels else now


def _negated(test: ast.expr) -> bool | None:
    """Whether an inspector test is turned round (`not has(...)`, `"x" not in names`): its body runs where
    the check finds nothing. False for a plain test (its else runs there), None where it cannot be told
    (`a and not b`, `len(found) == 0`)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    if isinstance(test, ast.Compare):
        return True if isinstance(test.ops[0], ast.NotIn) else False if isinstance(test.ops[0], ast.In) else None
    return None if isinstance(test, ast.BoolOp) else False


def _drops_what_was_found(stmt: ast.If) -> bool:
    """`if fk_name: op.drop_constraint(fk_name, "orders")` (or `is not None`), no else: the `if` only asks
    whether a lookup found a name, and its body only drops by that name."""
    test = stmt.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.IsNot, ast.NotEq)) \
            and _is_none(test.comparators[0]):
        test = test.left
    if not isinstance(test, ast.Name) or stmt.orelse:
        return False
    calls = [s.value for s in stmt.body if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)]
    return len(calls) == len(stmt.body) and all(
        isinstance(c.func, ast.Attribute) and c.func.attr.startswith("drop_") and c.args
        and isinstance(c.args[0], ast.Name) and c.args[0].id == test.id for c in calls)


def _dialect_only(test: ast.AST, bindings: dict[str, ast.AST]) -> bool:
    """Whether an `if` only compares the dialect's (or the URL's) name with names of databases, read
    directly or through a name it was assigned to (`dialect_name = inspector.dialect.name`)."""
    names = [n.value.lower() for n in ast.walk(test) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    if not names or not all(n.startswith(("postgres", *_OTHER_DATABASES)) for n in names):
        return False
    read = [test, *(bindings[n.id] for n in ast.walk(test) if isinstance(n, ast.Name) and n.id in bindings)]
    return any(isinstance(n, ast.Attribute) and n.attr in ("dialect", "name", "drivername", "url")
               for expr in read for n in ast.walk(expr))


class _OpReader:
    def __init__(
        self, names: Names, path: str, env: Env, functions: dict[str, ast.FunctionDef], bindings: dict[str, ast.AST],
    ) -> None:
        self.names, self.path, self.env, self.functions = names, path, env, functions
        self.helper_calls: list[tuple[Span, str]] = []  # calls of the project's own functions that could not be followed
        self.module_bindings = bindings
        self.bindings: dict[str, ast.AST] = bindings  # name -> the value last assigned to it (module, then function)
        self.unknown: dict[str, str] = {}  # names bound by a loop that could not be followed -> why
        self.flow: Flow | None = None  # where values spliced into op.execute's SQL come from
        self.func: ast.FunctionDef | None = None  # the function being read (upgrade, or a helper it calls)
        self.methods: dict[str, str] = {}  # methods of the migration's own classes that call op.* -> their class
        self.sources: dict[str, ast.expr] = {}  # a name a loop binds -> what the loop runs over
        self.flags: dict[str, bool] = {}  # the helper's parameters given True or False (`def run(upgrade=True)`)
        self.given: dict[str, ast.expr] = {}  # the helper's parameters -> what its caller passed (`type_=sa.String(...)`)
        # The DBAPI connection set to autocommit (`dbapi_conn.commit(); dbapi_conn.autocommit = True`, a helper's
        # body included): the steps after it run outside the migration's transaction, until it is set back.
        self.autocommit = False
        self.follow: Callable[[str, str], Helper | None] | None = None
        self.following: tuple[str, ...] = ()  # the other modules' functions being read, outermost first (no cycle)
        self.followed: set[ast.Call] = set()  # the calls read so: no longer unread

    def ops(self, func: ast.FunctionDef) -> list[MigrationOp]:
        out: list[MigrationOp] = []
        self.autocommit = False
        self.bindings = {**self.module_bindings, **_assigned(func.body)}
        self.func = func
        self._body(func.body, constant_env(func.body, self.env), {}, out, 0)
        return out

    def _body(self, body: list[ast.stmt], env: Env, batch: dict[str, str], out: list[MigrationOp], depth: int) -> None:
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.If) and not stmt.orelse and _leaves(stmt.body) and body[i + 1:] \
                    and any(_other_database(self._returned_test(stmt.test))):
                # `if <PostgreSQL configured>: return` then the steps: the rest is the `if`'s else, another database's
                self._body([ast.If(stmt.test, stmt.body, body[i + 1:])], env, batch, out, depth)
                return
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                before = len(out)
                self._loop(stmt, env, batch, out, depth)
                self._committed_per_pass(stmt, out[before:])
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                inner = dict(batch)
                autocommit = False
                for item in stmt.items:
                    call = item.context_expr
                    if isinstance(call, ast.Call) and last(self.names.callee(call)) == "batch_alter_table" and call.args:
                        table = (strings_of(call.args[0], env) or [None])[0]
                        if isinstance(item.optional_vars, ast.Name) and table:
                            inner[item.optional_vars.id] = table
                    autocommit |= "autocommit" in ast.unparse(call).lower()  # autocommit_block(), isolation_level="AUTOCOMMIT"
                before = len(out)
                self._body(stmt.body, env, inner, out, depth)
                for op in out[before:] if autocommit else ():
                    op.autocommit = True
            elif isinstance(stmt, ast.If) and (chosen := self._flag(stmt.test)) is not None:
                self._body(stmt.body if chosen else stmt.orelse, env, batch, out, depth)  # run(True) / run(False)
            elif isinstance(stmt, (ast.If, ast.Try, ast.While)):  # not except handlers: the run that went wrong
                before = len(out)
                other = _other_database(self._returned_test(stmt.test)) if isinstance(stmt, ast.If) else (False, False)
                ends = []
                pinned = _pinned(stmt.test, env) if isinstance(stmt, ast.If) else env
                for part, elsewhere, known in zip((stmt.body, getattr(stmt, "orelse", []), getattr(stmt, "finalbody", [])),
                                                  (*other, False), (pinned, env, env)):
                    start = len(out)
                    self._body(part, known, batch, out, depth)
                    ends.append(len(out))
                    for op in out[start:] if elsewhere else ():
                        op.not_postgres = True
                if isinstance(stmt, ast.While):
                    self._committed_per_pass(stmt, out[before:])
                if isinstance(stmt, ast.If) and self._inspects(stmt.test):
                    names, calls = tuple(self._asked(stmt.test, env)), tuple(self._calls(stmt.test))
                    negated, found = _negated(stmt.test), _drops_what_was_found(stmt)
                    for i, op in enumerate(out[before:], before):
                        op.drops_what_was_found = found and (not op.guarded or op.drops_what_was_found)
                        op.guarded = True
                        op.guard_names += names
                        op.guard_calls += calls
                        op.guard_missing |= bool(negated if i < ends[0] else negated is False)
            else:
                before = len(out)
                for node in walk(stmt):
                    if isinstance(node, ast.Call):
                        self._call(node, env, batch, out, depth)
                if len(out) == before and (helper := self._helper_call(stmt)) is not None \
                        and stmt.value not in self.followed:  # type: ignore[attr-defined]
                    self.helper_calls.append(helper)
                for op in out[before:] if self.autocommit else ():
                    op.autocommit = True
                self.autocommit = _autocommit_set(stmt, self.autocommit)
                env = self._assign(stmt, env)

    def _committed_per_pass(self, loop: ast.For | ast.AsyncFor | ast.While, ops: list[MigrationOp]) -> None:
        """A loop that commits its connection on each pass (`conn.commit()` after each batch of a backfill): its steps
        run in transactions it ends itself, not in the revision's one, and hold no lock past the batch. Not the commit
        of an ORM Session made on the migration's connection (`Session(bind=op.get_bind())`): it joins Alembic's
        transaction and does not end it."""
        for n in walk(loop):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "commit" and not n.args \
                    and ast.unparse(n.func.value) != "op":
                made = self._value_of(n.func.value)
                if not (isinstance(made, ast.Call) and "session" in last(self.names.callee(made)).lower()):
                    for op in ops:
                        op.autocommit = True
                    return

    def _returned_test(self, test: ast.expr) -> ast.expr:
        """`if is_postgres():`, `if not is_sqlite():`: the comparison the migration's own helper returns (its
        body one `return`), so that the dialect it tests is seen as if written in the `if`."""
        negate = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        call = test.operand if negate else test  # type: ignore[attr-defined]
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in self.functions):
            return test
        body = [b for b in self.functions[call.func.id].body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
            return test
        return ast.UnaryOp(ast.Not(), body[0].value) if negate else body[0].value

    def _inspects(self, test: ast.AST, depth: int = 0) -> bool:
        """Whether an `if` asks the database what is there: the inspector (`has_table`, `get_columns`), or
        the migration's own helper that does (`if not column_exists("users", "email"):`). Not a test of
        the dialect's name alone (`if inspector.dialect.name == "postgresql":`): the same database answers
        it the same way whatever it holds."""
        if _dialect_only(test, self.bindings):
            return False
        for node in walk(test):
            if isinstance(node, ast.Name) and node.id in self.bindings and depth < 2 and self.bindings[node.id] is not test:
                if self._inspects(self.bindings[node.id], depth + 1):  # names = [c["name"] for c in insp.get_columns(t)]
                    return True
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
            if name in _INSPECTOR or name == "inspect" or any(
                    isinstance(a, ast.Constant) and isinstance(a.value, str) and _CATALOG_QUERY.search(a.value) for a in walk(node)):
                return True
            if name in self.functions and depth < 2 and any(
                self._inspects(n, depth + 1) for n in self.functions[name].body
            ):
                return True
        return False

    def _asked(self, test: ast.AST, env: Env, depth: int = 0) -> set[str]:
        """The names an inspector test asks about: its strings, the constants its names hold, and those of
        the expression a name was assigned (`exists = any(i["name"] == "ix_orders_total" for i in indexes)`)
        or of the migration's own helper it calls (`_has_fk(insp)` comparing with module constants)."""
        found: set[str] = set()
        for node in self._read(test, depth):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(_QUOTED.findall(node.value) if _CATALOG_QUERY.search(node.value) else (node.value,))
            elif isinstance(node, ast.Name):
                found.update(strings_of(node, env) or ())
        return found

    def _calls(self, test: ast.AST) -> set[str]:
        """The inspector methods a test calls, in itself, the expressions its names hold or its helpers."""
        return {n.func.attr for n in self._read(test, 0)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _INSPECTOR}

    def _read(self, test: ast.AST, depth: int) -> Iterator[ast.AST]:
        """Every node a test evaluates: its own, those of the values its names were assigned and of the
        bodies of the migration's functions it calls, two hops deep."""
        for node in ast.walk(test):
            yield node
            if depth >= 2:
                continue
            if isinstance(node, ast.Name) and node.id in self.bindings and self.bindings[node.id] is not test:
                yield from self._read(self.bindings[node.id], depth + 1)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.functions:
                for stmt in self.functions[node.func.id].body:
                    yield from self._read(stmt, depth + 1)

    def _assign(self, stmt: ast.stmt, env: Env) -> Env:
        """After `name = value` in a block, the rest of it reads the name as that value (a statement
        built in a loop: `stmt = text(...)`, then `op.execute(stmt)`)."""
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else getattr(stmt, "target", None)
        value = getattr(stmt, "value", None)
        if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or not isinstance(target, ast.Name) or value is None:
            return env
        self.bindings[target.id] = value
        values = strings_of(value, env)
        rest = {k: v for k, v in env.items() if k != target.id}
        return {**rest, target.id: values} if values is not None else rest

    def _loop(self, stmt: ast.For | ast.AsyncFor, env: Env, batch: dict[str, str], out: list[MigrationOp], depth: int) -> None:
        """The body once per value when the loop runs over constants (`for t in TABLES`, `reversed(...)`,
        `for name, type_ in PAIRS`, `.items()`); else once, its names unknown, so that an op naming its
        table or column by them is recorded unread rather than read with a wrong name."""
        bound = _target_names(stmt.target)
        self.sources.update((name, stmt.iter) for name in bound)
        items = self._items(stmt.iter, env)
        if items is not None and bound:
            # `for table in [users, roles]: table.create(bind)`: the name bound to each Table(...) in turn
            named = self._elements(stmt.iter) if isinstance(stmt.target, ast.Name) else None
            elements = [e if isinstance(e, ast.Name) else None for e in named] if named and len(named) == len(items) else [None] * len(items)
            saved_binding = self.bindings.get(bound[0])
            try:
                for item, element in zip(items, elements):
                    inner = {k: v for k, v in env.items() if k not in bound}
                    for name, value in _bind(stmt.target, item):
                        if isinstance(value, str):
                            inner[name] = [value]
                    if element is not None:
                        self.bindings[bound[0]] = element
                    self._body(stmt.body, inner, batch, out, depth)
            finally:
                if saved_binding is not None:
                    self.bindings[bound[0]] = saved_binding
                else:
                    self.bindings.pop(bound[0], None)
            return
        saved = self.unknown
        why = f"it comes from a loop over `{ast.unparse(stmt.iter)}`, which could not be followed"
        self.unknown = {**saved, **{name: why for name in bound}}
        before = len(out)
        try:
            self._body(stmt.body, {k: v for k, v in env.items() if k not in bound}, batch, out, depth)
        finally:
            self.unknown = saved
        if self._missing_only(stmt.iter):
            for op in out[before:]:
                if (op.target if op.name == "unread" else op.name or "").rsplit(".", 1)[-1].startswith(("add_", "create_")):
                    op.guarded = op.guard_missing = op.only_missing = True

    def _missing_only(self, node: ast.AST) -> bool:
        """Whether a loop runs over a comprehension that keeps only what an inspector check did not find
        (`[c for name, c in COLUMNS if name not in existing]`, `existing` read from the inspector)."""
        node = self._value_of(node)
        if not isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return False
        tests = [t for g in node.generators for t in g.ifs]
        return bool(tests) and all(
            isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.NotIn)
            and self._inspects(t.comparators[0]) for t in tests)

    def _items(self, node: ast.AST, env: Env, hops: int = 0) -> list[object] | None:
        """What a loop runs over, each item a string, a tuple of items, or None (a value that is not a
        string); None when the iterable is not made of constants."""
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [self._item(e, env) for e in node.elts]
        if isinstance(node, ast.Dict):
            return [self._item(k, env) if k is not None else None for k in node.keys]
        if isinstance(node, ast.Name) and node.id in self.unknown:
            return None
        if isinstance(node, ast.BinOp) and self._sequence(node):  # `TIMESTAMPS + ACTORS`: one after the other
            left, right = self._items(node.left, env, hops), self._items(node.right, env, hops)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.Name) and node.id in self.bindings and hops < 4 and (
                node.id not in env or self._sequence(self.bindings[node.id])):  # env holds `A + B` as strings joined
            return self._items(self.bindings[node.id], env, hops + 1)
        if isinstance(node, ast.Call) and not node.keywords:
            func = node.func
            inner = [self._items(a, env, hops) for a in node.args]
            if any(i is None for i in inner) and not isinstance(func, ast.Attribute):
                return strings_of(node, env)  # type: ignore[return-value]
            if isinstance(func, ast.Name) and len(inner) == 1:
                if func.id in ("list", "tuple", "set", "iter"):
                    return inner[0]
                if func.id == "reversed":
                    return list(reversed(inner[0]))  # type: ignore[arg-type]
                if func.id == "sorted" and all(isinstance(i, str) for i in inner[0]):  # type: ignore[union-attr]
                    return sorted(inner[0])  # type: ignore[arg-type, type-var]
                if func.id == "enumerate":
                    return [(None, i) for i in inner[0]]  # type: ignore[union-attr]
            if isinstance(func, ast.Name) and func.id == "zip" and inner:
                return [tuple(t) for t in zip(*inner)]  # type: ignore[arg-type]
            if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values") and not node.args:
                mapping = self._value_of(func.value)
                if isinstance(mapping, ast.Dict) and None not in mapping.keys:
                    pairs = [(self._item(k, env), self._item(v, env)) for k, v in zip(mapping.keys, mapping.values)]  # type: ignore[arg-type]
                    return [p if func.attr == "items" else p[0 if func.attr == "keys" else 1] for p in pairs]
        return strings_of(node, env)  # type: ignore[return-value]

    def _sequence(self, node: ast.AST, hops: int = 0) -> bool:
        """Whether `node` is lists or tuples added together (`A + B`, each a literal or a name bound to one)."""
        if isinstance(node, ast.Name) and node.id in self.bindings and hops < 4:
            node = self.bindings[node.id]
        if not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.Add):
            return False
        return all(isinstance(side, (ast.List, ast.Tuple)) or self._sequence(side, hops + 1)
                   or isinstance(side, ast.Name) and isinstance(self.bindings.get(side.id), (ast.List, ast.Tuple))
                   for side in (node.left, node.right))

    def _item(self, node: ast.AST, env: Env) -> object:
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self._item(e, env) for e in node.elts)
        values = strings_of(node, env) if not isinstance(node, ast.Call) else None
        return values[0] if values and len(values) == 1 else None

    def _call(self, call: ast.Call, env: Env, batch: dict[str, str], out: list[MigrationOp], depth: int) -> None:
        func = call.func
        if self._projects(call):
            handed = _batches_passed(call, batch)
            if self._follow(call, handed, out):
                return
            if handed:  # a helper given a batch that could not be read may add, alter or drop any of its columns
                table = next(iter(handed.values()))
                out.append(_unread(col.span_of(call, self.path), ast.unparse(call.func), f"a function of another module, "
                                   f"given the batch of `{table}`, that could not be followed", table))
                return
        if isinstance(func, ast.Name) and func.id in self.functions and depth < _MAX_INLINE_DEPTH:
            self._inline(self.functions[func.id], call, env, batch, out, depth)
            return
        if isinstance(func, ast.Name) and self.names.qualname(func).startswith("alembic.op."):
            op = self._op(func.id if func.id in _PARAMS else last(self.names.qualname(func)), call, env, None)
            if op is not None:  # from alembic.op import create_table; create_table("t", ...)
                out.append(op)
            return
        if not isinstance(func, ast.Attribute):
            return
        if func.attr in _TABLE_METHODS:
            out.extend(self._table_method(call, func, env))
            return
        owner = ast.unparse(func.value)
        table_of_batch = batch.get(owner)
        if func.attr in self.methods and owner != "op" and not table_of_batch and func.attr not in _PARAMS:
            op = self._own_method(call, func)
            if not any(o.name == "unread" and o.span == op.span for o in out):  # once, not once per item of a loop
                out.append(op)
            return
        if not (owner == "op" or self.names.qualname(func.value).endswith("alembic.op") or table_of_batch):
            if func.attr in ("execute", "exec_driver_sql") and call.args and self._is_sql(call.args[0], env):
                op = self._op("execute", call, env, None)  # conn.execute(text("ALTER TABLE ...")): as op.execute
                if op is not None:
                    out.append(op)
            elif func.attr == "execute" and call.args:  # conn.execute(t.update().values(...)): a construct that changes
                op = self._core(call.args[0], col.span_of(call, self.path), env)  # something (not a select: it reads)
                if op.name != "execute" or op.sql is not None and op.sql.statements[0].kind != "SelectStmt":
                    out.append(op)
            return
        op = self._op(func.attr, call, env, table_of_batch)
        if op is not None:
            out.append(op)

    def _helper_call(self, stmt: ast.stmt) -> tuple[Span, str] | None:
        """A statement that is a call of a function another module of the project defines (`agent_init_ops.upgrade()`,
        `migration.create_table_if_not_exists("t", ...)`), not Alembic's, SQLAlchemy's or the standard library's:
        when it could not be followed (_follow), no operation, but it may create or change tables. (its span, the call
        as written)"""
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not isinstance(call, ast.Call) or not self._projects(call):
            return None
        return col.span_of(call, self.path), ast.unparse(call.func)

    def _projects(self, call: ast.Call) -> bool:
        """Whether `call` calls a name imported from the project (not Alembic, SQLAlchemy, the standard library)."""
        root = call.func
        while isinstance(root, ast.Attribute):
            root = root.value
        imported = self.names.imports.get(root.id) if isinstance(root, ast.Name) else None
        return imported is not None and imported.split(".")[0] not in _NOT_THE_PROJECTS

    def _follow(self, call: ast.Call, batch: dict[str, str], out: list[MigrationOp]) -> bool:
        """Read the project's function a revision's statement calls (`dvr_init_ops.upgrade()`,
        `migration.create_table_if_not_exists("t", sa.Column(...))`, `add_audit_columns(batch_op)`) in its own module,
        its parameters replaced by what the call passes, and take its operations as the revision's own, placed at the
        call; `batch`: the caller's batches the call passes, still their tables' inside. False when it cannot be read
        so (not found, a cycle, too deep, arguments it cannot match): the call stays unread."""
        qualname = self.names.qualname(call.func)
        if self.follow is None or not qualname or qualname in self.following or len(self.following) >= _MAX_FOLLOW_DEPTH:
            return False
        helper = self.follow(qualname, self.names.module)
        body = _substituted(helper.func, call, self.path) if helper is not None else None
        if helper is None or body is None:
            return False
        saved = (self.names, self.path, self.functions, self.module_bindings, self.flow, self.func, self.flags, self.given,
                 self.methods, self.following, self.unknown, self.sources)
        self.names, self.path, self.functions = helper.names, helper.path, helper.functions
        self.module_bindings, self.methods = _assigned(helper.tree.body), _schema_methods(helper.tree, helper.names)
        self.flow, self.flags, self.given = Flow(helper.tree, helper.names, helper.env), {}, {}
        self.unknown, self.sources = {}, {}  # the caller's loop names are not the helper's
        self.following = (*self.following, qualname)
        func = copy.copy(helper.func)
        func.body = body
        self.func, outer_bindings = func, self.bindings
        self.bindings = {**self.module_bindings, **_assigned(body)}
        read: list[MigrationOp] = []
        try:
            self._body(body, constant_env(body, helper.env), batch, read, 0)
        finally:
            (self.names, self.path, self.functions, self.module_bindings, self.flow, self.func, self.flags, self.given,
             self.methods, self.following, self.unknown, self.sources) = saved
            self.bindings = outer_bindings
        self.followed.add(call)
        at = col.span_of(call, self.path)
        for op in read:
            op.span = at  # the revision does it, at its call
        out.extend(read)
        return True

    def _own_method(self, call: ast.Call, func: ast.Attribute) -> MigrationOp:
        """`rn.upgrade()` on an object of the migration's own class that calls op.*: not followed; only the
        tables its source names (the list a loop runs over, the constructor's arguments) may be concerned."""
        obj = func.value
        source = self.sources.get(obj.id, obj) if isinstance(obj, ast.Name) else obj
        op = _unread(col.span_of(call, self.path), ast.unparse(func),
                     f"a method of `{self.methods[func.attr]}`, a class of the migration that changes the schema through "
                     "its objects' state, which dbreview does not follow")
        op.text = ast.unparse(self._value_of(source))
        return op

    def _is_sql(self, node: ast.AST, env: Env) -> bool:
        """A string or text(...) (not a select() or a table's update()): SQL handed to a connection."""
        if not (isinstance(node, ast.Name) and node.id in env):
            node = self._value_of(node)
        return evaluate(node, env, self.names) is not None

    def _value_of(self, node: ast.AST) -> ast.AST:
        """What a name or a call of the migration's own helper stands for, as far as a few steps tell:
        the value last assigned to the name, the one expression the helper returns."""
        for _ in range(4):
            if isinstance(node, ast.Name) and node.id in self.bindings:
                node = self.bindings[node.id]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.functions:
                returns = [n.value for n in walk(self.functions[node.func.id]) if isinstance(n, ast.Return) and n.value]
                if len(returns) != 1:
                    break
                node = returns[0]
            else:
                break
        return node

    def _table_method(self, call: ast.Call, func: ast.Attribute, env: Env) -> list[MigrationOp]:
        """`sa.Table("t", meta, ...).create(bind)`, `table.drop(bind)`, `meta.create_all(bind)`: schema
        changes made with SQLAlchemy's own objects instead of op.*."""
        span = col.span_of(call, self.path)
        value = self._value_of(func.value)
        if func.attr in ("create_all", "drop_all"):
            tables = [v for v in self.bindings.values() if isinstance(v, ast.Call) and self._is_table(v)
                      and len(v.args) > 1 and ast.unparse(v.args[1]) == ast.unparse(func.value)
                      and not any(k.arg in ("autoload_with", "autoload") for k in v.keywords)]  # reflected: it exists
            if not tables and isinstance(value, ast.Call) and last(self.names.callee(value)) == "MetaData":
                return []  # a MetaData made here, with no table declared on it: there is nothing to create
            if not tables:
                what = "creates" if func.attr == "create_all" else "drops"
                return [_unread(span, f"{ast.unparse(func)}", f"{what} every table of `{ast.unparse(func.value)}`, "
                                "which is not defined in the migration")]
            kind = "create_table" if func.attr == "create_all" else "drop_table"
            return [op for t in tables for op in [self._table_op(kind, t, span, env)] if op is not None]
        if isinstance(value, ast.Call) and self._is_table(value):
            op = self._table_op("create_table" if func.attr == "create" else "drop_table", value, span, env)
            return [op] if op is not None else []
        if ast.unparse(func.value).endswith("__table__"):  # Model.__table__.create(bind): the model of today
            return [_unread(span, ast.unparse(func), f"{func.attr}s the table of `{ast.unparse(func.value)}`, a model "
                            "outside the migration (its columns then are not known)")]
        if isinstance(value, ast.Call) or func.attr not in ("create", "drop") or not _given_a_bind(call):
            return []  # an Enum's create(bind) and the like: types, not tables
        return [_unread(span, ast.unparse(func), f"{func.attr}s `{ast.unparse(func.value)}`, which could not be followed "
                        "(a table, or a type)")]

    def _is_table(self, call: ast.Call) -> bool:
        return last(self.names.callee(call)) == "Table" and bool(call.args)

    def _table_op(self, kind: str, table: ast.Call, span: Span, env: Env) -> MigrationOp | None:
        op = self._op("create_table", table, env, None)
        if op is None or op.name == "unread":
            return op
        op.span, op.name = span, kind
        if kind == "drop_table":
            op.columns, op.constraints, op.index, op.more_indexes = [], [], None, []
        return op

    def _inline(self, func: ast.FunctionDef, call: ast.Call, env: Env, batch: dict[str, str], out: list[MigrationOp], depth: int) -> None:
        """A helper of the migration (`enable_rls("patients")`): read its body with the arguments bound."""
        outer, self.func = self.func, func
        outer_flags, self.flags = self.flags, self._flags_given(func, call)
        outer_given, self.given = self.given, _given(func, call, self.given)
        try:
            self._body(func.body, _bound(func, call, env), batch, out, depth + 1)
        finally:
            self.func, self.flags, self.given = outer, outer_flags, outer_given

    def _flags_given(self, func: ast.FunctionDef, call: ast.Call) -> dict[str, bool]:
        """The helper's parameters this call sets to True or False (a constant, its default, or a name of the caller
        bound to one): one function written for both directions, `upgrade()` calling `run(True)` and `downgrade()`
        `run(False)`, replays only the branch its flag selects."""
        params = [a.arg for a in func.args.args]
        given = {**dict(zip(params[len(params) - len(func.args.defaults):], func.args.defaults)),
                 **dict(zip(params, call.args)), **{k.arg: k.value for k in call.keywords if k.arg}}
        flags = {}
        for name, node in given.items():
            if isinstance(node, ast.Name):
                node = self.bindings.get(node.id, node)
            if isinstance(node, ast.Constant) and isinstance(node.value, bool):
                flags[name] = node.value
        return flags

    def _flag(self, test: ast.expr) -> bool | None:
        """Whether `if flag:` or `if not flag:` takes its body, where the flag is a helper's parameter given a bool."""
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        name = test.operand if negated else test  # type: ignore[attr-defined]
        value = self.flags.get(name.id) if isinstance(name, ast.Name) else None
        return None if value is None else value != negated

    def _returned(self, node: ast.AST, env: Env) -> list | None:
        """The SQL a helper of the migration returns for these arguments: `op.execute(text(_policy_sql(t)))`
        with `def _policy_sql(table): return f"ALTER TABLE {table} ..."`."""
        if isinstance(node, ast.Call) and len(node.args) == 1 and last(self.names.callee(node)) == "text":
            node = node.args[0]
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.functions):
            return None
        func = self.functions[node.func.id]
        returns = [n.value for n in walk(func) if isinstance(n, ast.Return) and n.value is not None]
        return evaluate(returns[0], _bound(func, node, env), self.names) if len(returns) == 1 else None

    def _op(self, name: str, call: ast.Call, env: Env, batch_table: str | None) -> MigrationOp | None:
        name = _EXTENSION_OPS.get(name, name)
        if name in _NOT_OPERATIONS:
            return None  # op.get_bind() and friends: helpers, not changes to the schema
        span = col.span_of(call, self.path)
        args = self._spread(call.args)
        if args is None:
            return _unread(span, ast.unparse(call.func), "`*...` could not be followed: what it passes is not known")
        kw = {k: self.given.get(v.id, v) if isinstance(v, ast.Name) else v for k, v in kwargs(call).items()}
        params = _PARAMS.get(name, ())
        if batch_table:
            params = tuple(p for p in params if p not in ("table_name", "source_table"))
            if name in _ONE_POSITIONAL and len(args) > 1 and const_str(args[0]) == batch_table:
                return _unread(span, ast.unparse(call.func), f"`{ast.unparse(call)[:80]}` is given the batch's table "
                               "before the column: a batch operation takes the column only (the table is "
                               "batch_alter_table's), so Alembic raises TypeError here and the steps after it never run")
        for pname in params[len(args):]:  # op.alter_column(table_name="users", column_name="email", ...)
            if pname not in kw:
                break
            args.append(kw[pname])
        try:
            op = self._read_op(name, call, args, kw, env, batch_table, span)
        except Exception as exc:  # noqa: BLE001 - one odd call must not lose the revision, nor its other ops
            return _unread(span, ast.unparse(call.func), f"a call shaped unlike Alembic's ({type(exc).__name__}: {exc})")
        if op is not None and name != "execute":
            op.options = {k: ast.unparse(v) for k, v in kw.items()}
        if name == "alter_column" and op is not None and len(args) == 2 and set(kw) <= _ALTER_DESCRIBES \
                and all(k.arg for k in call.keywords) and _changes_nothing(op, args[1]):
            return op
        why = self._unfollowed(name, op, args, kw, env)
        if not why:
            return op
        # a rename from a name not known (a copy made under a generated name) to a known one concerns the known one
        table = op.table if op else None
        unread = _unread(span, ast.unparse(call.func), why, op.target if name == "rename_table" and op and not table else table)
        unread.options = op.options if op else {}  # what the call says of itself (type_="unique") beside what it cannot
        return unread

    def _spread(self, given: list[ast.expr]) -> list[ast.expr] | None:
        """The call's arguments with `*name` spread, where the name is bound to a list or tuple written in the
        revision (`op.create_table(*roles_args)`, or lists added together); None where one cannot be."""
        out: list[ast.expr] = []
        for arg in given:
            if not isinstance(arg, ast.Starred):
                out.append(arg)
                continue
            items = self._elements(arg.value)
            if items is None:
                return None
            out.extend(items)
        return out

    def _elements(self, node: ast.AST, hops: int = 0) -> list[ast.expr] | None:
        node = self._value_of(node)
        if isinstance(node, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred) for e in node.elts):
            return list(node.elts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and hops < 4:
            left, right = self._elements(node.left, hops + 1), self._elements(node.right, hops + 1)
            return None if left is None or right is None else left + right
        return None

    def _unfollowed(self, name: str, op: MigrationOp | None, args: list[ast.expr], kw: dict[str, ast.expr], env: Env) -> str | None:
        """Why the table, column or index an op changes is not known, when it is not: a name bound by a
        loop over something that is not constant, a value from a call or another module."""
        if op is None:
            return None
        if name in _NAMING and (len(args) <= max(_NAMING[name]) or (name == "add_column" and not op.columns)):
            return "a call shaped unlike Alembic's: an argument that names what it changes is missing"
        naming = [args[i] for i in _NAMING.get(name, ()) if i < len(args)]
        naming += [kw[k] for k in ("table_name", "new_column_name") if k in kw and name in _NAMING]
        for node in naming:
            if isinstance(node, ast.Call) and last(ast.unparse(node.func)) == "Column":
                return (f"`{ast.unparse(node)[:60]}` is a Column where Alembic wants the name: the call is malformed "
                        "and Alembic fails on it")
            if const_str(node) is None and not (strings_of(node, env) or []) and not _is_none(node):
                used = [n.id for n in walk(node) if isinstance(n, ast.Name) and n.id in self.unknown]
                return f"`{ast.unparse(node)}` could not be followed" + (f": {self.unknown[used[0]]}" if used else "")
        if any(not c.name for c in op.columns):
            return "a column's name could not be followed"
        return None

    def _read_op(
        self, name: str, call: ast.Call, args: list[ast.expr], kw: dict[str, ast.expr], env: Env,
        batch_table: str | None, span: Span,
    ) -> MigrationOp | None:

        def text(node: ast.AST | None) -> str | None:
            if node is None:
                return None
            values = strings_of(node, env)
            return values[0] if values else const_str(node)

        if batch_table and name in _NAMING:  # batch_op.add_column(Column(...)): the table is the batch's
            table_node = ast.copy_location(ast.Constant(batch_table), call)
            if name == "drop_index":
                kw.setdefault("table_name", table_node)
            else:
                position = 1 if name in _TABLE_SECOND else 0
                args.insert(min(position, len(args)), table_node)
        if name == "execute" and args:
            return self._execute(call, args[0], env, span)
        if name == "create_table" and args:
            table = text(args[0])
            op = MigrationOp(name, table, span)
            for arg in args[1:]:
                arg = self._value_of(arg) if isinstance(arg, ast.Name) else arg  # `message = sa.Column(...)`, then given
                if isinstance(arg, ast.Call) and col.is_column_call(arg, self.names):
                    op.columns.append(self._column(arg, table, env))
                elif isinstance(arg, ast.Call):
                    item = col.read_table_item(arg, self.names, self.path, table)
                    if isinstance(item, IndexFact) and op.index is None:
                        op.index = item
                    elif isinstance(item, IndexFact):
                        op.more_indexes.append(item)
                    elif item is not None:
                        op.constraints.append(item)
                    else:
                        op.unread_items += 1
                else:
                    op.unread_items += 1  # a name bound elsewhere, a value: it may be a column or a key
            return op
        column = self._value_of(args[1]) if name == "add_column" and len(args) >= 2 else None
        if isinstance(column, ast.Call):  # `col = sa.Column(...)` then `op.add_column("t", col)`: the Column bound
            table = text(args[0])
            return MigrationOp(name, table, span, columns=[self._column(column, table, env)])
        if name in ("drop_column", "drop_table", "drop_index", "drop_constraint", "rename_table", "alter_column"):
            table = text(args[0]) if name != "drop_index" else text(kw.get("table_name")) or (text(args[1]) if len(args) > 1 else None)
            target = text(args[1]) if len(args) > 1 and name != "drop_index" else text(args[0]) if args else None
            if name == "drop_constraint":
                table, target = (text(args[1]) if len(args) > 1 else text(kw.get("table_name"))), text(args[0]) if args else None
            op = MigrationOp(name, table, span, target=target)
            if name == "alter_column":
                op.columns.append(self._altered(call, kw, target or "", table, env))
            return op
        if name == "create_index" and len(args) >= 2:
            table = text(args[1])
            cols = tuple(strings_of(args[2], env) or []) if len(args) > 2 else ()
            where = kw.get("postgresql_where")
            return MigrationOp(
                name,
                table,
                span,
                index=IndexFact(
                    text(args[0]),
                    table,
                    cols,
                    const_bool(kw.get("unique")) or False,
                    None if where is None else (text(where) or _text_arg(where) or ast.unparse(where)),
                    text(kw.get("postgresql_using")),
                    span,
                    literals=col.function_literals(args[2:3], self.names),
                ),
            )
        if name in ("create_unique_constraint", "create_check_constraint", "create_foreign_key", "create_primary_key"):
            return self._constraint(name, call, args, kw, span, env)
        return MigrationOp(name, text(args[0]) if args else None, span)

    def _constraint(self, name: str, call: ast.Call, args: list[ast.expr], kw: dict[str, ast.expr], span: Span, env: Env) -> MigrationOp:
        from analyzers.facts.model import ConstraintFact

        def strs(node: ast.AST | None) -> tuple[str, ...]:
            return tuple(strings_of(node, env) or []) if node is not None else ()

        cname = (strings_of(args[0], env) or [None])[0] if args else None  # a literal, or a constant of the module
        table = (strings_of(args[1], env) or [None])[0] if len(args) > 1 else None
        if name == "create_foreign_key":
            local = strs(args[3]) if len(args) > 3 else strs(kw.get("local_cols"))
            referent = (strings_of(args[2], env) or [""])[0] if len(args) > 2 else ""
            remote = strs(args[4]) if len(args) > 4 else strs(kw.get("remote_cols"))
            c = ConstraintFact("foreign_key", cname, local, None, span, const_str(kw.get("ondelete")), f"{referent}.{remote[0] if remote else 'id'}",
                               const_str(kw.get("onupdate")), col.actions_unread(call))
        elif name == "create_check_constraint":
            expr = args[2] if len(args) > 2 else kw.get("condition")
            c = ConstraintFact("check", cname, (), const_str(expr) or (ast.unparse(expr) if expr else None), span)
        else:
            kind = "unique" if name == "create_unique_constraint" else "primary_key"
            c = ConstraintFact(kind, cname, strs(args[2]) if len(args) > 2 else strs(kw.get("columns")), None, span)
        return MigrationOp(name, table, span, constraints=[c])

    def _execute(self, call: ast.Call, arg: ast.AST, env: Env, span: Span) -> MigrationOp | None:
        from analyzers.facts.python_module import param_names, sql_use

        if isinstance(arg, ast.Call) and len(arg.args) == 1 and not arg.keywords and last(self.names.callee(arg)) == "DDL":
            arg = arg.args[0]  # sa.DDL("UPDATE ..."): the construct only carries its SQL string
        while isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr in _BINDS:
            arg = arg.func.value  # text("... :role_id").params(role_id=...): the SQL is the text's
        texts = evaluate(arg, env, self.names)
        if texts is None and isinstance(arg, ast.Name) and arg.id in self.bindings:
            texts = evaluate(self.bindings[arg.id], env, self.names)  # `sql = f"... {x}"` then op.execute(sql)
        if texts is None:
            texts = self._returned(arg, env)
        if texts is None:
            return self._core(arg, span, env)
        if not texts:
            return MigrationOp("execute", None, span)
        use = sql_use(texts[0].value, texts[0].formatted, False, call, _literal(arg, self.names), self.path, None)
        use.params = param_names(call)
        for extra in texts[1:]:
            more = sql_use(extra.value, extra.formatted, False, call, _literal(arg, self.names), self.path, None)
            use.statements.extend(more.statements)
        if use.formatted and self.flow is not None and use.text:
            use.holes = self.flow.holes(arg, self.func, use.text)
        return MigrationOp("execute", use.statements[0].table if use.statements else None, span, sql=use)

    def _core(self, arg: ast.AST, span: Span, env: Env) -> MigrationOp:
        """op.execute of a SQLAlchemy construct: `t.update().where(...).values(...)` changes rows,
        `CreateSequence(...)` an object that is no table, `CreateTable(t)` a table; anything else is SQL
        that could not be read."""
        node = self._value_of(arg)
        while isinstance(node, ast.Call):
            name = last(self.names.callee(node)) or (node.func.attr if isinstance(node.func, ast.Attribute) else "")
            kind = _CORE_DML.get(name)
            if kind or name in _CORE_DDL:
                text = ast.unparse(arg)
                statement = SqlStatement(kind or name, None, span, text)
                return MigrationOp("execute", None, span, sql=SqlUse(span, text, False, False, [statement]))
            if name in ("CreateTable", "DropTable") and node.args:
                table = self._value_of(node.args[0])
                if isinstance(table, ast.Call) and self._is_table(table):
                    op = self._table_op("create_table" if name == "CreateTable" else "drop_table", table, span, env)
                    if op is not None:
                        return op
                break
            node = node.func.value if isinstance(node.func, ast.Attribute) else None  # up the method chain
        named = isinstance(arg, ast.Call) and arg.args and all(strings_of(a, env) for a in arg.args)
        # `op.execute(enable_rls("documents"))`: a helper given only names: only the tables it names are concerned
        return MigrationOp("execute", None, span, text=ast.unparse(arg) if named else None)

    def _column(self, call: ast.Call, table: str | None, env: Env) -> ColumnFact:
        if call.args and const_str(call.args[0]) is None and isinstance(call.args[0], (ast.JoinedStr, ast.Name, ast.BinOp)):
            name = strings_of(call.args[0], env)  # sa.Column(f"{col}_new", ...) in a loop over constants
            if name and len(name) == 1:
                call = ast.Call(call.func, [ast.copy_location(ast.Constant(name[0]), call.args[0]), *call.args[1:]], call.keywords)
                ast.copy_location(call, call.args[0])
                call.end_lineno = getattr(call.args[-1], "end_lineno", call.lineno)
        return col.read_column(call, "", None, self.names, self.path, table or "")

    def _altered(self, call: ast.Call, kw: dict[str, ast.expr], column: str, table: str | None, env: Env) -> ColumnFact:
        new_name = (strings_of(kw["new_column_name"], env) or [None])[0] if "new_column_name" in kw else None
        typ = col.read_type(kw["type_"], self.names) if "type_" in kw else None
        given = kw["type_"].func if "type_" in kw and isinstance(kw["type_"], ast.Call) else kw.get("type_")
        return ColumnFact(
            name=column, attr=new_name or column, type_name=typ[0] if typ else None, type_args=typ[1] if typ else {},
            nullable=const_bool(kw.get("nullable")), implied_nullable=True, primary_key=False, unique=False,
            index=False, default=None, server_default=None if "server_default" not in kw else ast.unparse(kw["server_default"]),
            onupdate=None, foreign_keys=[], span=col.span_of(call, self.path), declared_in=table or "",
            type_ref=col.type_qualname(given, self.names) if given is not None else None,
        )


class _Grafted(ast.NodeTransformer):
    """A function's body with its parameters replaced by what one call passes: `*args` spliced into the calls
    that pass it on (`op.create_table(name, *args, **kwargs)`), as are `**kwargs`."""

    def __init__(self, given: dict[str, ast.expr], star: tuple[str, list[ast.expr]] | None,
                 stars: tuple[str, list[ast.keyword]] | None) -> None:
        self.given, self.star, self.stars = given, star, stars

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.given:
            return self.given[node.id]
        if isinstance(node.ctx, ast.Load) and self.star and node.id == self.star[0]:
            return ast.Tuple(self.star[1], ast.Load(), lineno=node.lineno)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if self.star:
            node.args = [a for arg in node.args for a in (
                self.star[1] if isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Tuple)
                and arg.value.elts is self.star[1] else [arg])]
        if self.stars:
            node.keywords = [k for kw in node.keywords for k in (
                self.stars[1] if kw.arg is None and isinstance(kw.value, ast.Name) and kw.value.id == self.stars[0] else [kw])]
        return node


def _substituted(func: ast.FunctionDef, call: ast.Call, caller: str) -> list[ast.stmt] | None:
    """`func`'s body as `call` runs it (_Grafted), the call's arguments keeping their own file (`caller`) for the
    spans of what they declare; None when they cannot be matched to its parameters (the call's own `*x` or `**x`,
    keyword-only or positional-only parameters, too many arguments for a function without `*args`)."""
    a = func.args
    params = [p.arg for p in a.args]
    if a.posonlyargs or a.kwonlyargs or any(isinstance(x, ast.Starred) for x in call.args) \
            or any(k.arg is None for k in call.keywords) or (len(call.args) > len(params) and a.vararg is None):
        return None
    assigned = {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    passed = [_graft(x, caller) for x in call.args]
    given = {**dict(zip(params[len(params) - len(a.defaults):], a.defaults)), **dict(zip(params, passed))}
    extra = []
    for k in call.keywords:
        if k.arg in params:
            given[k.arg] = _graft(k.value, caller)
        elif a.kwarg is not None:
            extra.append(ast.keyword(k.arg, _graft(k.value, caller)))
        else:
            return None
    if assigned & ({*params, a.vararg.arg if a.vararg else "", a.kwarg.arg if a.kwarg else ""} - {""}):
        return None  # a parameter given a new value in the body: not one expression throughout
    star = (a.vararg.arg, passed[len(params):]) if a.vararg else None
    stars = (a.kwarg.arg, extra) if a.kwarg else None
    grafted = _Grafted(given, star, stars)
    body = [grafted.visit(copy.deepcopy(stmt)) for stmt in func.body]
    return [ast.fix_missing_locations(stmt) for stmt in body]


def _pinned(test: ast.expr, env: Env) -> Env:
    """The names an `if`'s body knows: `if name == "states":` in a loop over tables it could not read (a MetaData's
    `.tables.items()`) picks the one its body changes."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        for name, value in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
            if isinstance(name, ast.Name) and (pinned := const_str(value)) is not None:
                return {**env, name.id: [pinned]}
    return env


def _batches_passed(call: ast.Call, batch: dict[str, str]) -> dict[str, str]:
    """The caller's batch_alter_table objects (name -> table) that `call` passes to the function it calls."""
    passed = {n.id for arg in [*call.args, *(k.value for k in call.keywords)] for n in ast.walk(arg) if isinstance(n, ast.Name)}
    return {name: table for name, table in batch.items() if name in passed}


def _graft(node: ast.expr, path: str) -> ast.expr:
    """A copy of a caller's argument that keeps the caller's file: spans of what it declares point there."""
    node = copy.deepcopy(node)
    for n in ast.walk(node):
        n.path = path  # type: ignore[attr-defined]
    return node


def _bound(func: ast.FunctionDef, call: ast.Call, env: Env) -> Env:
    """The names a helper sees when called so: its arguments that are constants, then its own constants."""
    inner = dict(env)
    for name, arg in zip([a.arg for a in func.args.args], call.args):
        values = strings_of(arg, env)
        if values is not None:
            inner[name] = values
    for kw in call.keywords:
        values = strings_of(kw.value, env) if kw.arg else None
        if kw.arg and values is not None:
            inner[kw.arg] = values
    return constant_env(func.body, inner)


def _given(func: ast.FunctionDef, call: ast.Call, outer: dict[str, ast.expr]) -> dict[str, ast.expr]:
    """The expressions a helper's parameters are given by this call (a name of an enclosing helper's parameter
    standing for what that helper was given), so `op.alter_column(table, column, type_=type_)` in the helper reads
    the type its caller wrote."""
    given = {**dict(zip([a.arg for a in func.args.args], call.args)), **{k.arg: k.value for k in call.keywords if k.arg}}
    return {name: outer.get(node.id, node) if isinstance(node, ast.Name) else node for name, node in given.items()}


def _given_a_bind(call: ast.Call) -> bool:
    """`x.create(op.get_bind())`, `x.drop(bind=conn)`: SQLAlchemy's create/drop of a schema object."""
    args = [*call.args, *(k.value for k in call.keywords if k.arg == "bind")]
    return len(args) >= 1 and any(w in ast.unparse(args[0]).lower() for w in ("bind", "conn", "engine"))


def _changes_nothing(op: MigrationOp, named: ast.expr) -> bool:
    """Whether an alter_column given no change keyword (nullable=, type_=, server_default=, new_column_name=,
    comment=) names its table and column: then Alembic emits nothing for it, and `op.reason` says why. Given
    `sa.Column("done", ..., nullable=False)` where Alembic wants the name, it reads none of the Column's
    settings (only a change keyword beside it makes Alembic fail on the Column)."""
    column = named.args[0] if isinstance(named, ast.Call) and last(ast.unparse(named.func)) == "Column" and named.args else None
    if not op.table or (const_str(column) if column is not None else op.target) is None:
        return False  # which table or column is not known: left to the unread note
    if column is not None:
        op.target, op.columns = const_str(column), []
        op.reason = f"given `{ast.unparse(named)[:120]}` where Alembic wants the column's name, and no change keyword"
    else:
        op.reason = "given no change keyword"
    return True


# Where a migration's calls go that change no table of the project's: Alembic, SQLAlchemy, the standard library.
_NOT_THE_PROJECTS = frozenset((*_LIBRARIES, *sys.stdlib_module_names))


def _unread(span: Span, call: str, reason: str, table: str | None = None) -> MigrationOp:
    return MigrationOp("unread", table, span, target=call, reason=reason)


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _assigned(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """Names bound by plain assignments in `body`: what a loop or a `.create(bind)` may refer to."""
    out: dict[str, ast.AST] = {}
    for n in body:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            out[n.targets[0].id] = n.value
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.value is not None:
            out[n.target.id] = n.value
    return out


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for elt in target.elts for name in _target_names(elt)]
    return []


def _bind(target: ast.AST, item: object):
    """(name, value) for each name a loop target binds to one item: `for name, type_ in PAIRS`."""
    if isinstance(target, ast.Name):
        yield target.id, item
    elif isinstance(target, (ast.Tuple, ast.List)):
        parts = item if isinstance(item, tuple) and len(item) == len(target.elts) else (None,) * len(target.elts)
        for elt, part in zip(target.elts, parts):
            yield from _bind(elt, part)


def _text_arg(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and node.args:
        return const_str(node.args[0])
    return None


# What a text() is given its values by, or run with: the statement stays the text's.
_BINDS = ("params", "bindparams", "execution_options", "columns")


def _literal(arg: ast.AST, names: Names) -> ast.AST:
    """The string literal node inside op.execute(...) (through text(...)), for statement lines."""
    if isinstance(arg, ast.Call) and last(names.callee(arg)) == "text" and arg.args:
        return arg.args[0]
    return arg
