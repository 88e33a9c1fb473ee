"""The schema model of a target, as read statically: what the rules reason about.

Every fact carries the span it was read from, so every finding can point at exact lines.
Per-module facts are plain picklable values (they cross process boundaries and sit in the cache).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzers import confine
from analyzers.settings import Settings

if TYPE_CHECKING:
    from analyzers.facts.alembic_env import AlembicEnv
    from analyzers.facts.imports import ImportFacts
    from analyzers.facts.usage import Usage


@dataclass(frozen=True, slots=True)
class Span:
    path: str
    start: int
    end: int


@dataclass(slots=True)
class ForeignKeyRef:
    target: str  # "table.column" as written (may be "Model.attr")
    ondelete: str | None
    onupdate: str | None
    span: Span
    actions_unread: bool = False  # ondelete=/onupdate= written as a name or **options: the actions are not known

    @property
    def table(self) -> str:
        return self.target.rsplit(".", 1)[0] if "." in self.target else self.target


@dataclass(slots=True)
class ColumnFact:
    name: str  # the database column name
    attr: str  # the Python attribute
    type_name: str | None  # last segment of the SQL type: DateTime, UUID, JSONB, INET, Float ...
    type_args: dict[str, str]  # keyword arguments of the type, as source text
    nullable: bool | None  # explicit nullable=..., None when not written
    implied_nullable: bool  # what SQLAlchemy will make of it when nullable is not written
    primary_key: bool
    unique: bool
    index: bool
    default: str | None  # Python-side default, source text
    server_default: str | None
    onupdate: str | None
    foreign_keys: list[ForeignKeyRef]
    span: Span
    declared_in: str  # the class (model or mixin) that declares it
    autoincrement: str | None = None
    py_type: str | None = None  # the Python type of its annotation: datetime, str, list, dict ...
    # The qualified name of a type that is not SQLAlchemy's own (a TypeDecorator, an Annotated alias, an
    # enum, a library's type), resolved across modules when the target is linked.
    type_ref: str | None = None
    from_library: str | None = None  # declared by a library's mixin (analyzers/facts/stubs): version-dependent
    default_span: Span | None = None  # the migration step that last set its server default, where not its creation
    type_span: Span | None = None  # the migration step that last changed its type, where not its creation
    # index=/unique= given as an expression dbreview does not evaluate (`index=not cls.__email_unique__` in a
    # mixin's declared_attr): each class may set it otherwise, so whether the column is indexed is not known
    keys_unread: str | None = None

    @property
    def typed_at(self) -> Span:
        """Where the column got the type it has: its creation, or the step that last changed it."""
        return self.type_span or self.span

    @property
    def is_nullable(self) -> bool:
        return self.nullable if self.nullable is not None else self.implied_nullable

    @property
    def timezone(self) -> bool | None:
        """For a DateTime (or a TypeDecorator whose impl is one): is it timezone-aware? None when not a
        datetime type, or a type dbreview could not resolve."""
        if "unresolved" in self.type_args:
            return None
        if self.type_args.get("impl", self.type_name) in ("DateTime", "TIMESTAMP", "DATETIME"):
            return self.type_args.get("timezone", "False") == "True"
        return None


@dataclass(slots=True)
class IndexFact:
    name: str | None
    table: str | None
    columns: tuple[str, ...]
    unique: bool
    where: str | None
    using: str | None
    span: Span
    where_python: bool = False  # the predicate is a Python expression (`col is None`), evaluated to a bool
    # strings given to a SQL function among its elements (`func.md5("value::text")`): SQLAlchemy binds them as values
    literals: tuple[str, ...] = ()


@dataclass(slots=True)
class ConstraintFact:
    kind: str  # unique | check | foreign_key | primary_key
    name: str | None
    columns: tuple[str, ...]
    expression: str | None
    span: Span
    ondelete: str | None = None
    target: str | None = None  # for a foreign key: "table.column"
    onupdate: str | None = None
    actions_unread: bool = False  # a foreign key's ondelete=/onupdate= written as a name or **options
    # The name PostgreSQL gave it when a migration created it unnamed (study_tags_study_id_tag_id_key): it keeps that
    # name when the table or its columns are renamed, and a later migration drops it by it.
    born_as: str | None = field(default=None, compare=False)
    also_named: tuple[str, ...] = field(default=(), compare=False)  # what a MetaData naming_convention calls it
    literals: tuple[str, ...] = ()  # a CHECK's strings given to a SQL function, as IndexFact.literals


@dataclass(slots=True)
class RelationshipFact:
    attr: str
    target: str | None
    uselist: bool | None
    cascade: str | None
    back_populates: str | None
    lazy: str | None
    secondary: str | None
    span: Span
    narrowed: bool = False  # primaryjoin=, order_by= or viewonly=: it picks its own rows (the latest one ...)
    backref: bool = False  # backref=: SQLAlchemy adds the reverse relationship to the target class
    remote_side: str | None = None  # remote_side=, as source text
    keys: str | None = None  # foreign_keys= and primaryjoin=, as source text: which columns it joins on
    join: str | None = None  # primaryjoin=, as source text: what else the rows it loads must match


@dataclass(slots=True)
class ClassFact:
    """A class in a model module, before inheritance is resolved."""

    name: str
    module: str
    path: str
    span: Span
    bases: tuple[str, ...]  # qualified as far as the module's imports tell
    tablename: str | None
    table_args: list[IndexFact | ConstraintFact]
    columns: list[ColumnFact]
    relationships: list[RelationshipFact]
    abstract: bool = False
    sqlmodel_table: bool = False
    is_base: bool = False  # a declarative base (subclass of DeclarativeBase etc.)
    # type_annotation_map: a Python type's qualified name -> the SQL type (name, arguments, qualified name
    # when not SQLAlchemy's own) that annotated columns of it get
    type_map: dict[str, tuple[str, dict[str, str], str | None]] = field(default_factory=dict)
    tablename_rule: str | None = None  # a declared_attr __tablename__ derives names: "lower" or "snake"
    named_by: tuple[str, str] | None = None  # `__tablename__ = prefixed("users")`: as TableFact.named_by
    # `__tablename__ = WORKFLOWS_TABLE` imported from another module: its qualified name, whose string link.py settles
    tablename_from: str | None = None
    cleared: list[str] = field(default_factory=list)  # `id = None`: an inherited column taken away
    validated: list[str] = field(default_factory=list)  # attributes with a @validates(...) hook
    polymorphic_on: str | None = None  # __mapper_args__ = {"polymorphic_on": type}
    # __mapper_args__ = {"primary_key": [...]}: the attributes it names ("?": one dbreview cannot name); None: not given
    mapper_primary_key: tuple[str, ...] | None = None
    hashes_passwords: bool = False  # a method calls bcrypt/argon2/passlib/hash_password... (not a bare digest)
    versioned: bool = False  # `__versioned__ = {}`: SQLAlchemy-Continuum keeps a history table of it
    # attributes whose every assignment goes through a setter that hashes (`@password.setter`,
    # `password = synonym("_password", descriptor=property(get, set))`), and the columns behind them
    hashed_on_set: list[str] = field(default_factory=list)
    fast_digest: str = ""  # its password hashing is only a fast digest of hashlib's (`sha256`): named here
    # fields a validator of the class hashes (pydantic's `@field_validator("password")` returning hash_password(v))
    hashed_fields: list[str] = field(default_factory=list)
    schema: str | None = None  # __table_args__ = {"schema": "events"}
    schema_expr: str | None = None  # `{"schema": Schemas.LEGACY}`: a name dbreview resolves at link (ClassIndex.table_of)
    impl: tuple[str, dict[str, str]] | None = None  # a TypeDecorator's `impl = DateTime`: (type, its arguments)
    dialect_impl: bool = False  # it defines load_dialect_impl: the stored type depends on the database
    engine_hook: bool = False  # a Flask-SQLAlchemy subclass that sets engine options in code (apply_pool_defaults)
    mapped_by: str | None = None  # `@reg.mapped` / `@reg.mapped_as_dataclass`: the registry object, qualified
    # __mapper_cls__, __declare_first__, __declare_last__, __table_cls__ whose code adds columns or properties as the class
    # is mapped (append_column, add_property: a history mixin's `version`), which dbreview does not see: its name
    mapping_hook: str | None = None
    # attributes set by a call of a function of the target (`type = varchar_enum(Kind)`): (the attribute, then as
    # TableFact.helper_calls); ClassIndex reads those whose function returns one column as that column
    helper_calls: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[str, str], ...], Span], ...] = ()
    unread_attrs: list[str] = field(default_factory=list)  # declared_attrs whose returned value dbreview does not read
    # a declared_attr __table_args__ that folds in class attributes (`return cls._table_args + (...)`): their names
    args_from: tuple[str, ...] = ()
    # tuple attributes of the class that hold Index/constraint items (`_table_args = (PrimaryKeyConstraint(...), ...)`)
    named_args: dict[str, list[IndexFact | ConstraintFact]] = field(default_factory=dict)
    # mapped to a database view, not a table (`__table__ = some_view.table`, `info={"is_view": True}`): how it says so
    view: str | None = None


@dataclass(slots=True)
class TableFact:
    name: str
    class_name: str | None
    path: str
    span: Span
    columns: dict[str, ColumnFact] = field(default_factory=dict)
    indexes: list[IndexFact] = field(default_factory=list)
    constraints: list[ConstraintFact] = field(default_factory=list)
    relationships: list[RelationshipFact] = field(default_factory=list)
    mixins: tuple[str, ...] = ()
    from_sql: bool = False  # created by CREATE TABLE in op.execute: its columns are known by name only
    partition_of: str | None = None  # CREATE TABLE ... PARTITION OF: the partitioned table (dropped with it)
    # Base classes dbreview could not read (a library's mixin, a name it could not follow): the table may
    # have columns the facts do not show.
    unknown_bases: tuple[str, ...] = ()
    # Table(...) arguments that call a function of the target (`_user_id_column("fk_name")`): (its name as
    # called, qualified, the call's arguments as written, keyword arguments, where), filled in at link
    helper_calls: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], Span], ...] = ()
    schema: str | None = None  # the PostgreSQL schema it names, if any
    schema_unsure: str | None = None  # named by an expression dbreview could not resolve (`Schemas.LEGACY`): as written
    metadata: str | None = None  # a Table(...): its MetaData argument, qualified
    database: str | None = None  # not the application's PostgreSQL: why (`imports clickhouse_connect`)
    registry: str | None = None  # the MetaData it is on, as classes.ClassIndex.metadata_of names it; None: not known
    # Named by a call of the project's (`Table(get_prefixed_tablename("roles"), ...)`): (the function, qualified, and
    # its argument) until link.py works the name out (analyzers/facts/table_names.py); where it cannot, the name is the
    # argument and `name_unsure` says why: the rules that need the exact name hold back.
    named_by: tuple[str, str] | None = None
    name_unsure: str | None = None
    view: str | None = None  # a view the ORM maps, not a table: how dbreview knows (ClassFact.view)
    # A Core table a class holds as an attribute (`class Model: builds = sa.Table(...)`): the class. Its queries go
    # through instances (`self.db.model.builds`), which dbreview does not follow.
    holder: str | None = None
    mapper_primary_key: tuple[str, ...] | None = None  # as ClassFact.mapper_primary_key, of the class or a mixin
    # attributes of the class or its mixins that may hold a column dbreview cannot read (a call of the target's function
    # it does not follow to one Column, a declared_attr returning what it does not read): a column of that name may be mapped
    unread_attrs: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def column(self, name: str) -> ColumnFact | None:
        return self.columns.get(name)

    @property
    def label(self) -> str:
        return f"{self.class_name} ({self.name})" if self.class_name else self.name


@dataclass(slots=True)
class SqlStatement:
    """One statement of SQL found in Python source, parsed with pglast."""

    kind: str  # enable_rls force_rls disable_rls create_policy drop_policy create_trigger create_function
    # grant revoke create_index create_view set set_local reset_all discard_all rollback select_set_config other
    table: str | None
    span: Span
    text: str
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hole:
    """One value spliced into SQL text (analyzers/facts/flow.py): what it is in the statement and where
    it comes from, as far as its function and module tell."""

    expr: str  # the expression as written: `tenant_id`, `request.headers["x-tenant"]`
    role: str  # identifier | value | sql (a fragment of a statement, or a place we cannot name)
    source: str  # request | unknown | object | stored | configuration | constant | enum | number | typed | validated | quoted
    why: str  # how it was followed, for a message: "`sort` is a query parameter of the route `search`"
    line: int
    password: bool = False  # it sits after PASSWORD in the statement (CREATE ROLE ... PASSWORD '{pw}')
    trail: tuple[int, ...] = ()  # the lines it was followed through (assignments, parameters, calls), in order
    # Functions of other modules it passes through, when it is safe on every path if they quote what they
    # return (`identifier(name)` imported from where it is defined): the rule reads them (ModuleFacts.quoting);
    # `pkg.Role.*`: a member of another module's class, safe if that class is an enum; `[timeout]`: a number by
    # default read under a dict key (`ctx.get("timeout", 60)`), safe if the project writes only numbers under it;
    # `pkg.Sort:col`: the attribute `col` of a parameter annotated `Sort`, safe if Sort declares it an enum or a
    # Literal (`pkg.Sort:`: the parameter itself, safe if Sort is an enum); `<row>:project_id`: that column of the row
    # a mapper event flushes, safe if every table's column of that name is an integer or a UUID.
    via: tuple[str, ...] = ()


@dataclass(slots=True)
class SqlUse:
    """A call that sends SQL: session.execute(text(...)), conn.exec_driver_sql(...), op.execute(...)."""

    span: Span
    text: str | None  # the literal SQL, with {placeholders} where it was formatted
    formatted: bool  # built with an f-string, % or .format: values spliced into SQL
    bound_params: bool  # passes parameters separately
    statements: list[SqlStatement] = field(default_factory=list)
    function: str | None = None
    # Sent on a connection its function opens itself (`with engine.connect() as conn:`) and never commits
    # (no commit(), no begin() block, no AUTOCOMMIT): the rollback when it is returned undoes a SET.
    rolled_back: bool = False
    holes: tuple[Hole, ...] = ()  # when formatted: each value spliced in, followed to its source
    # Sent with `await x.execute(...)` (an async session or connection), or without (a synchronous one);
    # None when only the text() is seen, not the call that sends it.
    awaited: bool | None = None
    # The names of the parameters passed with it (`{"user_id": ...}`, `dict(user_id=...)`, keywords); None when
    # they cannot be read (a variable, none passed): a name of SQL without its colon is checked against them.
    params: tuple[str, ...] | None = None
    # A text() bound to a local name its function never reads (the line that ran it commented out): built, not sent.
    unsent: bool = False


@dataclass(slots=True)
class CallFact:
    """A call of interest: create_engine, sessionmaker, session.delete ..."""

    name: str  # qualified as far as known: sqlalchemy.ext.asyncio.create_async_engine
    span: Span
    kwargs: dict[str, str]
    target: str | None = None  # what it is assigned to
    function: str | None = None
    # An engine or session factory: how long what it makes lives (module, cached, fallback, returned, stored,
    # passed, local: python_module._lifetime); the parameters of the function it is made in (name -> default's
    # source, None without one) and its positional arguments, so that an engine made by the app's own
    # factory is seen with what each caller passes (`origin`: the factory's own call). When linked: `factory`,
    # that function's qualified name; `via`, the app's own function it calls instead of SQLAlchemy's;
    # `database`, why it is not the application's PostgreSQL.
    scope: str | None = None
    via: str | None = None
    database: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    factory: str | None = None
    origin: CallFact | None = None  # an engine seen where the app's factory is called: the factory's own call
    handed: tuple[tuple[str, str], ...] = ()  # an engine handed on: the calls given it (callee, position or keyword)


@dataclass(slots=True)
class ListenerFact:
    target: str  # source text of the event target: engine.sync_engine, Session, AsyncSessionLocal.sync_session_class
    event: str  # after_begin, checkin, connect, begin, reset ...
    function: str
    span: Span  # the function
    sql: list[SqlUse] = field(default_factory=list)
    does_nothing: bool = False  # its body is only `pass`, `...`, a docstring or a bare return
    hashes: bool = False  # its body hashes passwords (bcrypt, passlib, `target.hash_password()` ...)
    # It uses the DBAPI connection (its first argument: `dbapi_connection.cursor()`, `.rollback()`) or the
    # record's (`invalidate()`, `.dbapi_connection`), or sends SQL: a counter that only logs does not.
    touches_connection: bool = True


@dataclass(frozen=True, slots=True)
class Unread:
    """A part of the target that could not be read: a file, a revision's place in the graph, an operation
    of a migration, SQL. A finding about the whole (the revision graph, "no migration creates X") says
    so, and is lowered, when it may rest on one."""

    kind: str  # file | revision | op | sql | history (a table two Alembic trees create: link.unsettled) | name (a table named in part)
    span: Span
    reason: str
    table: str | None = None  # the one table it concerns, when known
    text: str | None = None  # with no table: the source as written, when only a table it names can be concerned

    def concerns(self, table: str) -> bool:
        if self.table is not None:
            return self.table == table
        return self.text is None or table in self.text

    def may_make(self, table: str) -> bool:
        """An operation not followed whose source names `table` as a word (a list of renames the
        migration's own class applies): it may create, rename or reshape that table."""
        return self.kind == "op" and self.table is None and self.text is not None and bool(
            re.search(rf"(?<!\w){re.escape(table)}(?!\w)", self.text))


@dataclass(slots=True)
class MigrationOp:
    name: str  # create_table add_column drop_column create_index execute create_foreign_key ... unread
    table: str | None
    span: Span
    columns: list[ColumnFact] = field(default_factory=list)
    constraints: list[ConstraintFact] = field(default_factory=list)
    index: IndexFact | None = None
    more_indexes: list[IndexFact] = field(default_factory=list)  # a create_table's sa.Index items after the first
    target: str | None = None  # dropped column / index name / referent; for an unread op, the call (op.drop_column)
    sql: SqlUse | None = None
    # an unread op: why it could not be followed (a name from a loop over a call ...); an alter_column that
    # Alembic emits nothing for: what it was given instead of a change
    reason: str | None = None
    text: str | None = None  # an unread op of no one table: the source it works from (only the tables it names are concerned)
    options: dict[str, str] = field(default_factory=dict)  # op.*'s keyword arguments as written (postgresql_concurrently=True)
    autocommit: bool = False  # inside `with op.get_context().autocommit_block():`, outside the migration's transaction
    guarded: bool = False  # inside an `if` that asks the database what is there (inspector.get_table_names() ...)
    guard_names: tuple[str, ...] = ()  # the names such an `if` asks about ("ix_orders_total", a column's name)
    guard_calls: tuple[str, ...] = ()  # the inspector methods it calls, directly or in a helper (get_foreign_keys)
    guard_missing: bool = False  # it runs where the check finds nothing: `if not has(...)`, `not in`, a positive test's else
    not_postgres: bool = False  # inside a branch taken only on another database (`if dialect.name == "mysql":`)
    # every inspector check around it only asks whether a lookup found the name it drops (`if fk_name:
    # op.drop_constraint(fk_name, ...)`): where the lookup finds none there is none to drop
    drops_what_was_found: bool = False
    # made in a loop over what an inspector check found missing (`for c in [c for n, c in cols if n not in existing]:
    # op.add_column(t, c)`): where it is skipped the object is there already
    only_missing: bool = False
    # create_table: arguments that are neither a Column nor a table item dbreview reads (a helper's call, a name bound
    # elsewhere): the table may have columns or keys the op does not show
    unread_items: int = 0

    @property
    def made_indexes(self) -> list[IndexFact]:
        """Every index the step builds: create_index's, or each sa.Index given to create_table."""
        return [self.index, *self.more_indexes] if self.index is not None else []


@dataclass(slots=True)
class RevisionFact:
    path: str
    revision: str | None
    down_revisions: tuple[str, ...]
    span: Span  # the revision = line
    upgrade: list[MigrationOp]
    downgrade: list[MigrationOp]
    upgrade_span: Span | None
    downgrade_span: Span | None
    downgrade_empty: bool  # missing, `pass`, docstring only
    message: str | None = None
    doc: str = ""  # the module docstring whole: its first line is the message, the rest the author's notes
    downgrade_raises: bool = False  # declared irreversible: the downgrade raises (NotImplementedError ...)
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    unread: list[Unread] = field(default_factory=list)  # its id or its parents, when not constants
    # Names the upgrade or downgrade use that the file imports from outside Alembic and SQLAlchemy: (local
    # name, qualified name, the import's span). An application model among them is today's, not the revision's.
    imports: list[tuple[str, str, Span]] = field(default_factory=list)
    # The upgrade's statements that call a function of another module of the project (`agent_init_ops.upgrade()`)
    # that could not be followed (link.py follows those it finds); they may create or change tables. (the call's
    # span, the function as written)
    helper_calls: list[tuple[Span, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class JsonUse:
    """An expression that queries inside a JSON column: `Org.settings["plan"]`, `Org.tags.contains([...])`."""

    owner: str  # the class name as written (Org)
    attr: str  # the mapped attribute (settings)
    operation: str  # "[]", "contains", "has_key", "op(@>)" ...
    span: Span
    # How the query around it uses it (analyzers/facts/json_context.py): no index serves a negated test
    # (`~`, `not_()`, `!=`), nor one branch of an OR alone; and where the same function compares another
    # attribute of the class with `==` or `.in_()` ((class, attr) here), the rows may be found through that.
    negated: bool = False
    in_or: bool = False
    narrowed_by: tuple[tuple[str, str], ...] = ()
    joined: bool = False  # its class is joined into the query (`.join(Org, ...)`): another table's rows drive it
    returned: bool = False  # the test is returned (`return Org.tags.contains(x)`): the query that runs it is elsewhere
    function: str = ""  # the function it is returned from (its callers hold the query: json_context.at_callers)
    projected: bool = False  # a column the query returns, sorts or groups by (`select(Org.settings["plan"])`): no filter


@dataclass(frozen=True, slots=True)
class Ref:
    """What a module-level name is bound to, as far as the module itself tells (qualified through its
    imports; other modules are followed when the target is linked, analyzers/facts/symbols.py)."""

    kind: str  # name | attr | call | class | function | annotated | string | opaque
    name: str = ""  # name: a qualified name; attr: the attribute; class: the class's qualified name; string: the string
    of: Ref | None = None  # attr, call: the object or callee; function: what it returns (None: unknown)
    keywords: tuple[tuple[str, Ref], ...] = ()  # call: keyword arguments that are names or calls
    column: ColumnFact | None = None  # annotated: the mapped_column() inside `Annotated[T, mapped_column(...)]`


@dataclass(slots=True)
class ModuleFacts:
    """All that one Python file contributes."""

    path: str
    module: str
    classes: list[ClassFact] = field(default_factory=list)
    tables: list[TableFact] = field(default_factory=list)  # Table(...) objects
    loose_indexes: list[tuple[str, IndexFact]] = field(default_factory=list)  # Index(...) at module level, by class
    calls: list[CallFact] = field(default_factory=list)
    listeners: list[ListenerFact] = field(default_factory=list)
    sql: list[SqlUse] = field(default_factory=list)  # SQL sent outside listeners and migrations
    revision: RevisionFact | None = None
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    json_uses: list[JsonUse] = field(default_factory=list)  # Model.attr["k"], Model.attr.contains(...) ...
    password_writes: list = field(default_factory=list)  # analyzers/facts/password_writes.py
    password_passes: list = field(default_factory=list)  # calls of password setters, the same module
    secret_uses: list = field(default_factory=list)  # writes and lookups of bearer secrets (facts/secret_flow.py)
    token_makers: dict = field(default_factory=dict)  # functions returning a random generator's output, the same
    aware_uses: list = field(default_factory=list)  # aware datetimes beside attributes (facts/aware_times.py)
    query_inputs: list = field(default_factory=list)  # LIKE patterns and sort columns a value decides (facts/query_input.py)
    marked: bool = False  # mentions "dbreview:": may hold suppression comments, used or not
    bindings: dict[str, Ref] = field(default_factory=dict)  # module-level names: imports, assignments, defs
    binding_spans: dict[str, Span] = field(default_factory=dict)  # where the assigned and defined ones are
    stars: list[str] = field(default_factory=list)  # modules imported with `from x import *`
    usage: Usage | None = None  # how its code queries the models (analyzers/facts/usage.py)
    # module-level functions that make a table name from their argument (analyzers/facts/table_names.py)
    name_builders: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    runners: dict = field(default_factory=dict)  # methods that run a statement given them (analyzers/facts/runners.py)
    consumed: list = field(default_factory=list)  # rows read, then deleted by one function (facts/consumed.py)
    case_copies: list = field(default_factory=list)  # attributes written lower-cased from another (facts/case_copies.py)
    rewrites: list = field(default_factory=list)  # attributes written from their old value (analyzers/facts/rewrites.py)
    next_numbers: list = field(default_factory=list)  # new rows numbered max + 1 (analyzers/facts/rewrites.py)
    in_place: list = field(default_factory=list)  # attributes changed in place, not assigned (analyzers/facts/in_place.py)
    held_locks: list = field(default_factory=list)  # row locks held across a network call (analyzers/facts/held_locks.py)
    early_effects: list = field(default_factory=list)  # side effects before the commit (analyzers/facts/early_effects.py)
    pending_effects: list = field(default_factory=list)  # tasks enqueued after writes, no commit of its own (same)
    # where the `transaction` package is made to commit the sessions (analyzers/facts/transaction_managers.py)
    transaction_managers: list = field(default_factory=list)
    split_commits: list = field(default_factory=list)  # one operation committed in two parts (facts/split_commits.py)
    committers: tuple[str, ...] = ()  # its functions that commit on every path, qualified (facts/split_commits.py)
    swallowed_failures: list = field(default_factory=list)  # a failed commit swallowed, the session used on (facts/swallowed_failures.py)
    discarded_queries: list = field(default_factory=list)  # `query.filter(...)` whose new query is dropped (facts/discarded_queries.py)
    spliced_passwords: list = field(default_factory=list)  # a password put into a database URL unquoted (facts/spliced_passwords.py)
    imports: ImportFacts | None = None  # what running it imports (analyzers/facts/imports.py)
    alembic_env: AlembicEnv | None = None  # an Alembic env.py: the target_metadata it gives autogenerate
    # Who may call what (analyzers/facts/python_module.py `_Reader._index`): every name the module mentions (a Name, an
    # attribute, a string) -> the module-level functions it is mentioned in ("": elsewhere: module level, a
    # class, a decorator); and its module-level functions -> whether they are decorated (registered).
    mentions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    top_functions: dict[str, bool] = field(default_factory=dict)
    quoting: tuple[str, ...] = ()  # its module-level functions that return their argument quoted (flow.Flow.quotes)
    unfollowed_tables: list[tuple[int, str]] = field(default_factory=list)  # Table(...)s made in a loop not followed
    # classes a mixin builds for each model that inherits it (`type(f"{cls.__name__}Event", (Event, Base),
    # {"__tablename__": ...})` in a declared_attr): (the mixin's name, the class with TEMPLATE_NAMES for cls's)
    templates: list[tuple[str, ClassFact]] = field(default_factory=list)
    # module-level functions that return one Column(...): name -> (its parameters and their defaults as
    # written, the returned call as written), for Table(...)s that call them (link.py)
    column_helpers: dict[str, tuple[tuple[tuple[str, str | None], ...], str]] = field(default_factory=dict)
    imperative: list[tuple[str, str]] = field(default_factory=list)  # map_imperatively(Class, table): their names
    # functions that bind a parameter to a session factory (`Session.configure(bind=engine)`): name ->
    # (the parameter's position, its name, the factory's qualified name)
    session_binds: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    versioning: list[Span] = field(default_factory=list)  # sqlalchemy_continuum.make_versioned(...) calls


@dataclass(frozen=True, slots=True)
class Squashed:
    """A revision tree that a squash replaced: a tree of the same Alembic environment starts with a revision
    (`into`, no parent) that takes this tree's head's id, so a database at that head is, for Alembic, at
    the squash and goes on from there. Its revisions are history: nothing runs them on the way to head."""

    folder: str
    revisions: tuple[RevisionFact, ...]
    into: RevisionFact


@dataclass(slots=True)
class DocFact:
    path: str
    title: str
    lines: int


@dataclass(slots=True)
class Facts:
    """The whole target: what rules read."""

    root: str
    sources: dict[str, list[str]] = field(default_factory=dict)  # path -> lines, for evidence
    modules: list[ModuleFacts] = field(default_factory=list)
    tables: dict[str, TableFact] = field(default_factory=dict)  # from the models
    migration_tables: dict[str, TableFact] = field(default_factory=dict)  # as the migrations build them
    revisions: list[RevisionFact] = field(default_factory=list)  # those that run on the way to head
    squashed: list[Squashed] = field(default_factory=list)  # trees a squash replaced (not in `revisions`)
    listeners: list[ListenerFact] = field(default_factory=list)
    calls: list[CallFact] = field(default_factory=list)
    sql: list[SqlUse] = field(default_factory=list)
    docs: list[DocFact] = field(default_factory=list)
    configs: list[str] = field(default_factory=list)  # set-up files (.ini, .env, .sh ...), read on demand
    json_uses: list[JsonUse] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)  # the target's: tenant columns, which rules run
    # Its folders with a test word in their names that are its application's packages (discover.app_packages):
    # work on these facts after the scan reads paths within `paths.using_app_packages(facts.app_packages)`.
    app_packages: frozenset[str] = frozenset()
    # What could not be read: files, revision ids and parents, operations and SQL of the upgrades.
    unread: list[Unread] = field(default_factory=list)
    bases: list[Span] = field(default_factory=list)  # the declarative bases the models map through
    other_tables: dict[str, TableFact] = field(default_factory=dict)  # on another database (ClickHouse ...): not the app's
    # Views the ORM maps as classes that say so themselves (ClassFact.view): no keys, indexes or migrations of their own,
    # whatever their columns say, so not among `tables`. Those the migrations create with CREATE VIEW are in `tables`,
    # and rules/schema.py's views() names them.
    views: dict[str, TableFact] = field(default_factory=dict)
    # Tables a library makes as the mappers are configured, which no model of the target declares (analyzers/facts/
    # library_tables.py): name -> (the library, and where it is turned on; what the table is for). Their columns
    # are not known.
    library_tables: dict[str, tuple[str, str]] = field(default_factory=dict)
    # What the rules derive from the linked facts once and read many times (analyzers/rules/schema.py: the
    # migration SQL indexed by table); not part of the facts themselves.
    derived: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def lines(self, span: Span) -> tuple[str, ...]:
        """The source lines of a span; files are read on first use (most files have no finding)."""
        src = self.sources.get(span.path)
        if src is None:
            try:
                src = confine.read_text(self.root, span.path).splitlines()
            except OSError:
                src = []
            self.sources[span.path] = src
        return tuple(src[span.start - 1 : span.end])

    @property
    def migration_sql(self) -> list[SqlStatement]:
        """Every parsed statement of every upgrade, in revision file order."""
        return [st for rev in self.revisions for op in rev.upgrade if op.sql for st in op.sql.statements]

    def calls_named(self, *suffixes: str) -> list[CallFact]:
        return [c for c in self.calls if c.name.endswith(suffixes)]
