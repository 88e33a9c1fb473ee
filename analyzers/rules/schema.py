"""What several rules need to know about a target's schema: which tables hold clinical data or
belong to a tenant, what is indexed, and the Row-Level Security the migrations set up."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from analyzers import confine
from analyzers.facts.effects import changes_schema
from analyzers.facts.link import revision_trees
from analyzers.facts.model import ColumnFact, Facts, RevisionFact, Span, SqlStatement, TableFact, Unread
from analyzers.settings import DEFAULT_TENANT_COLUMNS
from analyzers.facts.paths import is_test_path, is_tooling_path  # noqa: F401 (rules import them from here)

# Clinical records: FR-03 says they are never hard deleted.
CLINICAL = re.compile(
    r"patient|appointment|document|clinical|encounter|prescription|medication|allerg|diagnos|"
    r"lab_result|vital|care_team|immuniz|visit|chart|treatment|procedure|contact_method"
)
# Tables that hold protected health information (PHI) and need Row-Level Security.
PHI = re.compile(CLINICAL.pattern + r"|message|call|note|consent|billing|insurance")
TENANT_SETTING = re.compile(r"app\.current_(tenant|org|organization)_id|app\.tenant|current_tenant", re.I)


def is_clinical(table: str) -> bool:
    return bool(CLINICAL.search(table)) and not table.startswith(("audit", "consent_document"))


def holds_phi(table: str) -> bool:
    return bool(PHI.search(table)) and not table.startswith(("audit", "consent_document"))


# Tables a tenant column may point at when it is not named as the checklist names it: mealie's groups
# and households, a workspace, a team. Only a column that most of the schema carries counts (a
# permission group's id on two link tables is not a tenant).
_TENANT_TABLE = re.compile(r"^(organi[sz]ations?|orgs?|tenants?|workspaces?|households?|groups?|teams?|compan(y|ies))$")
_TENANT_SHARE = 1 / 3  # of the tables, at least 3: a tenant partitions most data, a team or a permission group does not


def tenant_columns(facts: Facts) -> tuple[str, ...]:
    """The columns that say which tenant a row belongs to: the target's settings when it names them; the
    checklist's names (organization_id, its British organisation_id, tenant_id, org_id) where the schema has them; else a foreign key to
    an organization-like table that a good share of the tables carry."""
    if facts.settings.tenant_columns != DEFAULT_TENANT_COLUMNS:
        return facts.settings.tenant_columns  # the target's own settings name them
    cached = facts.derived.get("tenant_columns")
    if cached is not None:
        return cached  # type: ignore[return-value]
    # a name only link tables carry (`users_tenants`: who belongs to which tenant) marks memberships, not the tenant's rows
    names = {c for t in facts.tables.values() if not is_link_table(t) for c in t.columns}
    found = tuple(c for c in DEFAULT_TENANT_COLUMNS if c in names)
    if not found:
        counts: dict[str, int] = {}
        for t in facts.tables.values():
            for c in fk_columns(t):
                target = next((table_named(facts, fk.table) or fk.table for fk in c.foreign_keys), None) \
                    or _constraint_target(t, c.name)  # `ForeignKey(Tenant.id)`: the table of the class
                if target and _TENANT_TABLE.match(target.split(".")[-1]) and target.split(".")[-1] != t.name:
                    counts[c.name] = counts.get(c.name, 0) + 1
        least = max(3, _TENANT_SHARE * len(facts.tables))
        found = tuple(sorted((c for c, n in counts.items() if n >= least), key=lambda c: -counts[c]))
    facts.derived["tenant_columns"] = found
    return found


def table_named(facts: Facts, ref: str) -> str | None:
    """The table a model's ForeignKey names ("users" of "users.id", "User" of "User.id"), when known."""
    ref = ref.rsplit(".", 1)[-1]
    if ref in facts.tables or ref in facts.migration_tables:
        return ref
    return next((t.name for t in facts.tables.values() if t.class_name == ref), None)


def _constraint_target(table: TableFact, column: str) -> str | None:
    for con in table.constraints:
        if con.kind == "foreign_key" and column in con.columns and con.target:
            return con.target.rsplit(".", 1)[0]
    return None


def tenant_column(table: TableFact, facts: Facts) -> ColumnFact | None:
    return next((table.columns[c] for c in tenant_columns(facts) if c in table.columns), None)


def schema_per_tenant(facts: Facts) -> list[Span]:
    """Where the code separates tenants by schema (`execution_options(schema_translate_map=...)`,
    `SET search_path` to a schema built at run time): Row-Level Security is then not the isolation."""
    spans = [c.span for c in facts.calls if c.name == "execution_options" and not is_test_path(c.span.path)]
    for use in facts.sql:
        if use.formatted and not is_test_path(use.span.path) and any(
            st.details.get("name") == "search_path" and "{?}" in st.text for st in use.statements
        ):
            spans.append(use.span)
    return spans


def fk_columns(table: TableFact) -> list[ColumnFact]:
    from_constraints = {c for con in table.constraints if con.kind == "foreign_key" for c in con.columns}
    return [c for c in table.columns.values() if c.foreign_keys or c.name in from_constraints]


def index_leads(table: TableFact, facts: Facts | None = None) -> set[str]:
    """Columns that lead some index (so lookups by them are indexed), from models and migrations."""
    leads = {c.name for c in table.columns.values() if c.index or c.unique or c.primary_key}
    pk = [c.name for c in table.columns.values() if c.primary_key]
    if pk:
        leads.add(pk[0])
    indexes = list(table.indexes)
    if facts is not None and table.name in facts.migration_tables:
        indexes += facts.migration_tables[table.name].indexes
        leads |= {c.name for c in facts.migration_tables[table.name].columns.values() if c.index or c.unique}
    for ix in indexes:
        if ix.columns:
            leads.add(ix.columns[0])
    for con in table.constraints:
        if con.kind in ("unique", "primary_key") and con.columns:
            leads.add(con.columns[0])
    return leads


def all_indexes(table: TableFact, facts: Facts):
    yield from table.indexes
    if table.name in facts.migration_tables:
        yield from facts.migration_tables[table.name].indexes


def all_constraints(table: TableFact, facts: Facts):
    yield from table.constraints
    if table.name in facts.migration_tables:
        yield from facts.migration_tables[table.name].constraints


def migrated_column(facts: Facts, table: TableFact, name: str) -> ColumnFact | None:
    """The column as the migrations leave it, or None when they do not build it."""
    migrated = facts.migration_tables.get(table.name)
    return migrated.columns.get(name) if migrated else None


@dataclass(slots=True)
class MigrationSql:
    """The SQL of every upgrade, read once per target and indexed by table. Rules ask about it once per
    table or per column; walking every statement of every migration each time made them grow with
    tables x migrations."""

    statements: list[SqlStatement]  # every parsed statement of every upgrade, in revision file order
    by_table: dict[str, tuple[SqlStatement, ...]]  # the statements that name a table (st.table), in order
    # What the migrations hold that could not be read (files, revisions, operations, SQL), in order.
    unread: list[Unread]
    _unread_by_table: dict[str, list[Unread]] = field(default_factory=dict)

    def for_table(self, table: str) -> tuple[SqlStatement, ...]:
        return self.by_table.get(table, ())

    def unread_for(self, table: str | None) -> list[Unread]:
        """What could not be read that may concern `table` (everything when None): a part about that
        table, or one that may be about any (SQL built at run time, a file that does not parse); SQL
        that could not be parsed is matched by its text, so `notes` also picks SQL about `patient_notes`."""
        if table is None:
            return list(self.unread)
        found = self._unread_by_table.get(table)
        if found is None:
            found = self._unread_by_table[table] = [u for u in self.unread if u.concerns(table)]
        return list(found)


AUDITING = re.compile(r"(^|_)audit", re.I)  # a table, trigger, function or listener of the audit trail


def audit_triggers(statements: Iterable[SqlStatement]) -> list[SqlStatement]:
    """The migrations' CREATE TRIGGERs that audit a table (the trigger or its function named `audit...`),
    on tables other than the audit tables themselves."""
    return [st for st in statements if st.kind == "create_trigger" and st.table and not AUDITING.search(st.table) and (
        AUDITING.search(str(st.details.get("name") or "")) or AUDITING.search(str(st.details.get("function") or "")))]


def migration_sql(facts: Facts) -> MigrationSql:
    """The migration SQL of `facts`, indexed on first use and kept with the facts (they do not change
    once linked; a new list of revisions is indexed again)."""
    stamp = (id(facts.revisions), len(facts.revisions))
    cached = facts.derived.get("migration_sql")
    if cached is not None and cached[0] == stamp:  # type: ignore[index]
        return cached[1]  # type: ignore[index]
    statements = list(facts.migration_sql)
    by_table: dict[str, list[SqlStatement]] = {}
    for st in statements:
        if st.table is not None:
            by_table.setdefault(st.table, []).append(st)
    folders = {r.path.rsplit("/", 1)[0] for r in facts.revisions}
    unread = [u for u in facts.unread if u.kind != "file" or u.span.path.rsplit("/", 1)[0] in folders]
    index = MigrationSql(statements, {t: tuple(sts) for t, sts in by_table.items()}, unread)
    facts.derived["migration_sql"] = (stamp, index)
    return index


def table_sql(facts: Facts, table: str) -> tuple[SqlStatement, ...]:
    """The migration statements about `table` (CREATE INDEX ON it, ALTER TABLE it, a trigger on it ...)."""
    return migration_sql(facts).for_table(table)


def _mentions(entry: str, wanted: set[str]) -> set[str]:
    """The wanted columns one column entry of an index or constraint stands for: itself, or the columns an
    expression reads (`lower(email)`, `func.lower(email)`)."""
    if entry in wanted:
        return {entry}
    if entry.isidentifier():
        return set()
    return set(re.findall(r"\w+", entry)) & wanted


def _unique_keys(facts: Facts, table: TableFact, *, partial: bool = True) -> Iterable[tuple[str, ...]]:
    """Every column tuple that the database keeps unique in `table`, from the model and from the schema the
    migrations build: unique columns, primary keys, unique constraints, unique indexes (partial ones too
    unless `partial` is False; not one whose predicate is a Python bool, see INT007) and CREATE UNIQUE INDEX
    in migration SQL."""
    migrated = facts.migration_tables.get(table.name)
    for t in (table, migrated):
        if t is None:
            continue
        yield from ((c.name,) for c in t.columns.values() if c.unique)
        pk = tuple(c.name for c in t.columns.values() if c.primary_key)
        if pk:
            yield pk
    for con in all_constraints(table, facts):
        if con.kind in ("unique", "primary_key"):
            yield con.columns
    for ix in all_indexes(table, facts):
        if ix.unique and not ix.where_python and (partial or not ix.where):
            yield ix.columns
    for st in table_sql(facts, table.name):
        if st.kind == "create_index" and st.details.get("unique") and (partial or not st.details.get("where")):
            yield tuple(st.details.get("columns") or ())  # type: ignore[arg-type]


def key_lookup(facts: Facts, table: TableFact, tested: Iterable[str], *, partial: bool = False,
               nulls: Iterable[str] = ()) -> tuple[str, ...] | None:
    """The unique key of `table` whose every column a lookup compares with `==` (`tested`: the model's attribute
    names or column names; `nulls`: those it tests IS NULL): the primary key, a unique column, a unique constraint or
    a unique index, in the model or the migrations (with `partial`, one with a predicate too: unique only where it
    holds), an expression of an index's over such columns too (pins_key). Such a lookup finds one row, as by the
    primary key; None when it is no key lookup."""
    names = {c.attr or c.name: c.name for c in table.columns.values()}
    columns = {names.get(t.rsplit(".", 1)[-1], t.rsplit(".", 1)[-1]) for t in tested}
    tested_null = {names.get(t.rsplit(".", 1)[-1], t.rsplit(".", 1)[-1]) for t in nulls}
    return next((tuple(key) for key in _unique_keys(facts, table, partial=partial)
                 if pins_key(facts, table, key, columns, tested_null)), None)


# COALESCE(column, <a constant>): never NULL, so rows where the column IS NULL share one value of it.
_COALESCED = re.compile(r"COALESCE\(\s*\w+\s*,\s*(?:'[^']*'|-?\d+(?:\.\d+)?)\s*\)", re.I)


def pins_key(facts: Facts, table: TableFact, key: Iterable[str], columns: set[str], nulls: Iterable[str] = ()) -> bool:
    """Whether a lookup comparing `columns` with `==` (and testing `nulls` IS NULL) fixes the value of every entry of the
    unique key `key`, so that it finds one row at most: a column among `columns`, or an expression of an index's
    (`lower(email)`, `COALESCE(parent_id, 0)`), which PostgreSQL requires immutable, over such columns only; a column
    tested IS NULL counts only inside `COALESCE(column, constant)`, which turns its NULL into a value (a NULL in a
    plain column of the key is distinct from every other)."""
    key = tuple(key)
    for entry in key:
        if entry in columns:
            continue
        read = key_reads(facts, table, (entry,))
        allowed = columns | (set(nulls) if _COALESCED.fullmatch(entry.strip()) else set())
        if entry.isidentifier() or not read or not read <= allowed:
            return False
    return bool(key)


def key_reads(facts: Facts, table: TableFact, key: Iterable[str]) -> set[str]:
    """The columns of `table` the entries of a key read: a column itself, or those an expression names."""
    known = set(table.columns) | set(getattr(facts.migration_tables.get(table.name), "columns", ()))
    return {word for entry in key for word in re.findall(r"[A-Za-z_]\w*", entry) if word in known}


def unique_over(facts: Facts, table: TableFact, columns: tuple[str, ...], *, exact: bool = True) -> bool:
    """Is there a unique constraint, unique index or primary key over exactly `columns` (in any order), or
    with exact=False over at least them, in the model or in the migrations?"""
    wanted = set(columns)
    for key in _unique_keys(facts, table):
        mentioned = [_mentions(entry, wanted) for entry in key]
        covered = set().union(*mentioned)
        if exact and len(key) == len(wanted) and all(mentioned) and covered == wanted:
            return True
        if not exact and covered >= wanted:
            return True
    return False


def unique_keys_with(facts: Facts, table: TableFact, column: str) -> list[tuple[str, ...]]:
    """The unique keys of `table` (model or migrations) that have `column` among their columns."""
    return [tuple(key) for key in _unique_keys(facts, table) if column in key]


def has_check(facts: Facts, table: TableFact, column: str) -> bool:
    """Does a CHECK constraint name `column`: in the model, in the schema the migrations build, or in
    migration SQL on the table?"""
    return any(c.kind == "check" and column in (c.expression or "") for c in all_constraints(table, facts)) or any(
        "CHECK" in st.text.upper() and column in st.text for st in table_sql(facts, table.name)
    )


@dataclass(slots=True)
class Rls:
    enabled: SqlStatement | None = None
    forced: SqlStatement | None = None
    policies: list[SqlStatement] = field(default_factory=list)


def rls_by_table(facts: Facts) -> dict[str, Rls]:
    """Row-Level Security per table as the upgrades leave it (a later DISABLE undoes an ENABLE)."""
    out: dict[str, Rls] = {}
    for st in migration_sql(facts).statements:
        if not st.table:
            continue
        state = out.setdefault(st.table, Rls())
        if st.kind == "enable_rls":
            state.enabled = st
        elif st.kind == "disable_rls":
            state.enabled = None
        elif st.kind == "force_rls":
            state.forced = st
        elif st.kind == "noforce_rls":
            state.forced = None
        elif st.kind == "create_policy":
            state.policies = [p for p in state.policies if p.details.get("name") != st.details.get("name")] + [st]
        elif st.kind == "drop_policy":
            state.policies = [p for p in state.policies if p.details.get("name") != st.details.get("name")]
    return out






def first_line(span: Span) -> Span:
    return Span(span.path, span.start, span.start)


ARCHIVE = re.compile(r"(^|_)archive")  # a copy of old rows kept apart (`runs_archive_2026Q1`)


def views(facts: Facts) -> dict[str, Span]:
    """The views (plain or materialized) the migrations leave at head, and where each is last created: a
    model mapped onto one reads rows the database derives from other tables, and no foreign key, default or
    CHECK can go on it (they belong on the tables it selects from)."""
    stamp = (id(facts.revisions), len(facts.revisions))
    cached = facts.derived.get("views")
    if cached is not None and cached[0] == stamp:  # type: ignore[index]
        return cached[1]  # type: ignore[index]
    found: dict[str, Span] = {}
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.name in ("create_table", "drop_table"):
                found.pop(op.table or "", None)
            for st in op.sql.statements if op.sql else ():
                if st.kind == "create_view":
                    found[str(st.details["name"])] = st.span
                elif st.kind == "drop" and st.details.get("type") in ("OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_TABLE"):
                    for name in st.details.get("names", ()):  # type: ignore[union-attr]
                        found.pop(name, None)
                elif st.kind == "create_table":
                    found.pop(st.table or "", None)
    facts.derived["views"] = (stamp, found)
    return found


def column_sites(facts: Facts):
    """(table, column) once per place a column is declared: a mixin's column is reported once,
    at the mixin, not once per table that uses it. Columns of a model mapped onto a view the migrations
    create are left out: what a rule asks of a column (a foreign key, a default, a CHECK) goes on the
    tables the view selects from."""
    seen: set[tuple[str, int]] = set()
    made_views = views(facts)
    for table in facts.tables.values():
        if table.name in made_views:
            continue
        for column in table.columns.values():
            key = (column.span.path, column.span.start)
            if key in seen:
                continue
            seen.add(key)
            yield table, column


def column_anchor(table: TableFact, column: ColumnFact) -> str:
    if table.class_name and column.declared_in != table.class_name:
        return f"class:{column.declared_in}.{column.attr or column.name}"
    return f"table:{table.name}.{column.name}"


MONEY_NAME = re.compile(r"amount|price|total|fee|cost|balance|subtotal|tax|discount|refund|charge|payment|cents")
MFA_NAME = re.compile(r"mfa|totp|(^|_)otp|two_factor|2fa|webauthn|authenticator|passkey")  # multi-factor sign-in
PASSWORD_COLUMN = re.compile(r"password|passwd|pwd_hash|passhash")  # a table or column that stores one


def python_paths(facts: Facts) -> list[str]:
    """Every Python file of the target, read or not (those that mention no SQLAlchemy are not)."""
    symbols = facts.derived.get("symbols")
    others = [*(m.path for m in symbols.modules.values()), *symbols.unread.values()] if symbols is not None else []
    return list(dict.fromkeys([*(m.path for m in facts.modules), *others]))  # read on demand since: still there


def function_source(facts: Facts, path: str, name: str) -> tuple[str, Span] | None:
    """The source of the module-level function `name` as the module at `path` binds it: defined there,
    or imported from a module of the repository (followed a few imports deep). None: not found."""
    symbols = facts.derived.get("symbols")
    module = facts.derived.setdefault("modules_by_path", {m.path: m for m in facts.modules}).get(path)
    for _ in range(4):
        ref = module.bindings.get(name) if module else None
        if ref is None:
            return None
        if ref.kind == "function" and name in module.binding_spans:
            span = module.binding_spans[name]
            return "\n".join(facts.lines(span)), span
        if ref.kind != "name" or "." not in ref.name or symbols is None:
            return None
        owner, name = ref.name.rsplit(".", 1)
        module = symbols.module(owner, module.module)[0]
    return None


def where_declared(table: TableFact, column: ColumnFact) -> str:
    if table.class_name and column.declared_in != table.class_name:
        return f"{column.declared_in}.{column.attr or column.name} (used by {table.name} and others)"
    return f"{table.name}.{column.name}"


def app_calls(facts: Facts, *suffixes: str):
    """Calls in application code: not tests, scripts, Alembic's env.py or migration tooling."""
    return [c for c in facts.calls_named(*suffixes) if not is_test_path(c.span.path) and not is_tooling_path(c.span.path)]


def sqlite_engines(facts: Facts) -> list[Span]:
    """Engines of the application made in a module that sets SQLite up (`check_same_thread`, a sqlite
    URL): a backend that supports SQLite besides PostgreSQL cannot rest its isolation on PostgreSQL's
    policies."""
    def sqlite(path: str) -> bool:
        code = (line.partition("#")[0] for line in facts.lines(Span(path, 1, 1_000_000)))
        return any("check_same_thread" in line or "sqlite" in line.lower() for line in code)

    return [c.span for c in app_calls(facts, "create_engine", "create_async_engine") if sqlite(c.span.path)]


COMPOSE_FILES = tuple(f"{folder}{name}.{ext}" for folder in ("", "docker/", "deploy/")
                       for name in ("docker-compose", "compose") for ext in ("yml", "yaml"))
_COMPOSE_IMAGE = re.compile(r"^\s*image:\s*['\"]?(?:[\w.-]+/)?(mariadb|mysql)[:'\"\s]", re.I)


def other_databases(facts: Facts) -> list[tuple[str, Span]]:
    """The databases besides PostgreSQL the application is set up to run on: SQLite where a module that makes
    its engine sets SQLite up, MariaDB or MySQL where a docker-compose file at the top (or under docker/,
    deploy/) runs one or the migrations create tables with `mysql_engine=`. What PostgreSQL alone offers
    (timestamptz, RLS) weighs less there."""
    out = []
    for span in sqlite_engines(facts)[:1]:  # the module's line that sets SQLite up, not its first engine's
        lines = facts.lines(Span(span.path, 1, 1_000_000))
        n = next((i for i, line in enumerate(lines, 1)
                  if "sqlite" in line.partition("#")[0].lower() or "check_same_thread" in line), span.start)
        out.append(("SQLite", Span(span.path, n, n)))
    for rel in COMPOSE_FILES:
        for n, line in enumerate(facts.lines(Span(rel, 1, 2000)), 1):
            m = _COMPOSE_IMAGE.match(line)
            if m:
                out.append(("MariaDB" if m.group(1).lower() == "mariadb" else "MySQL", Span(rel, n, n)))
                break
    if not any(db != "SQLite" for db, _ in out) and (made := made_for_mysql(facts)) is not None:
        out.append(("MySQL", made))
    return out


def made_for_mysql(facts: Facts) -> Span | None:
    """The first table the migrations create with `mysql_engine=` (InnoDB): MySQL is a target of the schema."""
    return next((op.span for rev in facts.revisions for op in rev.upgrade
                 if op.name == "create_table" and "mysql_engine" in op.options), None)


def uses_rls(facts: Facts) -> bool:
    """Does anything read the RLS context: a policy, a tenant's setting (`app.current_tenant_id`), or current_setting()
    in migration SQL other than a function no policy calls (an audit trigger reading `audit.username` is not RLS)?"""
    return any(st.kind == "create_policy" or TENANT_SETTING.search(st.text) for st in migration_sql(facts).statements) \
        or bool(settings_read(facts))


_SETTING_READ = re.compile(r"current_setting\s*\(\s*'([A-Za-z_][\w.]*)'", re.I)


def settings_read(facts: Facts, *, every_function: bool = False) -> dict[str, list[SqlStatement]]:
    """The session settings that migration SQL reads with current_setting() (policies, functions they
    call), each with the statements that read it, in revision order. A setting only a trigger function
    reads (an escape hatch set around one batch delete) is not RLS context, but it is read: every_function
    counts the settings every function reads."""
    statements = migration_sql(facts).statements
    policies = " ".join(st.text for st in statements if st.kind == "create_policy").lower()
    out: dict[str, list[SqlStatement]] = {}
    for st in statements:
        if st.kind == "create_function" and not every_function and str(st.details.get("name") or "").split(".")[-1].lower() not in policies:
            continue
        for name in _SETTING_READ.findall(st.text):
            out.setdefault(name.lower(), []).append(st)
    return out


def unread_sql(facts: Facts, table: str | None = None) -> list[Span]:
    """Where the migrations hold what a static reader could not follow (op.execute of a value built
    elsewhere, SQL pglast rejects, an operation naming its table by a value from a loop over a call, a
    revision file that does not parse) that may concern `table`: rules that find no policy or no RLS say
    so instead of asserting there is none."""
    return [u.span for u in migration_sql(facts).unread_for(table)]


def migration_gaps(facts: Facts, table: str | None = None) -> list[Unread]:
    """What a finding about the schema the migrations build rests on but could not be read: for one table,
    or for the whole (table None). Pass them to `Rule.finding(unsure=...)`."""
    return migration_sql(facts).unread_for(table)


def tree_gaps(facts: Facts, revisions: list[RevisionFact]) -> list[Unread]:
    """What could not be read in one revision tree (given by its revisions): a file in its folders that
    does not parse, a revision whose id or parent is not a constant. The tree's shape (heads, missing
    parents) rests on them."""
    folders = {r.path.rsplit("/", 1)[0] for r in revisions}
    return [u for u in facts.unread if u.kind in ("file", "revision") and u.span.path.rsplit("/", 1)[0] in folders]


def where(spans: list[Span]) -> str:
    """`path:line` of the first span, and how many more."""
    if not spans:
        return ""
    first = f"{spans[0].path}:{spans[0].start}"
    return first if len(spans) == 1 else f"{first} and {len(spans) - 1} more"


_LINK_NAMES = re.compile(r"_(memberships?|members|participants?)$|^(organization|org)_(patients|users|members)$")
END_MARKERS = ("removed_at", "ended_at", "end_date", "discharged_at", "revoked_at", "unassigned_at", "left_at")


def is_link_table(table: TableFact) -> bool:
    """A pure association (enrollment, membership, participation): its key is made of its foreign keys,
    or it is named like one. Removing such a row ends a link; it destroys no record of care."""
    fks = {c.name for c in fk_columns(table)}
    pk = [c.name for c in table.columns.values() if c.primary_key]
    pk += [n for con in table.constraints if con.kind == "primary_key" for n in con.columns]
    if len(set(pk)) >= 2 and set(pk) <= fks:
        return True
    return bool(_LINK_NAMES.search(table.name)) and len(fks) >= 2


def delete_cascades(facts: Facts):
    """(parent table, relationship, the target's table or None when not found, the target as named) for each ORM
    relationship whose cascade deletes the rows it loads (`delete`, `delete-orphan`, `all`)."""
    by_class = {t.class_name: t for t in facts.tables.values() if t.class_name}
    for table in facts.tables.values():
        for rel in table.relationships:
            cascade = (rel.cascade or "").lower()
            if "delete" in cascade or "all" in cascade:
                target = (rel.target or "").strip("'\"").split(".")[-1]
                yield table, rel, by_class.get(target), target


def end_marker(table: TableFact) -> str | None:
    return next((c for c in END_MARKERS if c in table.columns), None)


_PATIENTS = re.compile(r"(^|_)patients?($|_)")


def healthcare(facts: Facts) -> bool:
    """Does the schema hold patients? The HIPAA rules about clinical data and PHI only mean something
    then: on an incident tracker, `document` and `case_notes` are not clinical records."""
    return any(_PATIENTS.search(name) for name in facts.tables)


def data_only(r: RevisionFact) -> bool:
    """An upgrade that only changes rows (UPDATE/INSERT/DELETE, bulk_insert, a temporary table, triggers
    disabled and enabled again around an UPDATE): an empty downgrade is the norm there, since the old
    values are gone; nothing in the schema needs undoing."""
    return bool(r.upgrade) and not changes_schema(r.upgrade)


def trees(revisions: list[RevisionFact]) -> dict[str, list[RevisionFact]]:
    """Revisions by Alembic tree (a versions folder, or folders one history spans): one repository may
    hold several trees."""
    return revision_trees(revisions)


_REVISION_DIRS = ("migrations", "migration", "alembic", "versions")


def named_in_code(facts: Facts, table: str) -> bool:
    """Whether a model maps `table` (or a library makes it for the models, facts.library_tables) or a Python file
    outside tests and migrations names it in code (not in a comment): what the application that ships with a
    revision still uses."""
    if table in facts.tables or table in facts.library_tables:
        return True
    known: dict[str, bool] = facts.derived.setdefault("named_in_code", {})  # type: ignore[assignment]
    if table not in known:
        known[table] = _names_table(facts, table)
    return known[table]


def _names_table(facts: Facts, table: str) -> bool:
    word = re.compile(rf"(?<![\w]){re.escape(table)}(?![\w])")
    return any(code is None or word.search(code) for code in _application_code(facts))


def _application_code(facts: Facts) -> list[str | None]:
    """The Python files outside tests and migrations, each read once per scan and without its comments (one
    line per line); None for a file that could not be read (it may name anything)."""
    if "application_code" not in facts.derived:
        codes: list[str | None] = []
        for path in python_paths(facts):
            if is_test_path(path) or any(p in _REVISION_DIRS for p in path.split("/")[:-1]):
                continue
            try:
                text = confine.read_text(facts.root, path)
            except (OSError, ValueError):
                codes.append(None)
                continue
            codes.append("\n".join(line.split("#", 1)[0] for line in text.splitlines()))
        facts.derived["application_code"] = codes
    return facts.derived["application_code"]  # type: ignore[return-value]
