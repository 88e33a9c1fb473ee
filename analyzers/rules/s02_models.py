"""Section 2: SQLAlchemy Models (mixins, users and identity, the checklist's entities)."""

from __future__ import annotations

import ast
import re

from analyzers.findings import Finding, Severity
from analyzers.rules.base import Rule
from analyzers.facts.model import ColumnFact, Span, TableFact
from analyzers.rules.code_use import (
    app_queries, app_usage, central_filters, function_around, names_class, soft_delete_column, soft_delete_writes,
    universal_soft_delete, weighs_deleted,
)
from analyzers.rules.examples_common import HEADER, PATIENT
from analyzers.rules.mentions import mentions
from analyzers.rules.outside_writes import Note, column_note, inserts_without
from analyzers.rules.schema import (
    MFA_NAME, PASSWORD_COLUMN, column_anchor, column_sites, first_line, healthcare, is_test_path, is_tooling_path, key_lookup,
    migrated_column, python_paths, unique_keys_with, unique_over, where_declared,
)

_USERS = re.compile(r"^(users?|accounts?|app_users?)$")


class KeysNotUlid(Rule):
    """Primary keys are random UUIDs, not ULID-based.

    What it checks:
        UUID primary keys whose default is `uuid.uuid4` (or another random source) rather than a ULID
        converted to a UUID, as the UUID mixin of the checklist asks. Several such keys are one finding
        (the project's way of making keys), with each key as a related location.
    Why it matters:
        Random v4 keys scatter inserts across the whole B-tree index (page splits, cache misses) and
        carry no creation order; ULIDs keep keys sortable by time while still globally unique.
    Example:
        id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    Instead:
        `default=lambda: ULID().to_uuid()` (python-ulid), or a server-side ULID/UUIDv7 function.
    """

    ID = "MOD001"
    ITEM = "2.mixins.1"
    SEVERITY = Severity.INFO
    VALID = (HEADER + '''
from ulid import ULID
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=lambda: ULID().to_uuid())
''',)
    INVALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
''',)

    def check(self):
        sites = []
        for table, col in column_sites(self.facts):
            if not col.primary_key or col.type_name not in ("UUID", "Uuid", "GUID"):
                continue
            default = (col.default or "") + (col.server_default or "")
            if "ulid" in default.lower() or "uuid7" in default.lower() or "uuid_v7" in default.lower():
                continue
            if default:
                sites.append((table, col, default))
        if len(sites) == 1:
            table, col, default = sites[0]
            yield self.finding(
                f"{where_declared(table, col)} defaults to `{default}`: random keys, not ULID-based; inserts "
                "land all over the index and keys carry no time order",
                col.span, column_anchor(table, col),
            )
        elif sites:  # the project's way of making keys: one decision
            defaults = sorted({d for _, _, d in sites})
            yield self.grouped(
                f"{len(sites)} primary keys default to random UUIDs ({', '.join(f'`{d}`' for d in defaults[:3])}): "
                f"{', '.join(where_declared(t, c) for t, c, _ in sites[:4])}{', ...' if len(sites) > 4 else ''}; not "
                "ULID-based, so inserts land all over the index and keys carry no time order",
                [(c.span, column_anchor(t, c), where_declared(t, c)) for t, c, _ in sites], "keys:random-uuid",
            )


class TimestampWithoutServerDefault(Rule):
    """created_at / updated_at are filled by Python, not by the database.

    What it checks:
        `created_at` and `updated_at` columns without `server_default` (e.g. `func.now()`). A warning
        when the code inserts into the table outside the ORM without the column (an INSERT or COPY
        naming its columns, in the migrations or SQL strings, or `op.bulk_insert`; not a column list the code
        builds and splices in, `({columns})`, which dbreview does not read), shown as a related
        location: such a row gets NULL, or fails when the column is NOT NULL (the model's
        `nullable=False`, a non-Optional annotation, or the migrations, which win). Info when no such
        insert is in sight. Several NOT NULL ones with no such insert are one info for the project's way
        (an outside insert fails loudly, it stores no wrong time: a server default matters only to writers
        outside the code), each column a related location. A nullable `updated_at` with no insert-time default (NULL until the row is first
        updated, `onupdate=` or the code setting it) is left alone: an outside insert leaves it NULL as the ORM
        does. A column whose comment says it is NULL on purpose, or in so many words that
        it is not its row's time ("for the document, not this row"), is left alone; one whose comment
        only suggests it holds the time of something else ("for the document", "copied from the
        source") is info that quotes it. A created_at beside a column named for the row's collection or storage
        that the database stamps (`data_collection_date` with `server_default=now()`) is left alone: it is the time
        of what the row describes, copied from a source, and a default would be a wrong time. Inserts of a
        revision that runs before the one adding the column do not count (the column did not exist yet).
        A library mixin's column (oslo.db's `TimestampMixin`) is one finding that names the library and its tables.
        Where the migrations give the column a DEFAULT the model does not declare (`server_default=` in an op, a helper
        of another module it calls included, or `DEFAULT now()` in the SQL of a CREATE TABLE or ALTER TABLE ... ADD
        COLUMN; NOT NULL there counts too), one info per migration step that sets it (a loop over tables is one
        decision), saying whether autogenerate compares server defaults (`compare_server_default` in env.py) or only a schema built with create_all lacks it. A nullable
        `updated_at` filled by Python is left alone where the project's own mixin or base declares `updated_at`
        with no insert-time default: its way is NULL until the first update.
    Why it matters:
        Rows written by migrations, SQL scripts, triggers or another service get no timestamp (or a
        NOT NULL error), and each app server's clock decides the time.
    Example:
        created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=datetime.utcnow)
    Instead:
        `mapped_column(DateTime(timezone=True), server_default=func.now())`, and for `updated_at` also
        `onupdate=func.now()` or a trigger.
    """

    ID = "MOD002"
    ITEM = "2.mixins.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
''',)
    INVALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=datetime.utcnow)
''',)

    def check(self):
        loud: list[tuple[TableFact, ColumnFact, list[TableFact], list[ColumnFact], Note | None]] = []  # NOT NULL, no outside insert in sight
        quiet: list[tuple[Finding, TableFact, ColumnFact]] = []  # nullable, no outside insert in sight
        drift: dict[tuple[str, int], list[tuple[TableFact, ColumnFact, ColumnFact]]] = {}  # by the step that sets the default
        for table, col, tables in _sites(self.facts):
            if col.name not in ("created_at", "updated_at") or col.server_default:
                continue
            in_db = [c for c in (migrated_column(self.facts, t, col.name) for t in tables) if c is not None]
            if in_db and in_db[0].server_default:
                set_at = in_db[0].default_span or in_db[0].span
                drift.setdefault((set_at.path, set_at.start), []).append((table, col, in_db[0]))
                continue
            note = column_note(self.facts, col)
            if note is not None and (note.on_null or note.not_its_row):
                continue  # its comment says it is NULL on purpose, or holds another object's time: no default is missing
            if col.name == "created_at" and all(_row_time(self.facts, t, col) for t in tables):
                continue  # the database stamps the row in another column: this one copies a source's time (an issue's)
            if col.name == "updated_at" and not _not_null(col, in_db) and _null_until_updated(self.facts, col):
                continue  # the project's own updated_at elsewhere is NULL on insert: an outside insert does what it means
            if _not_null(col, in_db) and (note is None or not note.elsewhere) and not any(
                    inserts_without(self.facts, t.name, col.name) for t in tables):
                loud.append((table, col, tables, in_db, note))  # an outside insert would fail, not store a wrong time: the convention, once
                continue
            finding = self._missing(table, col, tables, in_db, note)
            if finding is not None and (note is None or not note.elsewhere) and not any(
                    inserts_without(self.facts, t.name, col.name) for t in tables):
                quiet.append((finding, table, col))  # NULL from an outside insert that none in sight makes
            elif finding is not None:
                yield finding
        for group in drift.values():
            yield self._drift(group)
        if len(quiet) >= 3:  # the project's way with nullable timestamps too: one decision, said once
            said = ", ".join(where_declared(t, c) for _, t, c in quiet[:4]) + (", ..." if len(quiet) > 4 else "")
            yield self.grouped(
                f"{len(quiet)} timestamp columns have no server_default and are filled by the application ({said}): the project's "
                "way. No insert outside the ORM that dbreview can read leaves one out (INSERT or COPY in the migrations or "
                "in SQL strings, op.bulk_insert); one from a script or another service would have to set them, or they "
                "stay NULL",
                [(c.span, column_anchor(t, c), where_declared(t, c)) for _, t, c in quiet], "timestamps:nullable-filled-by-the-app",
                severity=Severity.INFO,
            )
        else:
            yield from (f for f, _, _ in quiet)
        if len(loud) == 1:
            yield self._missing(*loud[0])
        elif loud:
            said = ", ".join(where_declared(t, c) for t, c, *_ in loud[:4]) + (", ..." if len(loud) > 4 else "")
            yield self.grouped(
                f"{len(loud)} NOT NULL timestamp columns have no server_default and are filled by the application "
                f"({said}): the project's way. An insert outside the ORM that leaves one out fails on NOT NULL rather "
                "than storing a wrong time, and no such insert is in sight (INSERT or COPY in the migrations or in SQL "
                "strings, op.bulk_insert); a server_default (func.now()) matters only if a script or another service "
                "writes these tables",
                [(c.span, column_anchor(t, c), where_declared(t, c)) for t, c, *_ in loud], "timestamps:filled-by-the-app",
                severity=Severity.INFO,
            )

    def _drift(self, group: list[tuple[TableFact, ColumnFact, ColumnFact]]):
        """The migrations give a DEFAULT the models do not declare: one finding per migration step that sets it
        (a loop over tables is one decision of the project), at its first column, the others related."""
        table, col, in_db = group[0]
        set_at = in_db.default_span or in_db.span
        names = [where_declared(t, c) for t, c, _ in group]
        said = names[0] if len(group) == 1 else f"{len(group)} columns ({', '.join(names[:4])}{', ...' if len(group) > 4 else ''})"
        them = "it" if len(group) == 1 else "them"
        message = (f"{said} {'has' if len(group) == 1 else 'have'} no server_default in the model, but the migration gives "
                   f"{them} DEFAULT {in_db.server_default} ({set_at.path}:{set_at.start}): the database fills {them}")
        if _compares_server_defaults(self.facts):
            message += f"; declare it on the model too, or autogenerate and create_all (tests) lose {them}"
        else:  # autogenerate leaves server defaults alone unless told to compare them: only create_all differs
            message += ("; autogenerate does not compare server defaults here (no compare_server_default in env.py), "
                        f"so only a schema built from the models (create_all) lacks {them}; the ORM fills "
                        f"{them} itself on every insert")
        return self.grouped(message, [(c.span, column_anchor(t, c), where_declared(t, c)) for t, c, _ in group],
                            column_anchor(table, col), severity=Severity.INFO)

    def _missing(self, table: TableFact, col: ColumnFact, tables: list[TableFact], in_db: list[ColumnFact], note: Note | None):
        default = col.default if col.default != "None" else None  # `default=None`: nothing filled, as with none
        filled = _filled_by(default) if default else "only where the code sets it"
        not_null = _not_null(col, in_db)
        if col.name == "updated_at" and not default and not not_null:
            return None  # NULL until the row is first updated, from the ORM as from any other insert: nothing differs
        fails = "fails on NOT NULL" if not_null else "stores NULL in it"
        said = f"{_declared(table, col, tables)} has no server_default: it is filled {filled}"
        if note is not None and note.elsewhere:
            return self.finding(
                f"{said}; its comment ({note.span.path}:{note.span.start}) says what it holds: \"{note.text[:120]}\". If it "
                "is this row's own time, an insert outside the ORM that leaves it out " + fails + "; if it holds another "
                "object's time, a server default would be wrong. dbreview does not judge which",
                col.span, column_anchor(table, col), severity=Severity.INFO, related=[(note.span, "the column's comment")],
            )
        writers = [w for t in tables for w in inserts_without(self.facts, t.name, col.name)]
        if writers:
            w = writers[0]
            return self.finding(
                f"{said}, and {w.what} at {w.span.path}:{w.span.start} names its columns without {col.name}: that "
                f"insert {fails}" + (f" ({len(writers) - 1} more such insert(s))" if len(writers) > 1 else ""),
                col.span, column_anchor(table, col), related=[(x.span, "inserts without it") for x in writers[:3]],
            )
        return self.finding(
            f"{said}; no insert outside the ORM that dbreview can read (INSERT or COPY in the migrations or in SQL "
            f"strings, op.bulk_insert) leaves it out, but one from a script or another service would have to set it, "
            f"or it {fails}",
            col.span, column_anchor(table, col), severity=Severity.INFO,
        )


def _sites(facts):
    """(table, column, the tables it is on) once per declaration: a library mixin's column (oslo.db's
    TimestampMixin) is placed on each model's class line, so it is merged here into one site, at its first table."""
    library: dict[tuple[str, str], list] = {}
    for table, col in column_sites(facts):
        if col.from_library:
            library.setdefault((col.from_library, col.attr or col.name), []).append((table, col))
            continue
        yield table, col, [t for t in facts.tables.values() if t.columns.get(col.name) is col] or [table]
    for sites in library.values():
        yield sites[0][0], sites[0][1], [t for t, _ in sites]


def _filled_by(default: str) -> str:
    """How a client-side default fills the column: a SQL expression (`func.now()`) is sent in SQLAlchemy's own
    INSERT and evaluated by the database, a callable runs in Python; neither is a DEFAULT in the table."""
    if "func." in default or default.startswith(("text(", "sa.text(", "literal_column(")):
        return f"by `{default}`, which SQLAlchemy writes into its own INSERTs (no DEFAULT in the table)"
    return f"by `{default}` in Python"


def _declared(table: TableFact, col: ColumnFact, tables: list[TableFact]) -> str:
    if not col.from_library:
        return where_declared(table, col)
    names = ", ".join(t.name for t in tables[:6]) + (", ..." if len(tables) > 6 else "")
    return f"{col.from_library}.{col.attr or col.name} (a library's mixin, on {len(tables)} table(s): {names})"


def _null_until_updated(facts, col: ColumnFact) -> bool:
    """Another updated_at of the project's own (a mixin, a base) has no insert-time default and may be NULL: the
    project's way is NULL until the row is first updated, so a raw insert that leaves this one NULL follows it."""
    return any(c is not col and c.name == "updated_at" and not c.from_library and c.declared_in != col.declared_in
               and t.class_name and c.declared_in != t.class_name and not c.default and not c.server_default
               and c.is_nullable for t, c in column_sites(facts))


def _compares_server_defaults(facts) -> bool:
    """An Alembic env.py of the project turns on compare_server_default (or there is none to tell)."""
    envs = [m.path for m in facts.modules if m.alembic_env]
    return not envs or any("compare_server_default" in line.partition("#")[0]
                           for path in envs for line in facts.lines(Span(path, 1, 1_000_000)))


_NOW = re.compile(r"\bnow\(|current_timestamp|localtimestamp|utc_timestamp|timezone\(", re.I)
# A column named for when the row was collected or stored, not for when what it describes happened.
_STAMP = re.compile(r"(^|_)(collect(ed|ion)?|insert(ed)?|ingest(ed)?|fetch(ed)?|import(ed)?|added|recorded|captured|stored|"
                    r"synced|scraped|harvested)(_|$)")


def _row_time(facts, table: TableFact, col: ColumnFact) -> ColumnFact | None:
    """Another timestamp column of the table, named for the row's collection or storage, that the database fills
    with the time of the insert (`data_collection_date` with server_default now()): the row's own time is kept
    there, so `col` holds the
    time of what the row describes (a GitHub issue's created_at, copied from the payload)."""
    for other in table.columns.values():
        if other is col or not _STAMP.search(other.name) or other.timezone is None:
            continue
        migrated = migrated_column(facts, table, other.name)
        if _NOW.search(other.server_default or (migrated.server_default if migrated else None) or ""):
            return other
    return None


def _not_null(col: ColumnFact, in_db: list[ColumnFact]) -> bool:
    """NOT NULL in the database: as the migrations make it, else as the model declares it."""
    if in_db:
        return all(c.nullable is False for c in in_db)
    return col.nullable is False or col.primary_key or (col.nullable is None and not col.implied_nullable)


_LOGIN_KEY = re.compile(r"^(username|user_name|login|handle|external_(auth_)?id|external_user_id|auth0_id|oidc_sub|sub|subject|keycloak_id|provider_user_id|idp_\w+)$")
class EmailNotUnique(Rule):
    """The user's email is not unique in the database.

    What it checks:
        `email` on the users table with neither `unique=True`, a unique index nor a unique constraint
        (one over several columns, `(org_id, email)`, is unique per organization by design).
        A warning when users sign in here (a password is stored), no other unique column (username,
        an identity provider's subject) is the login key, and the code does not pick users by such a key
        (`User.username == x`, unique or not) while never looking them up by email (a query filtering on it,
        `User.email == x`, `filter_by(email=...)`, SQL's `email = :email`); info otherwise: sign-in is delegated or keyed
        on something else, so two rows sharing an address is a data-quality matter, not a login one. None
        where users are rows per parent (a unique key over a foreign key and another column,
        `(application_instance_id, user_id)`) and no password is stored: one person has a row per
        installation or tenant by design.
    Why it matters:
        Email is the login identifier: two accounts with one address (a double submit, a race in
        sign-up) make login and password reset ambiguous.
    Example:
        email: Mapped[str] = mapped_column(String(255), index=True)
    Instead:
        `mapped_column(String(255), unique=True, nullable=False)` (and compare case-insensitively:
        a unique index on `lower(email)` or the CITEXT type).
    """

    ID = "MOD003"
    ITEM = "2.users.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
''',)
    INVALID = (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
''',)

    def check(self):
        for table in self.facts.tables.values():
            col = table.columns.get("email")
            if not _USERS.match(table.name) or col is None or col.unique:
                continue
            if unique_over(self.facts, table, ("email",), exact=False):
                continue  # unique alone, as lower(email), or within a scope by design ((org_id, email))
            keys = [c.name for c in table.columns.values()
                    if _LOGIN_KEY.search(c.name) and (c.unique or unique_over(self.facts, table, (c.name,)))]
            password = any(PASSWORD_COLUMN.search(c) for c in table.columns)
            if not password and _rows_per_scope(self.facts, table):
                continue  # one row per installation or tenant by design: the same address on several rows is expected
            shared = "so two rows may share an address (the checklist asks for unique email)"
            if keys:
                why, severity = f"; {keys[0]} is the unique key users are found by, {shared}", Severity.INFO
            elif password and (other := _found_by_other(self.facts, table)) is not None:
                why, severity = (f"; the code looks rows of {table.name} up by {other[0]} ({other[1].path}:{other[1].start}) and "
                                 f"never by email, {shared}"), Severity.INFO
            elif not password:
                why, severity = f"; {table.name} stores no password (sign-in is elsewhere), {shared}", Severity.INFO
            else:
                why, severity = " and users sign in with a password here: two accounts can share one login address", None
            yield self.finding(f"{table.name}.email is not unique in the database{why}", col.span,
                               f"table:{table.name}.email", severity=severity)


# A lookup by the address: `User.email == x`, `x == user.email`, filter_by(email=...), `.email.ilike(...)`, or SQL's
# `email = :email` / `email = %s`.
_BY_EMAIL = re.compile(r"\.email\s*==|==\s*[\w.()]*\bemail\b|\bfilter_by\([^)]*\bemail\s*=|\.email\.(?:i?like|in_|is_)\(|"
                       r"\bemail\s*(?:=|IN)\s*(?:[:%?$]|\()", re.I)


def _found_by_other(facts, table: TableFact) -> tuple[str, Span] | None:
    """The login key (username, external_id: _LOGIN_KEY) by which a query of the application picks a row of the
    table, and that query, when the application never looks one up by email (no query of the table filters on it,
    no line of its code tests an email against a value); None when it does, or when no query picks one by such a key."""
    other = None
    for q, t in app_queries(facts):
        if t is not table:
            continue
        tested = {a.rpartition(".")[2] for a in (*q.filtered, *q.equals)}
        if "email" in tested:
            return None
        picked = sorted(c for c in tested if c in table.columns and _LOGIN_KEY.search(c)
                        and c in {a.rpartition(".")[2] for a in q.equals})
        other = other or (picked and (picked[0], q.span)) or None
    if other is None or any(_BY_EMAIL.search(line.partition("#")[0]) for span, line in mentions(facts, {"email"})["email"]
                            if not is_test_path(span.path)):
        return None
    return other


def _rows_per_scope(facts, table: TableFact) -> bool:
    """A unique key over a foreign key and another column (`(application_instance_id, user_id)`): a user is a row
    per parent (an installation, a tenant), not a person of the whole application."""
    return any(len(key) >= 2 for c in table.columns.values() if c.foreign_keys
               for key in unique_keys_with(facts, table, c.name))


class PlaintextPassword(Rule):
    """A password column that does not look like a hash.

    What it checks:
        Text columns named `password`, `passwd`, `pwd` or `*_password` (not `password_hash`,
        `hashed_password`). A `@validates` hook on the column in a class that hashes (bcrypt, argon2,
        passlib), a property or synonym whose setter hashes, or a `before_insert`/`before_update` listener
        that hashes, hashes every ORM write: no finding (the name alone is cosmetic); but a setter whose only
        hashing is one of hashlib's fast digests (`sha256()`, salted or not, through a method of the class such as
        `self._hash(...)`) is a warning that names the digest. When a method of the
        class hashes, or the code hashes passwords anywhere else (a service), the writes to the column are
        followed (`User(password=...)`, `self.password = ...` in its methods, `user.password = ...`): a
        value hashed on the way (`hash_password(...)`), or a field of a typed input whose validator hashes it
        (`user_in.password`, `user_in: UserCreate` with a `@field_validator("password")` that hashes), is
        hashed, and so is a value stored raw only when empty (`if password: stored = encrypt(password)`). Every
        write found hashed (a constructor that stores what a generic `Model(**data)` gives it aside): no
        finding. Otherwise info that names the writes that do not hash in sight and what could not be
        followed (a method storing the value its callers give); with no write found, info: check that every
        write goes through the hashing. A password the code reads back to hand on, with no write that hashes it,
        is a credential used in clear and no finding: the value of a keyword or dict entry read from an object
        named like the model (`"password": fetch.password`) or by its own compound name
        (`settings["smtp_password"]`), not on a line that hashes, checks or verifies; or a marshmallow field of
        that name, not load_only, in a schema module named like the model (served to clients). With no hashing in
        sight, a value of that name the code encrypts (`fernet.encrypt(auth["password"])`) is a credential for
        another system kept reversibly: info. A static reader cannot see everything that is written, so it never claims
        more than a warning: no hashing anywhere in sight.
    Why it matters:
        A plaintext (or reversibly stored) password exposes every user, and their reuse of it
        elsewhere, to anyone who reads the table or a backup.
    Example:
        password: Mapped[str] = mapped_column(String(128))
    Instead:
        Store `password_hash` from argon2/bcrypt and never the password itself.
    """

    ID = "MOD004"
    ITEM = "2.users.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
''',)
    INVALID = (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    password: Mapped[str] = mapped_column(String(128))
''',)
    VALID = VALID + (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    change_password: Mapped[bool] = mapped_column(default=False)
''',)
    NAMES = re.compile(r"^(password|passwd|pwd|pass|\w+_password)$")

    TEXT = ("String", "Text", "VARCHAR", "Unicode", "UnicodeText", "CHAR", "LargeBinary", "str", None)

    def check(self):
        validated = {(c.name, v) for m in self.facts.modules for c in m.classes for v in c.validated}
        hashing = {c.name for m in self.facts.modules for c in m.classes if c.hashes_passwords}
        on_set = {(c.name, a) for m in self.facts.modules for c in m.classes for a in c.hashed_on_set}
        fast = {c.name: c.fast_digest for m in self.facts.modules for c in m.classes if c.fast_digest}
        on_flush = {l.target.rpartition(".")[2] for l in self.facts.listeners if l.hashes and l.event in ("before_insert", "before_update")}
        elsewhere = [c for c in self.facts.calls if c.name == "password-hashing" and not is_test_path(c.span.path)]
        # a call in a function named for passwords first, then one that hashes, then the set-up (CryptContext)
        elsewhere.sort(key=lambda c: (not _PASSWORD_FUNCTION.search(c.function or ""), (c.target or "").endswith("CryptContext")))
        digests = [c for c in self.facts.calls if c.name == "password-digest" and not is_test_path(c.span.path)]
        for table, col in column_sites(self.facts):
            if not self.NAMES.match(col.name) or "hash" in col.name or "Encrypt" in (col.type_name or ""):
                continue
            if col.type_name not in self.TEXT:
                continue  # change_password = Column(Boolean): a flag, not a password
            if (col.declared_in, col.attr or col.name) in validated and col.declared_in in hashing:
                continue  # a @validates hook of a class that hashes: every ORM write is hashed on the way in
            if (col.declared_in, col.attr or col.name) in on_set and col.declared_in in fast:
                yield self.finding(
                    f"{where_declared(table, col)} is hashed on every write by a setter of {col.declared_in}, but with "
                    f"`{fast[col.declared_in]}()`, a fast digest (a salt does not slow it): a leaked table's passwords "
                    "can be guessed at billions a second on one GPU",
                    col.span, column_anchor(table, col),
                )
                continue
            if (col.declared_in, col.attr or col.name) in on_set or col.declared_in in on_flush:
                continue  # a setter that hashes, or a before_insert/before_update listener: every ORM write hashed
            somewhere = elsewhere or (col.declared_in, col.attr or col.name) in validated or col.declared_in in hashing
            # followed even with no hashing of passwords in sight: an outbound credential encrypted on the way
            hashed, open_, plain = followed_writes(self.facts, table, col)
            if not hashed and col.declared_in not in hashing and handed_on(self.facts, table, col, [*open_, *plain]):
                continue  # read back and given to another service or to clients: a credential used in clear, no hash
            if not somewhere and not hashed:
                open_, plain = [], []  # no hashing anywhere: the warning below says so
            if hashed and not plain and all(w.function == "__init__" and w.value == "param" for w in open_):
                # every write found hashes on the way (directly, or through the validators of its input); a
                # constructor that stores what it is given, called only through **kwargs (a generic repository's
                # `Model(**data)`), is no writer of its own: its callers are those writes, or unseen
                continue
            if hashed or plain:  # what the writes found do; with only unfollowed ones, the general hint below
                yield self.finding(_writers_said(table, col, hashed, open_, plain), col.span, column_anchor(table, col),
                                   severity=Severity.INFO, related=[(w.span, w.function) for w in (plain + hashed)[:6]])
                continue
            if (col.declared_in, col.attr or col.name) in validated or col.declared_in in hashing:
                how = "a @validates hook transforms it on the way in" if col.declared_in not in hashing else (
                    "a method of the class hashes passwords")
                yield self.finding(
                    f"{where_declared(table, col)} is named like a password; {how}: a write that does not go through "
                    "it (a bulk update, raw SQL, an import) stores the value as given: check the writers",
                    col.span, column_anchor(table, col), severity=Severity.INFO,
                )
                continue
            if elsewhere:
                yield self.finding(
                    f"{where_declared(table, col)} is named like a password; the code hashes passwords elsewhere "
                    f"(`{elsewhere[0].target}` in {elsewhere[0].span.path}:{elsewhere[0].span.start}): check that every "
                    "write to this column goes through it",
                    col.span, column_anchor(table, col), severity=Severity.INFO,
                    related=[(c.span, c.target or "") for c in elsewhere[:5]],
                )
                continue
            if digests:
                yield self.finding(
                    f"{where_declared(table, col)} is named like a password, and the only hashing of passwords in the code "
                    f"is `{digests[0].target}()` ({digests[0].span.path}:{digests[0].span.start}), a fast digest (a salt "
                    "does not slow it): a leaked table's passwords can be guessed at billions a second on one GPU; "
                    "bcrypt, scrypt or argon2 are made slow for this",
                    col.span, column_anchor(table, col), related=[(c.span, c.target or "") for c in digests[:5]],
                )
                continue
            encrypted = encrypted_at(self.facts, col.attr or col.name)
            if encrypted is not None:  # a credential for another system, kept reversibly: MOD010's, not a hash's
                yield self.finding(
                    f"{where_declared(table, col)} is named like a password; no password hashing shows anywhere in the "
                    f"code, but the code encrypts a value it names so ({encrypted.path}:{encrypted.start}): a credential "
                    "the application presents to another system is kept encrypted, not hashed: check that every write "
                    "of it goes through that", col.span, column_anchor(table, col), severity=Severity.INFO,
                )
                continue
            yield self.finding(
                f"{where_declared(table, col)} is named like a password and no password hashing (bcrypt, argon2, "
                "passlib ...) shows anywhere in the code: check what is written to it",
                col.span, column_anchor(table, col),
            )


# A line that encrypts or decrypts (or hands the value to a vault): the application may keep it encrypted.
_PASSWORD_FUNCTION = re.compile(r"pass(word)?|pwd", re.I)
_ENCRYPTS = re.compile(r"encrypt|decrypt|fernet|cipher|crypto|kms|vault|seal|secretbox|aes", re.I)


def encrypted_at(facts, attr: str) -> Span | None:
    """Where application code that names `attr` encrypts or decrypts it (on that line or the one before: a call
    written over two lines, `fernet.encrypt(\n auth["password"].encode())`); None where none does."""
    for span, line in mentions(facts, {attr})[attr]:
        if is_test_path(span.path):
            continue
        window = " ".join(line.partition("#")[0] for line in facts.lines(Span(span.path, max(span.start - 1, 1), span.start)))
        if _ENCRYPTS.search(window):
            return span
    return None


def handed_on(facts, table: TableFact, col: ColumnFact, writes=(), served: bool = True) -> Span | None:
    """Where the code reads the column back to hand it on: the value of a keyword or dict entry read from an object
    named like the model (`"password": fetch.password`), or by its own compound name (`get_settings()["smtp_password"]`),
    not to check it (no hash, check or verify on the line); or a marshmallow field of that name, not load_only, in a
    schema module named like the model (served to clients; not with `served=False`). A secret the application must use
    in clear. The lines of `writes` (`User(password=user_in.password)`) store it: no hand-on."""
    stores = {(w.span.path, line) for w in writes for line in range(w.span.start, w.span.end + 1)}
    attr, cls = col.attr or col.name, table.class_name or table.name
    read = re.compile(rf"""(?:\b\w+\s*=(?!=)|['"]\w+['"]\s*:)\s*(?:(\w+)\.{re.escape(attr)}\b(?!\s*\()|"""
                      rf"""[\w.()]*\[\s*['"]{re.escape(col.name)}['"]\s*\])""")
    field = re.compile(rf"\s*{re.escape(attr)}\s*=\s*(?:\w+\.)?fields\.\w+\((?!.*load_only\s*=\s*True)")
    for span, line in mentions(facts, {attr})[attr]:
        code = line.partition("#")[0]
        if is_test_path(span.path) or is_tooling_path(span.path) or re.search(r"hash|check|verify", code, re.I) \
                or (span.path, span.start) in stores:
            continue
        m = read.search(code)
        if m is not None and (names_class(m.group(1), cls) if m.group(1) else "_" in col.name):
            return span
        stem = span.path.rpartition("/")[2].removesuffix(".py")
        if served and field.match(code) and names_class(stem, cls):
            return span
    return None


def followed_writes(facts, table: TableFact, col: ColumnFact):
    """The writes of the code into the column (analyzers/facts/password_writes.py), followed as far as the code
    tells: (hashed, what could not be followed, what stores a value not hashed in sight). A write is the
    column's when it calls the model's class with the attribute (`User(password=...)`), sets it in a method
    of the class (`self.password = ...`), or on an object named like the class (`user.password`, `new_user.password`,
    `user_creds_ref.password`)."""
    cls, attr = table.class_name or "", col.attr or col.name
    noun = re.sub(r"(?<!^)(?=[A-Z])", "_", cls).lower().rsplit("_", 1)[-1]

    def named_so(target: str) -> bool:  # `new_user`, `newuser`, `user_creds_ref` (a word of it)
        name = target.rsplit(".", 1)[-1]
        return name.endswith(noun) or noun in name.split("_")

    writes = [w for m in facts.modules if not is_test_path(m.path) for w in m.password_writes
              if w.attr == attr and (w.target == cls or (w.target == "self" and w.owner == cls)
                                      or (w.target != "self" and named_so(w.target)))]
    validators = {c.name: set(c.hashed_fields) for m in facts.modules for c in m.classes}
    constructed = any(w.target == cls for w in writes)
    # the class's own __init__ hashes what it is given, itself or through a method of the class that hashes
    # (`self.assign_password(passwd)`): every `User(password=...)` goes through it
    hashing_methods = {"__init__"} | {w.function for w in writes if w.owner == cls and w.target == "self" and w.value == "hashed"}
    init_hashes = any(w.function == "__init__" and w.owner == cls and w.target == "self" and w.value == "hashed" for w in writes) \
        or any(p.function == "__init__" and p.owner == cls and p.callee in hashing_methods
               for m in facts.modules if not is_test_path(m.path) for p in m.password_passes)
    hashed, open_, plain = [], [], []
    for w in writes:
        if w.value in ("constant", "derived"):
            continue  # a fixed marker ("!", "OIDC": no password to sign in with), None, or the stored value changed
        if w.target == cls and init_hashes:
            hashed.append(w)
            continue
        if w.value == "param" and w.signature is not None and _callers_hash(facts, w.function, w.owner, w.signature, w.detail):
            hashed.append(w)  # a setter whose every caller hands it a hash
            continue
        if w.value == "field":
            classes, _, field_name = w.detail.rpartition(".")
            if all(field_name in validators.get(c, ()) for c in classes.split("|")):
                hashed.append(w)
            else:
                plain.append(w)
        elif w.value == "param":
            if not (w.function == "__init__" and w.owner == cls and constructed):
                open_.append(w)  # the constructor's own assignment: its calls were read as writes already
        elif w.value == "rehash":
            open_.append(w)  # it hashes what is already there: what stored the raw value was not found
        else:
            (hashed if w.value == "hashed" else plain).append(w)
    return hashed, open_, plain


def _callers_hash(facts, function: str, owner: str, signature, param: str, seen: frozenset = frozenset()) -> bool:
    """Does every call of the setter `function` (by its name, where the call's arguments fit its signature) pass
    it a hash or a fixed marker for `param`, following a caller that passes on its own parameter to its callers
    (three deep)? False when no call is found or one passes something else."""
    seen = seen | {(owner, function)}
    calls = 0
    for m in facts.modules:
        if is_test_path(m.path):
            continue
        for call in m.password_passes:
            if call.callee != function:
                continue
            given = signature.argument(param, call.args, {k: (v, d) for k, v, d in call.keywords})
            if given is None:
                continue  # another function of the same name: its signature does not take this call
            value, detail = given
            if value == "param" and len(seen) < 4 and (call.owner, call.function) not in seen:
                if not _callers_hash(facts, call.function, call.owner, call.signature, detail, seen):
                    return False
            elif value not in ("hashed", "constant"):
                return False
            calls += 1
    return calls > 0


def _writers_said(table: TableFact, col: ColumnFact, hashed, open_, plain) -> str:
    def at(ws):
        return ", ".join(f"{w.function} ({w.span.path}:{w.span.start})" for w in ws[:3]) + (
            f" and {len(ws) - 3} more" if len(ws) > 3 else "")
    said = f"{where_declared(table, col)} is named like a password; "
    if plain:
        said += f"{'this write stores' if len(plain) == 1 else 'these writes store'} a value dbreview does not see hashed: {at(plain)}"
        said += f" (the writes by {at(hashed)} hash it)" if hashed else ""
    else:
        said = (f"{where_declared(table, col)} is named like a password, and no write dbreview read stores one unhashed: "
                f"the writes it could follow hash it ({at(hashed)})")
    if open_:
        said += "; " if plain else f"; it could not follow {'this writer' if len(open_) == 1 else 'these writers'}: "
        said += "; ".join(
            f"no call `{table.class_name}({col.attr or col.name}=...)` was found, so what {w.function} "
            f"({w.span.path}:{w.span.start}) stores from its callers is not followed"
            if w.function == "__init__" else
            f"{w.function} ({w.span.path}:{w.span.start}) hashes the value already in {col.attr or col.name}, which some "
            "other write stored raw first"
            if w.value == "rehash" else
            f"{w.function} ({w.span.path}:{w.span.start}) stores the `{w.detail}` it is given, from callers dbreview did not follow"
            for w in open_[:3])
    return said + (": check that writer" if len(open_) == 1 and not plain else ": check those writers")


class PlaintextSecret(Rule):
    """An MFA (TOTP) secret is stored as plain text.

    What it checks:
        `mfa_secret`, `totp_secret`, `otp_secret` (`email_otp_secret`, `totp_secret_base32`, `mfa_seed`) columns
        of a plain String/Text/LargeBinary type (not an encrypted type); not other secret keys (a PGP key,
        an API key's secret), which are not second factors. A warning where the schema holds patients
        (health data, the checklist's setting); elsewhere info: whether a TOTP seed needs encryption at
        rest is the application's threat-model call, which the message says. Where the application's code
        encrypts MFA secrets (a call of an encrypting function, or with `encrypt=True`, in a function or class
        named for TOTP/MFA), info: check that every write goes through it.
    Why it matters:
        Whoever reads the table (a backup, a replica, a SQL injection) can generate valid second
        factors for every user. A static reader cannot see encryption done before the value reaches
        the column: check that.
    Example:
        mfa_secret: Mapped[str | None] = mapped_column(String(64))
    Instead:
        Encrypt it (an `EncryptedType`/TypeDecorator with a key from a KMS), or keep it in a secrets
        store and reference it.
    """

    ID = "MOD005"
    ITEM = "2.users.3"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    mfa_secret: Mapped[str | None] = mapped_column(EncryptedString(255))
''',)
    INVALID = (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    mfa_secret: Mapped[str | None] = mapped_column(String(64))
''',)
    # A second factor's seed by its name; `pgp_secret_key` or `api_secret_key` are keys of another kind.
    NAMES = re.compile(r"(mfa|totp|(^|_)otp|2fa|two_factor)_(secret|seed)")

    def check(self):
        health = healthcare(self.facts)
        encrypts: Span | None | bool = False  # where the code encrypts MFA secrets; False: not looked for yet
        for table, col in column_sites(self.facts):
            if self.NAMES.search(col.name) and col.type_name in ("String", "Text", "VARCHAR", "Unicode", "CHAR", "LargeBinary"):
                if encrypts is False:
                    encrypts = _mfa_encryption(self.facts)
                if encrypts:
                    yield self.finding(
                        f"{where_declared(table, col)} is a plain {col.type_name}, and the application encrypts MFA "
                        f"secrets in code ({encrypts.path}:{encrypts.start}): check that every write to it goes through "
                        "that, or the secret sits readable in the table",
                        col.span, column_anchor(table, col), severity=Severity.INFO, related=[(encrypts, "encrypts")],
                    )
                    continue
                yield self.finding(
                    f"{where_declared(table, col)} is a plain {col.type_name}: the MFA secret sits readable in the "
                    "table unless the application encrypts it before writing (check)" + (
                        "; the schema holds patients, whose accounts a minted second factor opens" if health else
                        "; whoever reads the table (a backup, a replica) can mint second factors, and whether the seeds "
                        "need encryption at rest is the application's threat-model call"),
                    col.span, column_anchor(table, col), severity=None if health else Severity.INFO,
                )


_MFA_WORDS = re.compile(r"totp|mfa|otp|2fa|two_?factor", re.I)
_ENCRYPTING = re.compile(r"encrypt\w*\(|encrypt\s*=\s*True")


def _mfa_encryption(facts) -> Span | None:
    """Where the application's own code encrypts an MFA secret: in a function or class named for TOTP/MFA, a call
    of an encrypting function or with `encrypt=True` (passlib's `TOTP.new().to_json(encrypt=True)`)."""
    for path in python_paths(facts):
        if is_test_path(path):
            continue
        lines = facts.lines(Span(path, 1, 10_000_000))
        if not any(_ENCRYPTING.search(line) for line in lines):
            continue
        try:
            tree = ast.parse("\n".join(lines))
        except (SyntaxError, ValueError, RecursionError):
            continue
        for scope in ast.walk(tree):
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _MFA_WORDS.search(scope.name):
                call = next((n for n in ast.walk(scope) if isinstance(n, ast.Call) and _ENCRYPTING.search(ast.unparse(n))), None)
                if call is not None:
                    return Span(path, call.lineno, call.lineno)
    return None


# (table pattern, item, [(field alternatives, what it is)]): what the checklist expects each entity to carry.
EXPECTED_FIELDS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (r"^users?$", "2.users.3", (("mfa_enabled", "MFA flag"), ("mfa_secret|totp_secret", "MFA secret"))),
    (r"^users?$", "2.users.5", (("is_super_admin|is_superuser|is_platform_admin|is_superadmin|is_admin|admin|is_staff|role|roles", "super-admin flag"),)),
    (r"^organizations?$", "2.orgs.3", (("settings|settings_json|config|configuration|preferences|org_settings", "JSONB settings"),)),
    (r"^organizations?$", "2.orgs.5", (("member_count", "member count"), ("patient_count", "patient count"))),
    (r"^providers?$", "2.profiles.1", (("npi|npi_number", "NPI"), ("dea|dea_number", "DEA number"), ("state_licenses", "state licenses"))),
    (r"^staff|staff_members?$", "2.profiles.2", (("employee_id", "employee id"), ("job_title", "job title"), ("department", "department"), ("is_active|active", "active status"))),
    (r"^patients?$", "2.profiles.3", (("mrn|medical_record_number", "MRN"), ("dob|date_of_birth", "date of birth"), ("legal_sex|sex", "legal sex"), ("billing_manager_id", "billing manager"))),
    (r"^prox(y|ies)$", "2.profiles.4", (("relationship_type|relationship|relationship_to_patient|relation|relation_type", "relationship type"),)),
    (r"proxy_assignments?$", "2.care.3", tuple((f"can_{p}", f"can_{p}") for p in (
        "view_profile", "view_appointments", "schedule_appointments", "view_clinical_notes", "view_billing", "message_providers"))),
    (r"proxy_assignments?$", "2.care.4", (("granted_at", "granted_at"), ("expires_at", "expires_at"), ("revoked_at", "revoked_at"))),
    (r"contact_methods?|contacts?$", "4.4", (("is_safe_for_voicemail", "voicemail safety flag"),)),
    (r"^audit_logs?$|^audit_events?$", "2.audit.3", (("impersonator_id|impersonated_by", "impersonator"),)),
    # the actor: whoever acted, a user, an admin or an API key (`admin_user_id`, `performed_by_id`), by id or by name
    # (`creator_name`, `username`, which a trigger may fill from the session)
    (r"^audit_logs?$|^audit_events?$", "4.2", ((r"(actor|creator|author|initiator|principal)(_\w+)?|(\w+_)?user(_?name|_id)?"
                                                r"|\w+_by(_\w+)?|(\w+_)?api_key_id", "actor"),
                                                ("ip_address|ip", "IP address"))),
    # Revoking a session may be deleting its row: only the expiry is a field every design needs.
    # `token_expires_at`, `nonce_expires_at`: an expiry of what the session holds is the session's expiry
    (r"^user_sessions?$|^sessions$", "4.5", ((r"(?:\w+_)?(?:expires_at|expiry|expires|expires_on|valid_until|expiration(?:_\w+)?)", "expiry"),)),
    (r"^user_devices?$|^devices$", "2.sessions.2", (("fcm_token|push_token", "FCM token"),)),
    (r"^user_consents?$", "4.6", (("ip_address", "IP address"), ("signed_at|accepted_at|consented_at", "signing time"))),
)




_ADMIN_TABLE = re.compile(r"(^|_)(admins?|administrators?|superusers?|roles?|permissions?|grants?)$|^platform_")


_ADMIN_FLAG = re.compile(r"^(is_)?(admin|super_?admin|superuser|platform_admin|staff)$")


def _admins_elsewhere(facts, users: str) -> bool:
    """A table of admins, staff or roles that points at the users table, or groups with an admin flag
    (flaskbb's Group.admin, reached through the user's groups)."""
    return any(
        (_ADMIN_TABLE.search(t.name) and any(fk.table == users for c in t.columns.values() for fk in c.foreign_keys))
        or (any(_ADMIN_FLAG.match(c) for c in t.columns) and not _USERS.match(t.name))  # another app's users: not ours
        for t in facts.tables.values() if t.name != users
    )


def _assignment_has(facts, prefix: str) -> bool:
    return any(
        re.search(r"proxy_assignments?$", t.name) and any(c.startswith(prefix) for c in t.columns)
        for t in facts.tables.values()
    )


class EntityMissingFields(Rule):
    """A checklist entity lacks fields the checklist requires.

    What it checks:
        For the entities the checklist names (users, organizations, providers, staff, patients,
        proxies, proxy assignments, contact methods, audit logs, sessions, devices, consents), that
        the table carries the fields listed for it (an audit log's actor by id or by name: `actor_id`, `user_id`,
        `performed_by`, `creator_name`, `username`; one that names its actor and lacks only the IP address is info). The
        users' super-admin flag is asked for only where a
        platform owner stands above tenants: the schema has tenants, and no flag or role on users, no table
        of admins or roles, no module, class or function of admins models admin power already (the item is
        then suggested not applicable, with that evidence); where the schema holds no health data, that is an info
        saying the product may have no such operator.
    Why it matters:
        Each field backs a requirement (MFA, voicemail safety, time-limited proxy access, session
        timeout...); a missing column means the requirement cannot be met by the data model.
    Example:
        class ContactMethod(Base): ...  # no is_safe_for_voicemail
    Instead:
        Add the missing columns (with a migration), or record in the review why they are not needed.
    """

    ID = "MOD006"
    ITEM = "2.users.3"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class ContactMethod(Base):
    __tablename__ = "contact_methods"
    id: Mapped[int] = mapped_column(primary_key=True)
    is_safe_for_voicemail: Mapped[bool] = mapped_column(default=False)
''',)
    INVALID = (HEADER + PATIENT + '''
class ContactMethod(Base):
    __tablename__ = "contact_methods"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str]
''', HEADER + '''
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_count: Mapped[int] = mapped_column(default=0)
    patient_count: Mapped[int] = mapped_column(default=0)
''')
    VALID = VALID + (HEADER + '''
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    settings_json: Mapped[dict] = mapped_column(JSONB, default=dict)
    member_count: Mapped[int] = mapped_column(default=0)
    patient_count: Mapped[int] = mapped_column(default=0)
class Proxy(Base):
    __tablename__ = "proxies"
    id: Mapped[int] = mapped_column(primary_key=True)
    relationship_to_patient: Mapped[str | None] = mapped_column(String(100))
''',)

    # Fields that only a schema with patients calls for (an incident tracker's team_contact needs no voicemail flag).
    CLINICAL_ONLY = {"4.4", "2.profiles.1", "2.profiles.3", "2.profiles.4", "2.care.3", "2.care.4"}

    def check(self):
        clinical = healthcare(self.facts)
        for table in self.facts.tables.values():
            for pattern, item, fields in EXPECTED_FIELDS:
                if not re.search(pattern, table.name) or (item in self.CLINICAL_ONLY and not clinical):
                    continue
                if not clinical:
                    fields = tuple(f for f in fields if "patient" not in f[0])
                missing = [what for alternatives, what in fields if not any(re.fullmatch(alternatives, c) for c in table.columns)]
                if item == "2.profiles.4" and missing and _assignment_has(self.facts, "relationship"):
                    missing = []  # the proxy's relationship lives on its assignment to each patient
                if item == "2.users.3" and missing and (
                    any(MFA_NAME.search(name) for name in self.facts.tables) or any(MFA_NAME.search(c) for c in table.columns)
                ):
                    missing = []  # MFA in a table of its own (totp_enrollments) or named its own way (totp_enabled)
                if item == "2.users.5" and missing and _admins_elsewhere(self.facts, table.name):
                    missing = []  # platform admins as rows of their own table (platform_staff, user_roles)
                if missing and item == "2.users.5" and not clinical:
                    # outside health data the checklist's platform operator is a product decision: said, not asked for
                    yield self.finding(
                        f"{table.label} has no {', '.join(missing)}, and nothing in the code models admin power (no flag "
                        "or role on users, no table of admins or roles): if an operator stands above the tenants, the "
                        "checklist asks for the flag; if the product has none, the item does not apply",
                        first_line(table.span), f"table:{table.name}:fields:{item}", item=item, severity=Severity.INFO,
                    )
                elif missing:
                    yield self.finding(
                        f"{table.label} has no {', '.join(missing)}", first_line(table.span),
                        f"table:{table.name}:fields:{item}", item=item,
                        # an audit trail that names its actor says who did what; where from adds to it
                        severity=Severity.INFO if item == "4.2" and missing == ["IP address"] else None,
                    )


# Filters that stand for "live rows" without naming the soft-delete column: is_active, a live() helper ...
_LIVE_WORDS = re.compile(r"delet|active|alive|live|archiv|visible|removed|trash")
# Functions that mean to see deleted rows: restoring, purging, admin views, the soft delete itself.
_SEES_DELETED = re.compile(r"delet|restor|purge|trash|archiv|admin|backoffice|platform|superuser|operator|include|all_|undo|"
                           r"recover|cleanup|gdpr|erasure|anonymi|export|seed|"
                           r"analytic|metric|stat|report|count|sync|backfill|migrat|task|job|worker|audit|invariant")


_JOINED = ("join", "outerjoin", "join_from", "select_from", "from_statement", "union", "union_all")


def _checks_before_adding(facts, q, table) -> bool:
    """Does the query's function only test whether it found a row (reads nothing of it, does not return it) and
    go on to make a row of the same model (`ApiKey(...)`): it asks whether one exists before adding another,
    and a deleted row with the same values counts (a unique key still holds them); it shows no deleted row."""
    if not table.class_name or not q.instances or q.reached:
        return False  # what it loads is read (shown, returned as data): more than a test that one exists
    start, lines = function_around(facts, q.span)
    after = [line.partition("#")[0] for line in lines[q.span.start - start + 1:]]
    handed = re.compile(rf"\b(return|yield)\s+({'|'.join(map(re.escape, q.instances))})\b")
    made = re.compile(rf"(?<![\w.])(?:[a-z_]\w*\.)?{re.escape(table.class_name)}\(")  # Source(, models.Source(
    return not any(handed.search(line) for line in after) and any(made.search(line) for line in after)


# A column that names one row by what was made for it: its hash, its uuid, its token. Equal to one value, the
# lookup resolves that row (a build key to its build), deleted or not, as a lookup by a unique key does.
_DIGEST = re.compile(r"(^|_)(hash|sha\d*|digest|uuid|guid|token|fingerprint)$")


def _by_own_digest(table, q) -> bool:
    names = {c.attr or c.name: c.name for c in table.columns.values()}
    compared = {names.get(f.rsplit(".", 1)[-1], "") for f in q.equals}
    return len(compared) == 1 and bool(_DIGEST.search(compared.pop()))


class SoftDeletedRowsNotFiltered(Rule):
    """Queries on a soft-deleted model return the deleted rows.

    What it checks:
        Models with a soft-delete column (`deleted_at`, `is_deleted`, `time_deleted`...) that the application's code really
        sets on their rows (`lead.deleted_at = now`, `update(Lead).values(deleted_at=...)`,
        `service.update(lead_id, deleted_at=now)` with `service` a module: the object written, or what the
        module's function is given, is named as the model), when no central filter exists (`with_loader_criteria`, a
        `do_orm_execute` listener, a query class of the project's): the queries of such a model, built and
        run in one function, that never filter on the column (nor on an `is_active`-like flag, nor through
        a helper of the project's). Functions that mean to see deleted rows (restore, purge, admin and
        platform consoles, erasure, exports, reports, background jobs, seeding of sample data, the delete itself), lookups by
        key (every column of the primary key, a unique constraint or a unique index without a predicate
        compared with `==`; `get_or_404(id)`; one column that identifies a row by what was made for it, its
        hash, uuid or token), a check for an existing row before the function makes a new one of the
        model (`Source(...)` or `models.Source(...)`: a deleted row's values are still taken, as a collision
        check must count them), queries joined to other tables, and queries whose function then looks at the flag of what
        it loaded (rejects a deleted row, `if user.deleted_at: raise`, skips it, or revives it, `grant.is_deleted
        = False`: it reads deleted rows on purpose, and counts as filtering) are left alone. One finding per model, with every
        such query as a related location; a warning only where filtering is the model's convention (at
        least as many of its queries filter the column as do not), else an info that says how few do. A
        column set only on objects named as no model (`obj`, `self`) is an info; one set only on other
        models' rows, none.
    Why it matters:
        A soft delete only hides a row from the queries that filter it: a "deleted" patient still appears in
        lists, searches and lookups by id, and still counts in totals. HIPAA-style soft delete is meant to
        keep the record, not to keep showing it.
    Example:
        select(Patient).where(Patient.organization_id == org_id)   # Patient has deleted_at, set by delete_patient()
    Instead:
        `.where(Patient.deleted_at.is_(None))` in each query, or once for all of them: a `do_orm_execute`
        listener adding `with_loader_criteria(SoftDeleteMixin, lambda cls: cls.deleted_at.is_(None), include_aliases=True)`.
    """

    ID = "MOD007"
    ITEM = "2.mixins.3"
    SEVERITY = Severity.WARNING
    _MODELS = HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
'''
    _DELETE = '''
async def delete_patient(session, patient):
    patient.deleted_at = func.now()
'''
    VALID = ({"models.py": _MODELS, "app/patients.py": '''
from sqlalchemy import func, select
from models import Patient
async def list_patients(session, org_id):
    stmt = select(Patient).where(Patient.organization_id == org_id, Patient.deleted_at.is_(None))
    return (await session.execute(stmt)).scalars().all()
''' + _DELETE},)
    INVALID = ({"models.py": _MODELS, "app/patients.py": '''
from sqlalchemy import func, select
from models import Patient
async def list_patients(session, org_id):
    stmt = select(Patient).where(Patient.organization_id == org_id)
    return (await session.execute(stmt)).scalars().all()
''' + _DELETE},)

    def check(self):
        if not any(usage.soft_deletes for usage in app_usage(self.facts)) or central_filters(self.facts):
            return
        sites: dict[str, list] = {}
        filtering: dict[str, int] = {}  # per table, the queries that do filter the deleted rows
        plain: dict[str, int] = {}  # and those that do not, whatever they are for
        unsure: dict[str, int] = {}  # per table, the queries whose filters dbreview cannot read
        universal = universal_soft_delete(self.facts.tables)
        for q, table in app_queries(self.facts):
            flag = soft_delete_column(table)
            if flag is None or table.columns[flag].declared_in in universal:
                continue
            if q.escapes or q.opaque_filter:
                unsure[table.name] = unsure.get(table.name, 0) + 1
                continue
            if any(_LIVE_WORDS.search(f.rsplit(".", 1)[-1]) for f in q.filtered) or weighs_deleted(self.facts, q, flag):
                filtering[table.name] = filtering.get(table.name, 0) + 1
                continue  # filtered in SQL, or the function rejects, skips or revives the deleted rows it loads
            plain[table.name] = plain.get(table.name, 0) + 1
            if _SEES_DELETED.search(f"{q.span.path} {q.function}".lower()):
                continue
            keys = {c.attr or c.name for c in table.columns.values() if c.primary_key}
            by_key = key_lookup(self.facts, table, q.equals) or any(f.rsplit(".", 1)[-1] in keys for f in q.filtered if "." in f) \
                or _by_own_digest(table, q)
            if by_key or q.columns_only or any(m in q.methods for m in _JOINED) or {"get", "get_or_404"} & set(q.methods):
                continue  # rows looked up by key (to show, update, authorize them), bare ids, or a join that may filter
            if _checks_before_adding(self.facts, q, table):
                continue  # is there one already? before adding one: a deleted row still holds its values
            sites.setdefault(table.name, []).append((q, table, flag))
        for name, found in sites.items():
            q, table, flag = found[0]
            mine, unknown = soft_delete_writes(self.facts, table, flag)
            if not mine and not unknown:
                continue  # the code sets the column only on other models' rows: nothing hides rows of this one
            where = ", ".join(f"{x.function} ({x.span.path}:{x.span.start})" for x, _, _ in found[:3])
            more = f" and {len(found) - 3} more" if len(found) > 3 else ""
            n = len(found)
            these = "this query of it does not" if n == 1 else f"these {n} queries of it do not"
            filtered, unfiltered = filtering.get(name, 0), plain.get(name, 0)
            severity = Severity.INFO
            written = [(mine[0], f"sets {flag}")] if mine else []  # the place the message names, beside the queries
            if not mine:
                hint, span = unknown[0]
                said = (f"{table.class_name} has {flag}, and the code sets {flag} on objects dbreview cannot tie to a "
                        f"model ({f'`{hint}`' if hint else 'an object'} at {span.path}:{span.start}): if {table.class_name} "
                        f"rows are among them, {these} filter the deleted rows: {where}{more}")
                written = [(span, f"sets {flag} on `{hint}`" if hint else f"sets {flag}")]
            elif filtered < unfiltered:  # hiding deleted rows is not what this code's queries do
                helpers = unsure.get(name, 0)
                said = (f"{table.class_name} is soft deleted ({flag}, set at {mine[0].path}:{mine[0].start}) and no central "
                        f"filter (with_loader_criteria, do_orm_execute) hides the deleted rows; "
                        + (f"{filtered} of its {filtered + unfiltered} queries that dbreview could read filter {flag}, "
                           if filtered else f"none of its {unfiltered} queries that dbreview could read filters {flag}, ")
                        + (f"{helpers} more build their filters where dbreview does not follow them, " if helpers else "")
                        + f"and of the {unfiltered} that return deleted rows, {'one is' if n == 1 else f'{n} are'} not a "
                        f"lookup by key, a join, or in a function meant to see deleted rows: {where}{more}; whether "
                        f"{'it' if n == 1 else 'those'} must hide them is the application's decision")
            else:
                severity = Severity.WARNING
                said = (f"{table.class_name} is soft deleted ({flag}, set at {mine[0].path}:{mine[0].start}) and {filtered} "
                        f"of its {filtered + unfiltered} queries filter{'s' if filtered == 1 else ''} the deleted rows, but {these}, and no central filter "
                        f"(with_loader_criteria, do_orm_execute) does it for them: {where}{more} return soft-deleted rows")
            yield self.grouped(
                said,
                [(x.span, f"function:{x.span.path}:{x.function}:{t.class_name}:soft-delete", f"{x.function}: no {flag} filter")
                 for x, t, _ in found],
                f"model:{table.class_name}:soft-delete-unfiltered", severity=severity, also=written,
            )
