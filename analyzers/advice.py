"""What to do about one finding, in the finding's own names.

A rule's docstring says in general what to do instead, with an example; pasted into a report, that
example names someone else's table. This module writes the advice for the finding itself, from
what the finding is about: its anchor (the rule's own statement of its subject, part of its
identity, so it is stable) names the table, column, revision, listener or policy; the message adds
a value where the anchor has none (the tenant column, the quoted default). Where a name cannot be
read, the advice says what to do without it rather than guess one.

Computed when a report is written, never stored: a review saved by an older dbreview gets the same
advice as a fresh scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Subject:
    """A finding's anchor, taken apart: `table:appointments.provider_id:cascade` is kind "table",
    owner "appointments", column "provider_id", rest ("cascade",)."""

    kind: str
    owner: str  # a table, a class, a revision, a listener function, an engine...
    column: str  # the column or attribute after the owner's ".", if any
    rest: tuple[str, ...]

    @property
    def where(self) -> str:
        """`owner.column`, or the owner alone."""
        return f"{self.owner}.{self.column}" if self.column else self.owner


def subject(anchor: str) -> Subject:
    kind, _, tail = anchor.partition(":")
    head, *rest = tail.split(":") if tail else [""]
    owner, _, column = head.partition(".") if kind in ("table", "class", "relationship") else (head, "", "")
    return Subject(kind, owner, column, tuple(rest))


Advisor = Callable[[Subject, str], str]
_ADVISORS: dict[str, Advisor] = {}


def advises(*rule_ids: str) -> Callable[[Advisor], Advisor]:
    def register(fn: Advisor) -> Advisor:
        for rule_id in rule_ids:
            _ADVISORS[rule_id] = fn
        return fn

    return register


def advice(rule_id: str, anchor: str, message: str) -> str:
    """The advice for a finding; "" for a rule this module does not know (a report then shows the
    rule's own text, as general advice)."""
    advisor = _ADVISORS.get(rule_id)
    return advisor(subject(anchor), message) if advisor else ""


def _found(pattern: str, message: str, default: str = "") -> str:
    m = re.search(pattern, message)
    return m.group(1) if m else default


def _tenant(message: str) -> str:
    """The tenant column a message names ("tenant-scoped (organization_id)", "does not compare
    clinic_id with"), or a description of it."""
    return _found(r"tenant-scoped \((\w+)\)", message) or _found(r"does not compare (\w+) with", message) or "the tenant column"


_TENANT_SETTING = "current_setting('app.current_tenant_id')"


def _code(text: str) -> str:
    """`text` as an inline code span."""
    return f"`{text}`"


# -- 1. configuration ---------------------------------------------------------------------------


@advises("CFG001")
def _rls_variable(s: Subject, message: str) -> str:
    setting = _code(f"SELECT set_config('{s.owner}', :value, true)")
    return (
        f"Set {_code(s.owner)} in an `after_begin` listener of the session, with a bound parameter: "
        f"{setting}, so it holds for exactly one transaction."
    )


@advises("CFG002")
def _set_local(s: Subject, message: str) -> str:
    function = s.rest[0] if s.rest else "the listener"
    local, config = _code(f"SET LOCAL {s.owner} = ..."), _code(f"set_config('{s.owner}', :value, true)")
    return f"In {_code(function)}, set {_code(s.owner)} for the transaction only: {local} or {config}."


@advises("CFG003")
def _bound_parameters(s: Subject, message: str) -> str:
    return (
        f"In {_code(s.owner)}, pass the values as bound parameters instead of formatting them into the SQL: "
        "`connection.execute(text(\"SELECT set_config(:name, :value, true)\"), {\"name\": ..., \"value\": ...})`."
    )


@advises("CFG004")
def _discard_all(s: Subject, message: str) -> str:
    listener = s.rest[0] if s.rest else ""
    where = f"the `checkin` listener {_code(listener)}" if listener else "a `checkin` listener on the engine's pool"
    return f"Run `DISCARD ALL` in {where} (after a ROLLBACK if a transaction may still be open)."


@advises("CFG005")
def _pre_ping(s: Subject, message: str) -> str:
    return f"Pass `pool_pre_ping=True` where {_code(s.owner)} is created."


@advises("CFG006")
def _pool_sizing(s: Subject, message: str) -> str:
    return (
        f"Give {_code(s.owner)} a `pool_size` and `max_overflow` that fit the database's `max_connections` "
        "divided by the processes that connect, a `pool_timeout`, and a `pool_recycle` shorter than any idle "
        "timeout between the application and the database."
    )


@advises("CFG007")
def _expire_on_commit(s: Subject, message: str) -> str:
    return f"Create {_code(s.owner)} with `expire_on_commit=False`."


@advises("CFG008")
def _sql_from_strings(s: Subject, message: str) -> str:
    value = _found(r"`([^`]+)` is (?:an identifier|a value|a piece|the whole statement)", message) or "the value"
    where = f"in {_code(s.owner)}" if s.kind == "sql" else f"in revision {_code(s.owner)}"
    if " is the whole statement run" in message:
        return (f"{where.capitalize()}, run {_code(value)} only on a connection that confines it (a read-only role, a "
                "statement timeout), after checking what it may read.")
    if " is an identifier" in message:
        return (f"{where.capitalize()}, check {_code(value)} against the fixed set of names it may take, or quote it "
                "with the dialect's identifier preparer, before it goes into the SQL.")
    if " is a piece of the statement" in message:
        return f"{where.capitalize()}, build the clause from {_code(value)} with SQLAlchemy constructs, or pick it from a fixed list."
    param = re.sub(r"\W+", "_", value).strip("_") or "value"
    return f"{where.capitalize()}, write `:{param}` in the SQL and pass {_code(value)} as a bound parameter."


@advises("CFG009")
def _sort_from_a_set(s: Subject, message: str) -> str:
    function, value = (s.rest + ("", ""))[:2]
    return (f"In {_code(function or s.owner)}, map the names {_code(value or 'the caller')} may take to columns (a dict "
            "of the model's attributes) and sort only by a name found in it.")


@advises("CFG010")
def _escape_like(s: Subject, message: str) -> str:
    function, value = (s.rest + ("", ""))[:2]
    return (f"In {_code(function or s.owner)}, escape `\\`, `%` and `_` in {_code(value or 'the value')} and pass "
            "`escape=\"\\\\\"`, or use `icontains(..., autoescape=True)`.")


@advises("CFG011")
def _bind_with_colon(s: Subject, message: str) -> str:
    name = s.rest[0] if s.rest else "the parameter"
    return (f"In {_code(s.owner)}, write `:{name}` where the SQL has the bare {_code(name)}, so the value passed is "
            "compared, not the column with itself.")


@advises("CFG012")
def _join_the_updated_table(s: Subject, message: str) -> str:
    table = s.rest[-1] if s.rest else "the updated table"
    return (f"In {_code(s.owner)}, add the condition that joins {_code(table)} to the FROM (`{table}.<key> = "
            "<other>.<key>`), so only the rows that match are updated.")


@advises("CFG013")
def _where_for_the_write(s: Subject, message: str) -> str:
    table = s.rest[-1] if s.rest else "the table"
    return (f"In {_code(s.owner)}, add the WHERE that picks the rows of {_code(table)} meant; where every row is meant, "
            "say so with a `dbreview: ignore` comment and its reason.")


@advises("CFG014")
def _after_the_commit(s: Subject, message: str) -> str:
    what = s.rest[-1] if s.rest else "the side effect"
    return (f"In {_code(s.owner)}, call {_code(what)} after the commit (or from an after-commit hook or an outbox "
            "table), so it runs only for changes that were saved.")


@advises("CFG015")
def _commit_once(s: Subject, message: str) -> str:
    if s.owner == "helpers":
        return ("Let the helpers that commit only add and flush, and commit once in the caller that finishes the "
                "operation (or run it in `with session.begin():`).")
    return (f"In {_code(s.owner)}, replace the first commit with `flush()` (it gives the id) and commit once, after "
            "the last write of the operation.")


@advises("CFG016")
def _roll_back(s: Subject, message: str) -> str:
    function = _code(s.rest[0]) if s.rest else "the function"
    session = s.rest[1] if len(s.rest) > 1 else "session"
    return (f"In {function}, call `{session}.rollback()` first in the handler; or write in `with {session}.begin_nested():`, "
            "a savepoint that rolls back only its own part when the database refuses it.")


@advises("CFG017")
def _mark_changed(s: Subject, message: str) -> str:
    function = _code(s.rest[0]) if s.rest else "the function"  # function:<path>:<function>:<Class>.<attr>:in-place
    cls, _, attr = (s.rest[1] if len(s.rest) > 1 else "Model.column").partition(".")
    call = _found(r"(flag_modified\(\w+, \"\w+\"\))", message, f'flag_modified(row, "{attr}")')
    return (f"In {function}, call `{call}` (from `sqlalchemy.orm.attributes`) after the change and before the commit, or "
            f"assign a new value (`row.{attr} = {{**row.{attr}, ...}}`); or declare {_code(f'{cls}.{attr}')} with "
            "`MutableDict.as_mutable(JSONB)` (`MutableList` for a list), which tracks changes to its top-level items.")


@advises("CFG018")
def _call_outside_the_lock(s: Subject, message: str) -> str:
    function = _code(s.rest[0]) if s.rest else "the function"  # function:<path>:<function>:lock-held-across-call
    what = _found(r"calls (`[^`]+`)", message, "the service")
    return (f"In {function}, take {what} out of the locked transaction: claim the row (a status such as "
            "`processing`) and commit, call the service with an idempotency key, then lock the row again only to "
            "record the result; or call before taking the lock.")

@advises("CFG020")
def _engine_once(s: Subject, message: str) -> str:
    caller = _found(r"^(?:the route handler )?`(\w+)`", message, "the function")
    factory = _found(r"calls `([\w.]+)\(\.\.\.\)`", message)
    made = f"the result of {_code(factory + '()')}" if factory else "the engine"
    return (f"Make {made} once, at import or in the application's lifespan (kept on `app.state`, in a module global or "
            f"behind `functools.lru_cache`), dispose it at shutdown, and have {_code(caller)} hand out sessions from it "
            "instead of building a new pool per request.")

@advises("CFG022")
def _sql_operators(s: Subject, message: str) -> str:
    kind = s.rest[1] if len(s.rest) > 1 else ""  # function:<path>:<function>:<kind>:<expression>
    fix = _found(r"write `([^`]+)`", message)
    how = {
        "is": "Compare with SQL's IS: `.is_(None)` / `.is_not(None)` (or `== None`, which SQLAlchemy turns into IS NULL).",
        "and": "Join the conditions with `and_(a, b)`, `a & b` (each side in parentheses), or pass them as separate "
               "arguments of `where()` / `filter()`.",
        "or": "Join the conditions with `or_(a, b)` or `a | b` (each side in parentheses).",
        "not": "Negate in SQL with `~(...)` or `not_(...)`.",
        "in": "Use `.in_(...)` / `.not_in(...)` for membership in a list, `.contains(...)` for a substring or an array.",
        "never": "Use `or_()` or `.in_((...))` where either value is meant; drop the stale condition otherwise.",
        "self": "Compare the column with the one it was meant to match (the other table's key, or an alias of the same "
                "model for a self-join).",
    }.get(kind, "Write the condition with SQLAlchemy's operators and functions, not Python's.")
    return (f"{how}" + (f" Here: {_code(fix)}." if fix and kind in ("is", "in") else "")
            + " Then check what the query returned so far: a test that runs it on rows that should and should not "
              "match would have caught it.")


@advises("CFG024")
def _nulls_last(s: Subject, message: str) -> str:
    column = _found(r"sorts by `([\w.]+)`", message, "the column")
    return (f"Say where NULL goes: `.desc().nulls_last()` (SQL: `DESC NULLS LAST`) on {_code(column)}, or leave the rows "
            "without a value out with `.is_not(None)` where they should never count as the latest. Where every row "
            "must have a value, make the column NOT NULL in a migration (after filling the old rows). A test that "
            "adds a row with NULL there beside one with a value shows which one the query returns.")


@advises("CFG019")
def _keep_the_new_query(s: Subject, message: str) -> str:
    name = _found(r"leaves `(\w+)` as it was", message, "query")
    method = _found(r"`(\w+)\(\)` returns a new query", message, "filter")
    return (f"Assign the result: `{name} = {name}.{method}(...)`. Query and Select methods return a new query; the "
            "one they are called on does not change.")


@advises("CFG021")
def _quote_the_password(s: Subject, message: str) -> str:
    value = _found(r"with `([^`]+)`", message, "password")
    scheme = _found(r"builds a `([^`]+)://`", message, "postgresql+asyncpg")
    single = re.fullmatch(r"\{([^{}]+)\}", scheme)  # the driver held in one value: `{settings.DB_DRIVER}`
    quoted = single.group(1) if single else f'f"{scheme}"' if "{" in scheme else f'"{scheme}"'
    return (f"Build the URL with `sqlalchemy.engine.URL.create({quoted}, username=..., password={value}, host=..., "
            "port=..., database=...)` and pass that object to the engine (it quotes each part); or splice in "
            f"`urllib.parse.quote_plus({value})` instead of `{value}`.")

# -- 2. models ----------------------------------------------------------------------------------


@advises("MOD001")
def _ulid_default(s: Subject, message: str) -> str:
    return f"Default {_code(s.where)} to a ULID-based UUID (python-ulid's `ULID().to_uuid()`) or a server-side UUIDv7 function."


@advises("MOD002")
def _server_default(s: Subject, message: str) -> str:
    if s.kind == "timestamps":  # the project's way, over several NOT NULL columns
        return ("If a script, a data migration or another service inserts into these tables, give the columns "
                "`server_default=func.now()`; if only this code writes them, nothing is missing.")
    updated = "updated" in s.column
    also = " and `onupdate=func.now()` (or a trigger)" if updated else ""
    if "says what it holds" in message:
        return (f"If {_code(s.where)} is this row's own time, give it `server_default=func.now()`{also}; if it holds "
                "another object's time, leave it without a default.")
    return f"Give {_code(s.where)} `server_default=func.now()`{also}, so rows written outside the ORM get it too."


@advises("MOD003")
def _unique_email(s: Subject, message: str) -> str:
    return (
        f"Make {_code(s.where)} unique and NOT NULL, compared case-insensitively: a unique index on "
        f"{_code(f'lower({s.column})')} or the CITEXT type."
    )


@advises("MOD004")
def _password_hash(s: Subject, message: str) -> str:
    return f"Store an argon2 or bcrypt hash (a `password_hash` column on {_code(s.owner)}) and drop {_code(s.where)}."


@advises("MOD008")
def _hash_token(s: Subject, message: str) -> str:
    return (f"Store a SHA-256 hash of the token in {_code(s.where)} (the token itself goes only to the client) and look "
            "rows up by the hash of what is presented.")


@advises("MOD010")
def _encrypt_credential(s: Subject, message: str) -> str:
    return (f"Encrypt {_code(s.where)} at rest (a TypeDecorator with a key kept outside the database, from a KMS), or keep "
            "the credential in a secrets store and store only its reference.")


@advises("MOD005")
def _encrypt_secret(s: Subject, message: str) -> str:
    return f"Encrypt {_code(s.where)} (a TypeDecorator with a key from a KMS), or keep it in a secrets store and reference it."


@advises("MOD006")
def _missing_fields(s: Subject, message: str) -> str:
    missing = _found(r" has no (.+)$", message)
    what = f" ({missing})" if missing else ""
    return f"Add what the checklist item asks for to {_code(s.owner)}{what} with a migration, or record in the review why it is not needed."


@advises("MOD007")
def _filter_deleted(s: Subject, message: str) -> str:
    cls = s.owner if s.kind == "model" else "the model"
    column = _found(r"soft deleted \((\w+)", message, "the soft-delete column")
    return (f"Filter {_code(column) if column != 'the soft-delete column' else column} in every query of {_code(cls)} that is not "
            "meant to see deleted rows, or once for all of them: a `do_orm_execute` listener that adds "
            f"`with_loader_criteria({cls}, ...)` for the live rows.")


# -- 3. migrations ------------------------------------------------------------------------------


@advises("MIG001")
def _downgrade(s: Subject, message: str) -> str:
    if s.kind == "migrations":  # one finding for a tree that does not write downgrades: a policy, not a revision
        return ("Say in the runbook how a failed deploy is undone (a backup restored, or a new revision), or write "
                "downgrades from now on: undo each upgrade's operations in reverse order.")
    return (
        f"Write the downgrade of revision {_code(s.owner)}: undo its operations in reverse order, or raise "
        "with a message saying why it cannot be undone."
    )


@advises("MIG002")
def _mirror(s: Subject, message: str) -> str:
    operation, table, target = (*s.rest, "", "", "")[:3]
    if operation == "drop_column" and table and target:
        add = _code(f'op.add_column("{table}", sa.Column("{target}", ...))')
        return f"In the downgrade of revision {_code(s.owner)}, add the column back: {add} with its old type and constraints."
    if operation == "drop_table" and table:
        return f"In the downgrade of revision {_code(s.owner)}, create {_code(table)} again as it was."
    if operation == "enum_type" and target:
        drop = _code(f'op.execute("DROP TYPE {target}")')
        return f"In the downgrade of revision {_code(s.owner)}, after dropping {_code(table)}, drop the type: {drop}."
    undone = f" ({operation} on {table})" if operation and table else ""
    return f"In the downgrade of revision {_code(s.owner)}, undo what the upgrade does{undone}."


@advises("MIG003")
def _merge_heads(s: Subject, message: str) -> str:
    heads = _found(r"\(([0-9A-Za-z_, ]+)\)", message)
    revisions = " ".join(h.strip() for h in heads.split(",")) if heads else "heads"
    merge = _code(f'alembic merge -m "merge heads" {revisions}')
    return f"Merge the heads in {_code(s.owner)}: {merge}, and commit the merge revision."


@advises("MIG004")
def _missing_parent(s: Subject, message: str) -> str:
    parent = s.rest[1] if len(s.rest) > 1 else "its parent"
    return f"Point `down_revision` of {_code(s.owner)} at its real parent (`alembic history` shows the chain), or restore the file of {_code(parent)}."


@advises("MIG005")
def _naming_convention(s: Subject, message: str) -> str:
    return (
        "Give the declarative base's MetaData a `naming_convention` (ix, uq, ck, fk, pk), so that constraint "
        "names are the same in every environment and migrations can drop them by name."
    )


@advises("MIG006")
def _drift(s: Subject, message: str) -> str:
    if s.owner in ("not-null", "nullable", "keys", "length") and s.rest:
        what = {"not-null": "the NULL-ness of its columns", "nullable": "the NULL-ness of its columns",
                "keys": "the indexes and unique constraints of the model", "length": "the model's lengths"}[s.owner]
        return (f"Decide which side is right for {_code(s.rest[0])}, then align the other: a revision that gives the table "
                f"{what} (`alembic revision --autogenerate`, reviewed), or the model changed to the table; run `alembic check` in CI.")
    if s.owner == "enum" and s.rest:
        found = re.search(r"has (.+?), which no migration adds to the database type (\w+)", message)
        labels, name = found.groups() if found else ("the labels", "the type")
        return (f"In a new revision, add {labels} to {_code(name)} (`op.execute(\"ALTER TYPE {name} ADD VALUE '...'\")`, "
                "inside `op.get_context().autocommit_block()` before PostgreSQL 12), or take them out of the model.")
    if s.owner == "type" and "." in ":".join(s.rest):
        return (f"Decide which type is right for {_code(s.rest[0])}, "
                "then align the other side: a revision that alters the column (`alter_column(..., type_=..., "
                "postgresql_using=...)`), or the model changed to the table; run `alembic check` in CI.")
    if s.owner in ("column", "tz", "unmapped") and "." in ":".join(s.rest):
        table, _, column = s.rest[0].partition(".")
        return (
            f"Generate a revision that brings {_code(f'{table}.{column}')} in line with the model "
            "(`alembic revision --autogenerate`), review it, and run `alembic check` in CI."
        )
    if s.owner == "pk" and s.rest:
        return (f"Make the model's primary key of {_code(s.rest[0])} the table's: list every column of the table's key with "
                "`primary_key=True` (or in `PrimaryKeyConstraint(...)` / `__mapper_args__`), or, where the model's key is the "
                "right one, a revision that drops the table's key and creates it over those columns "
                "(`op.drop_constraint(..., type_=\"primary\")`, then `op.create_primary_key(...)`). Alembic's autogenerate "
                "does not compare primary keys: a test that reflects the migrated table does.")
    if s.owner == "fk-actions" and s.rest:
        return (f"Decide which action is right for each foreign key of {_code(s.rest[0])}: a revision that drops and "
                "re-creates the key with the model's action (`op.drop_constraint`, then `op.create_foreign_key(..., "
                "ondelete=...)`), or the model's `ondelete=`/`onupdate=` changed to what the database does.")
    if s.owner == "table" and s.rest:
        return f"Generate a revision that creates {_code(s.rest[0])} (`alembic revision --autogenerate`), review it, and run `alembic check` in CI."
    return "Generate a revision for the model changes (`alembic revision --autogenerate`), review it, and run `alembic check` in CI."


def _revision(s: Subject) -> str:
    return f"revision {_code(s.owner)}" if s.kind == "migration" and s.owner else "the revision"


@advises("MIG024")
def _seeded_sequence(s: Subject, message: str) -> str:
    found = re.search(r"behind (\w+)\.(\w+)", message)
    table, key = found.groups() if found else (s.owner or "the table", "id")
    return (f"In a new revision, move the sequence past the seeded rows: `op.execute(\"SELECT setval(pg_get_serial_sequence("
            f"'{table}', '{key}'), (SELECT max({key}) FROM {table}))\")`; or seed without ids and look the rows up by a "
            "natural key.")


@advises("MIG007")
def _concurrent_index(s: Subject, message: str) -> str:
    kind, table, name = (*s.rest, "", "", "")[:3]
    block = _code("with op.get_context().autocommit_block():")
    if kind == "unique":
        return (f"In {_revision(s)}, build the unique index on {_code(table)} with `CREATE UNIQUE INDEX CONCURRENTLY` "
                f"inside {block}, then add the constraint {_code(name)} `USING INDEX`.")
    return (f"In {_revision(s)}, build {_code(name) if name and name != 'None' else 'the index'} on {_code(table or 'the table')} "
            f"with `postgresql_concurrently=True` inside {block}.")


@advises("MIG008")
def _autocommit(s: Subject, message: str) -> str:
    if s.rest[:1] == ("commit-midway",):
        return (f"In {_revision(s)}, drop the COMMIT and keep the steps in Alembic's transaction; put only a statement "
                "PostgreSQL refuses there (`ALTER TYPE ... ADD VALUE` before version 12, CONCURRENTLY) in "
                "`with op.get_context().autocommit_block():`, or in a revision of its own.")
    return (f"In {_revision(s)}, put the CONCURRENTLY statements inside "
            "`with op.get_context().autocommit_block():`, so that they run outside Alembic's transaction.")


@advises("MIG009")
def _server_default(s: Subject, message: str) -> str:
    column = s.rest[1] if len(s.rest) > 1 else "the column"
    return (f"In {_revision(s)}, give {_code(column)} a `server_default` (drop it in a later revision if the code always "
            "sets the value), or add it nullable, backfill it, and set NOT NULL afterwards.")


@advises("MIG010")
def _not_valid(s: Subject, message: str) -> str:
    kind = s.rest[0] if s.rest else ""
    where = ".".join(s.rest[1:]) if len(s.rest) > 1 else "the table"
    if kind == "set-not-null":
        return (f"In {_revision(s)}, add `CHECK ({where.split('.')[-1]} IS NOT NULL) NOT VALID`, validate it in a "
                f"later step, then set {_code(where)} NOT NULL (PostgreSQL 12+ then skips the scan).")
    if kind == "narrow":
        return f"If {_code(where)} is large, check the lengths first and narrow it in a quiet window, with a lock_timeout."
    return (f"In {_revision(s)}, add the constraint on {_code(s.rest[1] if len(s.rest) > 1 else 'the table')} `NOT VALID` "
            "(`postgresql_not_valid=True`), then `VALIDATE CONSTRAINT` in a later revision.")


@advises("MIG011")
def _rewrite(s: Subject, message: str) -> str:
    where = s.rest[1] if len(s.rest) > 1 else "the column"
    if s.rest and s.rest[0] == "volatile-default":
        return (f"In {_revision(s)}, add {_code(where)} without the default, set the default in a second step, "
                "and fill the existing rows in batches.")
    return (f"Instead of changing the type of {_code(where)} in place, add a new column, backfill it in batches, switch "
            "the code to it, and drop the old one in a later release.")


@advises("MIG012")
def _expand_contract(s: Subject, message: str) -> str:
    what = s.rest[1] if len(s.rest) > 1 else "the object"
    return (f"Make sure no running code uses {_code(what)} before {_revision(s)} deploys: stop using it in one release, "
            "drop or rename it in a later one (for a rename: add the new name, write both, then drop the old).")


@advises("MIG013")
def _backfill(s: Subject, message: str) -> str:
    table = s.rest[1] if len(s.rest) > 1 else "the table"
    return (f"Move the rewrite of {_code(table)} out of {_revision(s)} into a revision of its own (or a script run "
            "after the deploy), in batches.")


@advises("MIG014")
def _lock_timeout(s: Subject, message: str) -> str:
    return ("Set `lock_timeout` (`op.execute(\"SET lock_timeout = '5s'\")`) at the start of the revisions that alter "
            "existing tables, or once in env.py's `run_migrations_online`.")


@advises("MIG015")
def _own_drops(s: Subject, message: str) -> str:
    return (f"In the downgrade of {_revision(s)}, drop only what its upgrade created; leave in place what the earlier "
            "revision made (or recreate its definition).")


@advises("MIG016")
def _name_the_constraint(s: Subject, message: str) -> str:
    return ("Replace each `op.drop_constraint(None, ...)` with the constraint's real name (psql's `\\d table` shows it; "
            "PostgreSQL names an unnamed foreign key `<table>_<column>_fkey`), and give MetaData a naming convention.")


@advises("MIG017")
def _missing_object(s: Subject, message: str) -> str:
    what = s.rest[1].split(" ")[-1] if len(s.rest) > 1 else "what it changes"  # "column payment.legacy_ref"
    return (f"Add the revision that creates {_code(what)} before {_revision(s)}, or guard the step with IF EXISTS "
            "if both kinds of database must work.")


@advises("MIG018")
def _no_inspector(s: Subject, message: str) -> str:
    return (f"Make {_revision(s)} do the same on every database: a baseline revision (and `alembic stamp` for "
            "databases that already have it) instead of asking the inspector.")


@advises("MIG019")
def _no_models(s: Subject, message: str) -> str:
    return (f"In {_revision(s)}, describe the tables it needs with `sa.table(...)`/`sa.column(...)`, or use SQL, instead "
            "of importing the application's models.")


@advises("MIG022")
def _drops_twice(s: Subject, message: str) -> str:
    table = s.rest[-1] if s.rest else "the table"
    return (f"Drop {_code(table)} in one downgrade only: leave it out of {_revision(s)}'s downgrade, or recreate it in the "
            "newer revision's downgrade as that revision's upgrade found it.")


@advises("MIG023")
def _migrated_at_start_up(s: Subject, message: str) -> str:
    if s.owner == "create_all":
        return ("Build the schema with the migrations, once per deploy, rather than `create_all` as each process starts; "
                "where it must stay, hold `pg_advisory_lock` around it.")
    return ("Run the upgrade once per deploy, before the new processes start (a release step, an init container or job, "
            "or the entrypoint before the server), and take it out of the start-up; where the application must migrate "
            "itself, hold `pg_advisory_lock` around the upgrade.")


@advises("MIG021")
def _sqlalchemy_2(s: Subject, message: str) -> str:
    return (f"In {_revision(s) if s.kind == 'migration' else 'env.py'}, wrap SQL strings in `sa.text(...)` (values through "
            "`.bindparams()`), run statements on a connection instead of the engine, ask `sa.inspect(conn)` which tables "
            "exist, and call `sa.select(a, b)` without a list.")


@advises("MIG025")
def _alter_changes_nothing(s: Subject, message: str) -> str:
    column = (s.rest[-1] if s.rest else "").rpartition(".")[2] or "column"
    return (f"In {_revision(s)}, give the column's name as a string and the change as a keyword: "
            f"`alter_column(\"{column}\", existing_type=..., nullable=False)` (or `type_=`, `server_default=`); "
            "if the database already has the change, delete the call.")


@advises("MIG020")
def _env_imports_models(s: Subject, message: str) -> str:
    env, *modules = re.findall(r"[\w./-]+\.py", message) or ["env.py"]
    named = ", ".join(_code(m) for m in modules[:3]) + (" ..." if len(modules) > 3 else "") if modules else "the model modules"
    return (f"Make {_code(env)} import {named} before it reads the MetaData (a package whose `__init__` imports "
            "every model module, imported once from env.py), or keep the tables this environment does not own out of "
            "autogenerate with `include_object`.")


# -- 4. HIPAA -----------------------------------------------------------------------------------


@advises("HIP001")
def _soft_delete(s: Subject, message: str) -> str:
    return (
        f"Add a nullable `deleted_at` (timezone-aware) to {_code(s.owner)}, filter it out in queries, and "
        "revoke DELETE on it from the application's role."
    )


@advises("HIP002")
def _restrict(s: Subject, message: str) -> str:
    parent = _found(r"cascades deletes from (\w+)", message, "the parent")
    return f"Declare {_code(s.where)} with `ondelete=\"RESTRICT\"` and soft delete {_code(parent) if parent != 'the parent' else parent} instead."


@advises("HIP003")
def _inet(s: Subject, message: str) -> str:
    return f"Make {_code(s.where)} PostgreSQL's INET (`sqlalchemy.dialects.postgresql.INET`), with a migration that casts the existing values."


@advises("HIP004")
def _append_only(s: Subject, message: str) -> str:
    revoke = _code(f"REVOKE UPDATE, DELETE ON {s.owner} FROM <application role>")
    return f"Make {_code(s.owner)} append-only in a migration: {revoke} and a BEFORE UPDATE OR DELETE trigger that raises."


@advises("HIP005")
def _no_hard_delete(s: Subject, message: str) -> str:
    soft = _code(f"{s.owner}.deleted_at = func.now()")
    return f"Soft delete instead: set {soft} where it is now deleted."


@advises("HIP006")
def _consent_version(s: Subject, message: str) -> str:
    if s.rest[:1] == ("version-unique",):
        return f"Make the version of {_code(s.owner)} unique per document type, and never update a row once written."
    return f"Add a NOT NULL `version` to {_code(s.owner)}, unique per document type, and never update a row once written."


# -- 5. integrity -------------------------------------------------------------------------------


@advises("RACE001")
def _lost_update(s: Subject, message: str) -> str:
    m = re.search(r"writes (\w+)\.(\w+)", message)
    cls, column = (m.group(1), m.group(2)) if m else ("Model", "column")
    return (f"Let PostgreSQL compute the new value: `update({cls}).where({cls}.id == row.id).values({column}={cls}.{column} + 1)`, "
            f"or assign the expression `row.{column} = {cls}.{column} + 1`; where the code must decide from the old value "
            "first (a limit, a one-time code), load the row with `.with_for_update()` so that concurrent requests wait.")


@advises("RACE002")
def _next_number(s: Subject, message: str) -> str:
    key = _found(r"unique constraint over \(([\w, ]+)\)", message, "the numbering scope and the number")
    return (f"Add a unique constraint over ({key}) so that a second insert of the same number fails, and retry it "
            "with the next number; or number from a sequence, or from a counter row incremented in SQL "
            "(`UPDATE ... SET next = next + 1 RETURNING next`).")


@advises("RACE003")
def _consume_once(s: Subject, message: str) -> str:
    cls = s.rest[1] if len(s.rest) > 1 else "Model"  # function:<path>:<function>:<Class>:consumed
    key = _found(r"reads the row by (\w+)", message, "code")
    return (f"Consume it in one statement and act on what comes back: `delete({cls}).where({cls}.{key} == value)"
            f".returning({cls})` (no row: already used), or read it with `.with_for_update()` so that a second request "
            "waits and then finds it gone.")


@advises("RACE004")
def _guarded_transition(s: Subject, message: str) -> str:
    cls, _, column = (s.rest[1] if len(s.rest) > 1 else "Model.status").partition(".")  # ...:<Class>.<column>:check-then-act
    column = column or "status"
    return (f"Claim the row in one statement and go on only if it was yours: `update({cls}).where({cls}.id == row.id, "
            f"{cls}.{column} == old).values({column}=new)`, then check that its rowcount is 1; or load the row with "
            "`.with_for_update()` (`skip_locked=True` for a queue of jobs) so that a second request waits and sees the new value.")


@advises("INT001")
def _uuid_key(s: Subject, message: str) -> str:
    if s.kind == "keys":
        return "Move the tables to UUID primary keys with a ULID-based default, as the project's standard asks."
    return f"Make {_code(s.where)} a UUID primary key with a ULID-based default (`mapped_column(UUID(as_uuid=True), primary_key=True, default=...)`)."


@advises("INT002")
def _foreign_key(s: Subject, message: str) -> str:
    return f"Declare {_code(s.where)} with a `ForeignKey` to the table it refers to, with an explicit `ondelete`."


@advises("INT003")
def _one_primary(s: Subject, message: str) -> str:
    column = _found(r"partial unique index on (\w+)", message, "the owning column")
    predicate = _found(r" WHERE (.+?):", message, "the primary flag is set")
    return f"A partial unique index on {_code(s.owner)} ({_code(column)}) WHERE {predicate}."


@advises("INT004")
def _npi_unique(s: Subject, message: str) -> str:
    columns = _found(r"no unique \(([\w, ]+)\)", message)
    quoted = ", ".join(f'"{c.strip()}"' for c in columns.split(",")) if columns else ""
    constraint = _code(f"UniqueConstraint({quoted})") if quoted else "a unique constraint on the organization and the NPI"
    return f"Add {constraint} to {_code(s.owner)}."


@advises("INT005")
def _closed_values(s: Subject, message: str) -> str:
    column = _found(r": (\w+) \(", message) or s.column
    where = _code(f"{s.owner}.{column}") if column else _code(s.owner)
    return f"Limit {where} to its values: a PostgreSQL Enum type, or a CHECK constraint listing them."


@advises("INT006")
def _quoted_default(s: Subject, message: str) -> str:
    value = _found(r"server_default=(['\"].*?['\"])", message)
    expression = value.strip("'\"") if value else "..."
    where = f"{s.rest[0]}" if s.kind == "migration" and s.rest else s.where
    default = _code(f'server_default=text("{expression}")')
    return f"Write the default of {_code(where)} as SQL, not a string: {default}."


@advises("INT018")
def _index_named_like_column(s: Subject, message: str) -> str:
    name = s.rest[1] if len(s.rest) > 1 else "the index"
    listed = _found(r"lists (.+?) only", message, "its columns")
    pair = ", ".join(_code(f'"{c}"') for c in (name, *listed.split(", ")))
    return (f"If the key was meant over both, put a name of its own first: `Index(\"ix_{s.owner}_{name}\", ...)` over {pair}, "
            f"and in a new revision drop index {_code(name)} and create that one; if {listed} alone was meant, name the index "
            "after it so no reader takes the name for a column.")


@advises("INT019")
def _function_of_literal(s: Subject, message: str) -> str:
    text = _found(r"the string '(.+?)'", message, "...")
    kind, name = (*s.rest, "", "")[:2]
    where = f"{'index' if kind == 'index' else 'check constraint'} {_code(name)} on {_code(s.owner)}"
    column = text.split("::")[0]
    return (f"In {where}, write the whole function call as SQL, so that {_code(text)} is read as SQL and not as a string "
            f"(`sa.text(...)` around the call), or give the function the column itself (`sa.column(\"{column}\")` or the "
            "model's attribute); then check that the migrations build the same expression.")


@advises("INT020")
def _unknown_keyword(s: Subject, message: str) -> str:
    cls, key = (*s.rest[1:], "", "")[:2] if len(s.rest) >= 3 else ("the model", "")
    what = _code(key) if key else "the keyword"
    if "spreads" in message:
        return (f"Leave {what} out of what is spread into {_code(cls)} (`exclude={{\"{key}\"}}`), or drop the field from the "
                f"request schema, or add the column to {_code(cls)} with a migration if the value is meant to be stored.")
    return (f"Drop {what} from the call, or pass the attribute {_code(cls)} really has (its name in the class, not the "
            f"column's), or add the column to {_code(cls)} with a migration if the value is meant to be stored.")


@advises("INT007")
def _partial_index_predicate(s: Subject, message: str) -> str:
    index = s.rest[1] if len(s.rest) > 1 else "the index"
    predicate = _found(r"postgresql_where=\((.+?)\)", message)
    column = _found(r"^(\w+) is (?:not )?None$", predicate)
    negated = " is not None" in predicate
    if column:
        condition = f"{column} IS NOT NULL" if negated else f"{column} IS NULL"
        method = "isnot" if negated else "is_"
        fix = f"{_code(f'postgresql_where=text({condition!r})')}, or {_code(f'{column}.{method}(None)')} on the column object"
    else:
        fix = "`text(...)` or a column expression"
    return f"Write the predicate of {_code(index)} on {_code(s.owner)} as {fix}."


@advises("INT008")
def _partial_unique(s: Subject, message: str) -> str:
    if s.kind == "table":
        columns = s.rest[1] if len(s.rest) > 1 else ""
        return (f"Replace the unique constraint on {_code(s.owner)} ({columns.replace(',', ', ')}) with a partial unique "
                "index over the same columns `WHERE` the row is live, in the model and in a migration.")
    return ("Replace each listed unique constraint with a partial unique index over the same columns `WHERE` the row is "
            "live (the soft-delete column is NULL), in the models and in a migration.")


@advises("INT009")
def _set_null_nullable(s: Subject, message: str) -> str:
    return (f"Make {_code(s.where)} nullable if its rows should outlive the row it references, or change its foreign "
            "key to ON DELETE RESTRICT (or delete them with it) if they must not.")


@advises("INT010")
def _one_or_none(s: Subject, message: str) -> str:
    columns = _found(r"by ([\w, ]+), which", message)
    table = _found(r"index of (\w+) covers", message, "the table")
    return (f"Add a unique constraint (a partial unique index if rows are soft deleted) over {columns or 'the looked-up columns'} "
            f"of {_code(table) if table != 'the table' else table}, or fetch with `.first()` and an `order_by` if several rows are legitimate.")


@advises("INT012")
def _nulls_distinct(s: Subject, message: str) -> str:
    column = _found(r"rows whose (\w+) is NULL", message) or _found(r"a live row's (\w+) is NULL", message)
    others = _found(r"partial unique index on \(([\w, ]+)\)", message)
    if not column or not others:
        return ("Add a partial unique index over the key's other columns `WHERE` its nullable column `IS NULL` (or declare "
                "the key `NULLS NOT DISTINCT` on PostgreSQL 15+), in the model and in a migration.")
    return (f"Add a unique index on {_code(s.owner)} ({others}) `WHERE {column} IS NULL`, in the model and in a migration, so that rows "
            f"without {column} are kept unique too (or `NULLS NOT DISTINCT` on PostgreSQL 15+); find and merge the "
            "duplicates already there first.")


@advises("INT013")
def _check_then_insert(s: Subject, message: str) -> str:
    if "holds the duplicate out" in message:
        return ("Make the insert meet the key: `insert(...).on_conflict_do_nothing()` then select the row, or insert inside "
                "`session.begin_nested()` and on IntegrityError read the row the other request made.")
    columns = _found(r"covers \(([\w, ]+)\)", message, "the looked-up columns")
    return (f"Add a unique constraint over ({columns}) (a partial unique index if rows are soft deleted), and make the "
            "insert meet it: `INSERT ... ON CONFLICT DO NOTHING` then read the row, or catch IntegrityError and load the "
            "row the other request made.")


@advises("INT014")
def _no_primary_key(s: Subject, message: str) -> str:
    return (f"Add a primary key to {_code(s.owner)} in a migration (for a link table, over its two foreign keys; "
            "otherwise a surrogate key), after removing duplicate rows, and keep the model's mapping to the same columns.")


@advises("INT015")
def _case_folded_key(s: Subject, message: str) -> str:
    column = s.column or "the column"
    return (f"Make the database compare {s.where} as the code does: a unique index on `lower({column})` in the model and in a "
            f"migration (CONCURRENTLY on a large table; the plain unique key can then go), or a CITEXT column; merge the rows "
            f"that differ only in case first (`SELECT lower({column}), count(*) ... GROUP BY 1 HAVING count(*) > 1`).")


@advises("INT016")
def _sqlite_foreign_keys(s: Subject, message: str) -> str:
    return ("Issue `PRAGMA foreign_keys=ON` on every SQLite connection: an `@event.listens_for(engine, \"connect\")` listener "
            "that runs it on the DBAPI connection (the `sync_engine` of an async engine); then run `PRAGMA foreign_key_check` "
            "and clean up the orphans already there.")


@advises("INT017")
def _key_type(s: Subject, message: str) -> str:
    key = _found(r"references (\S+) but", message) or "the key it references"
    return (f"Give {_code(s.where)} the exact type of {_code(key)} (the same integer width, string length or UUID type) in a "
            "revision that alters the column, and in the model.")


@advises("INT011")
def _tests_on_postgres(s: Subject, message: str) -> str:
    return ("Run the tests that touch tenant data on PostgreSQL built by `alembic upgrade head` (a service container "
            "or testcontainers), connected as a role without BYPASSRLS, and keep SQLite only for tests that need neither.")


# -- 6. tenancy ---------------------------------------------------------------------------------


@advises("TEN001")
def _enable_rls(s: Subject, message: str) -> str:
    if s.kind == "tenancy":
        return (
            "Enable and force Row-Level Security on each tenant-scoped table in a migration, with a policy "
            f"comparing its tenant column with {_code(_TENANT_SETTING)}; or record how tenants are separated instead."
        )
    column = _tenant(message)
    enable, force = _code(f"ALTER TABLE {s.owner} ENABLE ROW LEVEL SECURITY"), _code(f"ALTER TABLE {s.owner} FORCE ROW LEVEL SECURITY")
    compared = _code(column) if column != "the tenant column" else column
    return f"In a migration: {enable}, {force}, and a policy on {_code(s.owner)} comparing {compared} with {_code(_TENANT_SETTING)}."


@advises("TEN002")
def _force_rls(s: Subject, message: str) -> str:
    force = _code(f"ALTER TABLE {s.owner} FORCE ROW LEVEL SECURITY;")
    return f"{force} in a migration, or connect as a role that does not own {_code(s.owner)}."


@advises("TEN003")
def _always_true(s: Subject, message: str) -> str:
    policy = s.rest[0] if s.rest else "the policy"
    return (
        f"Replace policy {_code(policy)} on {_code(s.owner)}: compare the row's tenant with {_code(_TENANT_SETTING)}, "
        "and give any bypass to an explicit admin role only."
    )


@advises("TEN004")
def _policy_tenant(s: Subject, message: str) -> str:
    policy = s.rest[0] if s.rest else "the policy"
    column = _tenant(message)
    shown = _code(f"{column} = {_TENANT_SETTING}::uuid") if column != "the tenant column" else f"a comparison of the tenant column with {_code(_TENANT_SETTING)}"
    return f"Add {shown} to policy {_code(policy)} on {_code(s.owner)}."


@advises("TEN005")
def _no_policy(s: Subject, message: str) -> str:
    return f"Create the policies of {_code(s.owner)} in the migration that enables its Row-Level Security."


@advises("TEN006")
def _phi_rls(s: Subject, message: str) -> str:
    return (
        f"Enable and force Row-Level Security on {_code(s.owner)} with a policy that reaches the tenant through "
        "the row's owner (an EXISTS over the table that links it to an organization)."
    )


@advises("TEN007")
def _super_admin(s: Subject, message: str) -> str:
    flag = _found(r"^(\w+\.\w+) exists", message)
    named = f" on {_code(flag)}" if flag else ""
    return f"Decide how platform owners reach tenant data: a policy clause{named} set only by audited admin endpoints, or a dedicated BYPASSRLS role."


@advises("TEN008")
def _setting_unread(s: Subject, message: str) -> str:
    return (f"Write the policy that should read {_code(s.owner)} (as RESTRICTIVE if every row must also match it), "
            "or stop setting it.")


@advises("TEN009")
def _setting_cast(s: Subject, message: str) -> str:
    setting = _found(r"held `([\w.]+)`", message, "app.current_tenant_id")
    nullif = f"NULLIF(current_setting('{setting}', true), '')"
    return (f"In revision {_code(s.owner)}, cast {_code(nullif)} "
            "instead of the setting itself, in every policy and function that reads it.")


@advises("TEN010")
def _policy_without_rls(s: Subject, message: str) -> str:
    return f"Run {_code(f'ALTER TABLE {s.owner} ENABLE ROW LEVEL SECURITY')} (and FORCE) in the migration that creates its policies."


@advises("TEN011")
def _permissive_policies(s: Subject, message: str) -> str:
    return (f"Decide whether every policy on {_code(s.owner)} should widen access; merge them into one, or create "
            "the one every row must also satisfy `AS RESTRICTIVE`.")


@advises("TEN012")
def _per_row_setting(s: Subject, message: str) -> str:
    return (f"In revision {_code(s.owner)}, write each `current_setting(...)` of the policies inside a scalar "
            "subquery, `(SELECT ...)`, so PostgreSQL evaluates it once per query.")


@advises("TEN013")
def _definer_search_path(s: Subject, message: str) -> str:
    return (f"Add `SET search_path = pg_catalog, public, pg_temp` to {_code(s.owner + '()')} (or an ALTER FUNCTION "
            "that sets it), and schema-qualify the tables it writes.")


@advises("TEN014")
def _append_only(s: Subject, message: str) -> str:
    return (f"Revoke UPDATE, DELETE and TRUNCATE on {_code(s.owner)} from the application's role, have another role "
            "own the table, and add a BEFORE TRUNCATE statement trigger.")


@advises("TEN016")
def _tenant_always(s: Subject, message: str) -> str:
    function = _code(s.rest[0]) if s.rest else "the function"  # function:<path>:<function>:<table>:tenant-optional
    param = _code(_found(r"only when `(\w+)` is given", message, "the tenant argument"))
    column = _found(r"\(table \w+\) by (\w+)", message, "the tenant column")
    return (f"In {function}, make {param} a required argument and filter by {column} on every path (or raise when it "
            "is None); give a read of every tenant that is meant (an admin's) a function of its own.")


@advises("MOD009")
def _default_uncalled(s: Subject, message: str) -> str:
    fix = _found(r"Pass the function itself \((`[^`]*`)\)", message, "the function itself")
    return f"Give {_code(s.where)} the function, not its result: {fix}; or `server_default=func.now()` for a timestamp."


@advises("TEN017")
def _key_and_tenant(s: Subject, message: str) -> str:
    function = _code(s.rest[0]) if s.rest else "the handler"  # function:<path>:<function>:<table>:key-alone
    column = _found(r"filters by (\w+) or compares", message, "the tenant column")
    return (f"In {function}, load the row by its id and the caller's tenant together (a filter on {column} beside the "
            f"id), or compare the loaded row's {column} with the caller's and answer 404 when they differ.")


@advises("TEN015")
def _audit_coverage(s: Subject, message: str) -> str:
    missing = _found(r"that hold health data \(([^)]*)\)", message)
    named = f" ({missing})" if missing else ""
    return f"Attach the audit trigger to every table that holds health data{named}, in a new migration."


# -- 7. relationships ---------------------------------------------------------------------------


@advises("REL001")
def _one_to_one(s: Subject, message: str) -> str:
    return f"Make {_code(s.where)} unique (`unique=True`, or a partial unique index if rows are soft deleted)."


@advises("REL002")
def _unique_pair(s: Subject, message: str) -> str:
    columns = _found(r"no unique \(([\w, ]+)\)", message)
    quoted = ", ".join(f'"{c.strip()}"' for c in columns.split(",")) if columns else ""
    constraint = _code(f"UniqueConstraint({quoted})") if quoted else "a unique constraint on the pair"
    return f"Add {constraint} to {_code(s.owner)} (a partial unique index if rows are soft deleted)."


@advises("REL003")
def _no_cascade_delete(s: Subject, message: str) -> str:
    return f"Give {_code(s.where)} `cascade=\"save-update, merge\"` and soft delete the children explicitly."


@advises("REL004")
def _unique_one_to_one(s: Subject, message: str) -> str:
    key = _found(r"(\w+\.\w+) \(", message, "its foreign key")
    if "Mapped[list" in message:
        return f"Annotate {_code(s.where)} as a list (`Mapped[list[...]]`): the rows it loads are many."
    return f"Make {_code(key) if key != 'its foreign key' else key} unique (a partial unique index if rows are soft deleted), or make {_code(s.where)} a collection."


@advises("REL005")
def _say_what_becomes_of_the_children(s: Subject, message: str) -> str:
    model = s.rest[-1] if s.rest else "the model"
    key = _found(r"(\w+\.\w+)(?: references it|, NOT NULL,| to NULL)", message)
    rows = f"the rows of {_code(key)}" if key else "the rows that reference it"
    return (f"Before {_code(s.owner)} deletes a {_code(model)}, say what becomes of {rows}: `ondelete=\"CASCADE\"` (with "
            "`passive_deletes=True`) or a `cascade=\"all, delete-orphan\"` relationship to delete them, `ondelete=\"SET NULL\"` "
            "on a nullable key to keep them, or delete or move them first in the same function.")


@advises("REL006")
def _let_the_children_go(s: Subject, message: str) -> str:
    where = _code(s.where)  # the anchor's Class.attr
    if "ON DELETE CASCADE" in message:
        return (f"Give {where} `passive_deletes=True` so the database's ON DELETE CASCADE deletes the children, or "
                "`cascade=\"all, delete-orphan\"` so the ORM does.")
    return (f"Give {where} `cascade=\"all, delete-orphan\"` if the children belong to the parent; otherwise delete or "
            "move them before the parent is deleted, or make their key nullable.")


@advises("REL007")
def _keep_shared_rows(s: Subject, message: str) -> str:
    return (f"Drop the delete from {_code(s.where)}'s cascade (leave it `save-update, merge`): the association rows go "
            "with the parent anyway; delete rows no parent links to any more apart, on purpose.")


@advises("REL008")
def _let_the_database_cascade(s: Subject, message: str) -> str:
    return (f"Give {_code(s.where)} `passive_deletes=True`: the ORM then leaves children it has not loaded to the "
            "database's ON DELETE CASCADE.")


# -- 8. performance -----------------------------------------------------------------------------


@advises("PERF001")
def _fk_index(s: Subject, message: str) -> str:
    if s.kind == "class":
        return f"Index {_code(s.where)} (`index=True`), or lead a composite index with it."
    create = _code(f"CREATE INDEX CONCURRENTLY ix_{s.owner}_{s.column} ON {s.owner} ({s.column})")
    if "that dbreview can show is" in message:  # no read by the key found: the key check is what it has to weigh
        return (f"If {_code(s.owner)} is large and its parent rows are deleted or re-keyed, index {_code(s.where)} "
                f"(`index=True`, or in a migration {create}); if not, an index only costs writes.")
    return f"Index {_code(s.where)}: `index=True`, or in a migration {create}."


@advises("PERF002")
def _gin(s: Subject, message: str) -> str:
    index = _code(f'Index("ix_{s.owner}_{s.column}", "{s.column}", postgresql_using="gin")')
    return f"If {_code(s.where)} is searched, {index} on {_code(s.owner)}."


@advises("PERF006")
def _drop_repeat(s: Subject, message: str) -> str:
    index = _found(r"^the index (\w+) \(", message, "the index")
    return (f"Drop {_code(index) if index != 'the index' else index} (`op.drop_index` in a migration, and `index=True` off the "
            f"model's column if it made it): the key's own index serves the same lookups.")


@advises("PERF003")
def _lazy(s: Subject, message: str) -> str:
    if s.kind == "function":  # a loop over a query's rows: function:<path>:<function>:<class>:n+1
        names = _found(r"reads (\S+(?:, \S+)*) on each row", message, "the relationships it reads")
        return (f"In {_code(s.rest[0]) if s.rest else 'the function'}, load {names} with the query the loop runs over: "
                "`.options(selectinload(...))` for a collection, `joinedload(...)` for a many-to-one.")
    return f"Load {_code(s.where)} with `lazy=\"selectin\"`, or `lazy=\"raise\"` and an explicit `selectinload()` where it is needed."


@advises("PERF004")
def _count_in_sql(s: Subject, message: str) -> str:
    function = _found(r"^(\w+) counts", message, "the function")
    return (f"In {_code(function) if function != 'the function' else function}, count in the database: "
            "`select(func.count()).select_from(...)` with the same filters, and `session.scalar()` it.")


@advises("PERF005")
def _eager_load(s: Subject, message: str) -> str:
    attr = _found(r"reads (\w+\.\w+)", message, "the relationship")
    return (f"Load {_code(attr) if attr != 'the relationship' else attr} with the query: `.options(selectinload(...))` on it; "
            "or set `lazy=\"selectin\"` (or `\"raise\"`, to find every such read) on the relationship.")


# -- 9. time ------------------------------------------------------------------------------------


@advises("TZ001")
def _timestamptz(s: Subject, message: str) -> str:
    if s.kind == "type":  # the project's UTC decorator over a naive type
        return (f"Give {_code(s.owner)} `impl = DateTime(timezone=True)` and let it bind aware values (no "
                "`.replace(tzinfo=None)`), converting its columns in a migration (`ALTER COLUMN ... TYPE timestamptz "
                "USING col AT TIME ZONE 'UTC'`); or keep naive UTC on purpose, say so where the schema is documented "
                "and set the database's TimeZone to UTC.")
    return f"Make {_code(s.where)} `DateTime(timezone=True)` (timestamptz), with a migration that converts the stored values."


@advises("TZ002")
def _aware_default(s: Subject, message: str) -> str:
    if "stores the server's local time" in message:
        return (f"Default {_code(s.where)} to naive UTC like the project's other timestamps (`datetime.utcnow`, or "
                "`datetime.now(timezone.utc).replace(tzinfo=None)`).")
    return f"Default {_code(s.where)} to `func.now()` on the server, or to `datetime.now(timezone.utc)` in Python."


@advises("TZ004")
def _one_clock(s: Subject, message: str) -> str:
    return (f"Make {_code(s.where)} `DateTime(timezone=True)` with a migration that converts the stored values, or give "
            "it naive UTC everywhere (convert to UTC, then `.replace(tzinfo=None)`), as its default does.")


@advises("TZ003")
def _timezone_field(s: Subject, message: str) -> str:
    return f"Add a `timezone` column to {_code(s.owner)} holding an IANA name (String(64)), with a default of UTC where one is needed."


# -- 10. billing --------------------------------------------------------------------------------


@advises("BIL001")
def _numeric(s: Subject, message: str) -> str:
    return f"Make {_code(s.where)} `Numeric(12, 2)` (or integer cents), with a migration that converts the values."


@advises("BIL002")
def _billing_columns(s: Subject, message: str) -> str:
    return f"Add a unique, nullable `stripe_customer_id` and a `subscription_status` with a CHECK to {_code(s.owner)}."


@advises("BIL003")
def _polymorphic(s: Subject, message: str) -> str:
    return (
        f"Limit {_code(s.where)} with a CHECK listing its owner types, or replace the pair with one nullable "
        f"foreign key per owner type on {_code(s.owner)} and a CHECK that exactly one is set."
    )


@advises("BIL004")
def _proxy_payer(s: Subject, message: str) -> str:
    return f"Add a nullable `managed_by_proxy_id` foreign key to {_code(s.owner)}."


@advises("BIL005")
def _overrides(s: Subject, message: str) -> str:
    return "Add a table of subscription overrides: owner, type (CHECK on its values), value, start, end, and who granted it."


@advises("BIL006")
def _numeric_precision(s: Subject, message: str) -> str:
    scale = _found(r"with scale (\w+)", message) or "2"
    return (f"Declare {_code(s.where)} with a precision as well (`Numeric(12, {scale})`), with a migration that "
            "alters the column to it (values then round to that scale).")


@advises("BIL007")
def _keep_financial_rows(s: Subject, message: str) -> str:
    if s.kind == "relationship":
        return (f"Drop the delete cascade from {_code(s.where)} (`cascade=\"save-update, merge\"`) and soft delete or "
                "anonymize the account instead of deleting it.")
    return (f"Make the foreign key of {_code(s.where)} `ondelete=\"RESTRICT\"` (SET NULL on a nullable key, with the "
            "payer's details kept on the row), and soft delete or anonymize the account instead.")


# -- the suppression comments themselves ------------------------------------------------------


@advises("SUP001")
def _unused_suppression(s: Subject, message: str) -> str:
    named = f" (it names {_code(s.owner)})" if s.owner not in ("", "*") else ""
    return f"Remove the comment{named}, or correct the rule it names so that it covers the finding it was written for."

