"""Section 5: Data Integrity (keys, references, business rules in the database)."""

from __future__ import annotations

import re

from analyzers.findings import Severity
from analyzers.facts.model import Span
from analyzers.rules.base import Rule
from analyzers.rules.code_use import app_queries, soft_delete_column, universal_soft_delete
from analyzers.rules.examples_common import HEADER, PATIENT
from analyzers.rules.schema import (
    _unique_keys, all_constraints, all_indexes, is_test_path, migration_sql, column_anchor, column_sites, has_check, migrated_column, table_sql, unique_over, where_declared,
)


class SequentialPrimaryKey(Rule):
    """A table uses a sequential integer primary key.

    What it checks:
        Integer, BigInteger or SmallInteger primary keys (autoincrement, SERIAL, IDENTITY). When a third
        of the tables or more use them, they are the project's convention, a policy choice: one info
        finding lists them. Otherwise each table off the project's convention is a warning.
    Why it matters:
        The checklist requires ULID-based UUID keys: sequential ids leak record counts and growth,
        are guessable in URLs (enumeration of patients), and collide when data from several
        databases is merged.
    Example:
        id = Column(Integer, primary_key=True, autoincrement=True)
    Instead:
        Inherit the UUID mixin: `id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_ulid_uuid)`.
    """

    ID = "INT001"
    ITEM = "5.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
''',)
    INVALID = (HEADER + '''
class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
''',)

    def check(self):
        sites = []
        for table, col in column_sites(self.facts):
            pk_cols = [c for c in table.columns.values() if c.primary_key]
            if col.primary_key and len(pk_cols) == 1 and col.type_name in ("Integer", "BigInteger", "SmallInteger", "INTEGER", "BIGINT"):
                sites.append((table, col))
        tables = len(self.facts.tables)
        if len(sites) >= 2 and len(sites) * 3 >= tables:
            # The project's own convention: a policy choice to weigh once, not a defect per table.
            names = ", ".join(t.name for t, _ in sites[:6]) + (", ..." if len(sites) > 6 else "")
            yield self.grouped(
                f"{len(sites)} of {tables} tables use sequential integer keys ({names}): the project's convention, "
                "not the checklist's ULID-based UUIDs. Ids are guessable in URLs and reveal volumes; moving off them "
                "is a migration of every foreign key, so weigh it as one decision",
                [(c.span, column_anchor(t, c), t.name) for t, c in sites], "keys:sequential-convention",
                severity=Severity.INFO,
            )
            return
        for table, col in sites:  # a few tables off the project's own convention
            unlike = ", unlike most of the project's keys" if tables > len(sites) else ""
            yield self.finding(
                f"{where_declared(table, col)} is a sequential {col.type_name} key{unlike}: not a ULID-based UUID",
                col.span, column_anchor(table, col),
            )


_EXTERNAL = re.compile(r"stripe|external|session_id|request_id|correlation|trace|idempotency|fcm|device_id|"
                       r"subscription_id|customer_id|payment|price_id|s3|object_id|message_id|provider_account|"
                       r"_sid$|twilio|sendgrid|firebase|google|apple|oauth|sub_id|tax_id|npi|dea|employee_id|job_id|task_id")


class IdWithoutForeignKey(Rule):
    """A column that references another table has no foreign key.

    What it checks:
        `*_id` columns of a UUID or integer type with no ForeignKey in the model and no foreign key
        constraint in the migrations (ids of outside systems, like Stripe's, are left out, and so are a
        row's own generated ids, with a default or named short_id/friendly_id/reference_id, and columns
        whose comment says they have no foreign key on purpose, or holds one commented out; ids of items
        inside a JSON column of the row or of the row it belongs to; columns whose foreign key a migration
        dropped). When no table is named like the column (purpose_id and no purposes table), nothing is
        said: an outside system's id, or one dbreview cannot place; but a relationship that joins on the
        column names its target: info. On a log, event or history table, which may outlive what it points
        at, info too.
    Why it matters:
        Nothing stops a row from pointing at a record that does not exist or was deleted: orphaned
        rows, joins that silently drop data, and no cascade rule to reason about.
    Example:
        managed_by_proxy_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    Instead:
        `mapped_column(ForeignKey("proxies.id", ondelete="SET NULL"))`.
    """

    ID = "INT002"
    ITEM = "5.4"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    stripe_customer_id: Mapped[str] = mapped_column(String(64))
''',)
    INVALID = (HEADER + PATIENT + '''
class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
''',)

    def check(self):
        names = set(self.facts.tables) | set(self.facts.migration_tables)
        for table, col in column_sites(self.facts):
            if not col.name.endswith("_id") or col.primary_key or col.foreign_keys or _EXTERNAL.search(col.name):
                continue
            if col.type_name not in ("UUID", "Uuid", "GUID", "Integer", "BigInteger", "SmallInteger"):
                continue
            stem = col.name[: -len("_id")]
            if f"{stem}_type" in table.columns or "owner_type" in table.columns and stem == "owner":
                continue  # polymorphic reference: see BIL004
            in_constraints = any(c.kind == "foreign_key" and col.name in c.columns for c in all_constraints(table, self.facts))
            in_db = migrated_column(self.facts, table, col.name)
            in_migration = bool(in_db and in_db.foreign_keys)
            if in_constraints or in_migration:
                continue
            if col.default or col.server_default or _OWN_ID.search(col.name) or _said_on_purpose(self.facts, col):
                continue  # the row's own generated id (short_id, friendly_id), or "not a FK" by its comment
            if _inside_json(self.facts, table, stem) or _fk_dropped(self.facts, table, col):
                continue  # the id of an item inside a JSON document; a foreign key a migration removed on purpose
            if stem == table.name or table.name.endswith("_" + stem):
                continue  # child_firing_id on composite_trigger_child_firing: the row's own id, not a reference
            joined = _joined_by(self.facts, table, col)
            if joined is not None:
                yield self.finding(
                    f"{where_declared(table, col)} has no foreign key, though the relationship `{joined.attr}` "
                    f"({joined.span.path}:{joined.span.start}) joins it to {joined.target}: the ORM treats it as a "
                    "reference and the database does not check it, so it can point at a deleted row. If the foreign "
                    "key is left out on purpose (a cycle between the tables, rows that outlive their target), say so "
                    "in a comment; if not, add it",
                    col.span, column_anchor(table, col), severity=Severity.INFO, related=[(joined.span, "the relationship")],
                )
                continue
            if not _names_a_table(stem, names):
                continue  # no table it could point at: an outside system's id, or one dbreview cannot place
            if _OUTLIVES.search(table.name):
                yield self.finding(
                    f"{where_declared(table, col)} has no foreign key; {table.name} reads like a log or history "
                    "that may outlive what it points at (a foreign key would forbid that, or delete it): if so, "
                    "say so in a comment; if not, add the foreign key",
                    col.span, column_anchor(table, col), severity=Severity.INFO,
                )
                continue
            yield self.finding(
                f"{where_declared(table, col)} looks like a reference but has no foreign key: it can point at rows "
                "that do not exist", col.span, column_anchor(table, col),
            )


def _joined_by(facts, table, col):
    """The relationship of `table` whose join names `col` (`foreign(Pair.creator_id) == remote(User.id)`,
    `foreign_keys=[creator_id]`): the code's own word that the column points at another table."""
    word = re.compile(rf"(?<![\w]){re.escape(col.attr or col.name)}(?![\w])")
    for rel in table.relationships:
        if rel.target and not rel.secondary and any(word.search(line) for line in facts.lines(rel.span)):
            return rel
    return None


def _inside_json(facts, table, stem: str) -> bool:
    """Is `stem` (child_trigger, firing) named by a JSON column of this row, or of a row its foreign keys point
    at: the id of an item stored inside that document, which no foreign key can reference?"""
    words = stem.split("_")
    tails = {"_".join(words[i:]) for i in range(len(words))}
    tails |= {t + "s" for t in tails}
    rows = [table] + [facts.tables[fk.table] for c in table.columns.values() for fk in c.foreign_keys
                      if fk.table in facts.tables]
    return any(c.name in tails and (c.type_args.get("impl") or c.type_name or "").upper() in ("JSON", "JSONB")
               for t in rows for c in t.columns.values())


def _fk_dropped(facts, table, col) -> bool:
    """Did an upgrade drop a foreign key on this column (`op.drop_constraint("t_col_fkey", "t")`, ALTER TABLE
    ... DROP CONSTRAINT): the history records that it is left out on purpose."""
    def fk_of_col(name: str) -> bool:
        return col.name in name and re.search(r"fk|foreign", name, re.I) is not None
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.name == "drop_constraint" and op.table == table.name and fk_of_col(op.target or ""):
                return True
            for st in op.sql.statements if op.sql else ():
                if st.kind == "alter_table" and st.table == table.name and any(
                        fk_of_col(str(c)) for c in st.details.get("dropped_constraints", ())):  # type: ignore[union-attr]
                    return True
    return False


# A row's own identifier rather than a reference: a short or friendly id, a public reference number.
_OWN_ID = re.compile(r"^(short|friendly|public|reference|ref|display|human|external|tracking|lookup)_id$|^last_friendly_")
# Tables of records that are kept after what they record is gone.
_OUTLIVES = re.compile(r"log|event|histor|audit|stat|metric|cache|follower|firing|bucket|collection|snapshot")
_ON_PURPOSE = re.compile(
    r"not (a |an )?(fk|foreign key)|no (fk|foreign key)|without (a )?(fk|foreign key)|won'?t exists?|(do|does|may|might|can)"
    r"(n'?t| not) exist|foreign_key\s*=|ForeignKey\(", re.I)  # a foreign key commented out says it as well


def _said_on_purpose(facts, col) -> bool:
    """A comment on the column or just above it says it has no foreign key on purpose."""
    above = facts.lines(Span(col.span.path, max(1, col.span.start - 2), col.span.start - 1))
    lines = list(facts.lines(col.span))
    for line in reversed(above):  # comment lines right above it, not a neighbour's trailing comment
        if not line.strip().startswith("#"):
            break
        lines.append(line)
    return any(_ON_PURPOSE.search(line.partition("#")[2]) for line in lines)


def _names_a_table(stem: str, names: set[str]) -> bool:
    """Is there a table `stem` could refer to: patient -> patients, managed_by_proxy -> proxies?"""
    words = stem.split("_")
    for i in range(len(words)):
        tail = "_".join(words[i:])
        if {tail, tail + "s", tail + "es", tail[:-1] + "ies" if tail.endswith("y") else tail} & names:
            return True
        if any(n.endswith("_" + tail) or n.endswith("_" + tail + "s") for n in names):
            return True
    return False


class PrimaryProviderNotUnique(Rule):
    """Nothing in the database stops a patient from having two PRIMARY providers.

    What it checks:
        On a care-team table with `patient_id` and a role column: a unique index on `patient_id`
        with a `WHERE role = 'PRIMARY'` predicate (in the model or the migrations).
    Why it matters:
        "One PRIMARY provider per patient" checked only in application code fails under concurrent
        requests; two primaries make responsibility and billing ambiguous.
    Example:
        class CareTeamAssignment(Base): patient_id, provider_id, role   # no partial unique index
    Instead:
        `Index("uq_care_team_primary", "patient_id", unique=True, postgresql_where=text("role = 'PRIMARY'"))`
    """

    ID = "INT003"
    ITEM = "2.care.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from sqlalchemy import text
class CareTeamAssignment(Base):
    __tablename__ = "care_team_assignments"
    __table_args__ = (Index("uq_primary", "patient_id", unique=True, postgresql_where=text("role = 'PRIMARY'")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
''',)
    INVALID = (HEADER + '''
class CareTeamAssignment(Base):
    __tablename__ = "care_team_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
''',)

    def check(self):
        for table in self.facts.tables.values():
            if "care_team" not in table.name or "patient_id" not in table.columns:
                continue
            role = next((c for c in ("role", "assignment_role", "care_role", "provider_role") if c in table.columns), None)
            if role is None:
                continue
            enforced = any(
                ix.unique and "patient_id" in ix.columns and "PRIMARY" in (ix.where or "").upper()
                for ix in all_indexes(table, self.facts)
            ) or any(
                "PRIMARY" in st.text.upper() and ("UNIQUE" in st.text.upper() or "EXCLUDE" in st.text.upper())
                for st in table_sql(self.facts, table.name)
            )
            if not enforced:
                yield self.finding(
                    f"{table.name}: no partial unique index on patient_id WHERE {role} = 'PRIMARY': a patient can get two "
                    "PRIMARY providers", table.columns[role].span, f"table:{table.name}:one-primary", item="2.care.2",
                )


_PROVIDER = HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    npi_number: Mapped[str | None] = mapped_column(String(10))
'''
_NPI_MIGRATION = '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def downgrade():
    pass
'''


class NpiNotUniquePerOrganization(Rule):
    """A provider's NPI is not unique within an organization.

    What it checks:
        On a providers table with an NPI column and `organization_id`: a unique constraint or index
        on (organization_id, npi), or a unique NPI.
    Why it matters:
        The same provider registered twice in one clinic splits their patients, schedules and
        billing across two records.
    Example:
        npi_number: Mapped[str] = mapped_column(String(10), index=True)
    Instead:
        `UniqueConstraint("organization_id", "npi_number")` in `__table_args__`.
    """

    ID = "INT004"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    VALID = ({"models.py": _PROVIDER, "migrations/versions/0001_a.py": _NPI_MIGRATION + '''
def upgrade():
    op.create_table("providers", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("organization_id", sa.Integer), sa.Column("npi_number", sa.String(10)))
    op.create_index("ix_providers_org_npi", "providers", ["organization_id", "npi_number"], unique=True,
                    postgresql_where=sa.text("npi_number IS NOT NULL"))
'''}, HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("organization_id", "npi_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    npi_number: Mapped[str] = mapped_column(String(10))
''',)
    INVALID = (HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    npi_number: Mapped[str] = mapped_column(String(10), index=True)
''', {"models.py": _PROVIDER, "migrations/versions/0001_a.py": _NPI_MIGRATION + '''
def upgrade():
    op.create_table("providers", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("organization_id", sa.Integer), sa.Column("npi_number", sa.String(10)))
    op.create_index("ix_providers_org_npi", "providers", ["organization_id", "npi_number"], unique=True,
                    postgresql_where=sa.text("npi_number IS NOT NULL"))
    # autogenerate, later, from a model without the index: it drops it
    op.drop_index(op.f("ix_providers_org_npi"), table_name="providers")
'''})

    def check(self):
        for table in self.facts.tables.values():
            if not re.match(r"^providers?$", table.name):
                continue
            npi = next((table.columns[c] for c in ("npi_number", "npi") if c in table.columns), None)
            if npi is None or npi.unique or "organization_id" not in table.columns:
                continue
            # A partial unique index (WHERE npi_number IS NOT NULL, WHERE deleted_at IS NULL) enforces the rule too.
            if not unique_over(self.facts, table, ("organization_id", npi.name)):
                yield self.finding(
                    f"{table.name}: no unique (organization_id, {npi.name}): one provider can be registered twice in an "
                    "organization", npi.span, f"table:{table.name}:npi-unique",
                )


class EnumAsFreeText(Rule):
    """A status-like column accepts any text.

    What it checks:
        String columns named status, role or priority (and type, kind, category, state when the code
        documents a closed set: a `# A, B, C` comment, an UPPER_CASE default, a matching Python Enum)
        with no Enum type and no CHECK constraint naming the column; one finding per table.
        Discriminators (`polymorphic_on`), MIME types and geographic state codes are left out.
    Why it matters:
        Typos and retired values ("canceled" vs "CANCELLED") get in and break every query and report
        that filters on the value.
    Example:
        status: Mapped[str] = mapped_column(String(20))
    Instead:
        `mapped_column(Enum(Status, name="billing_status"))` or a `CheckConstraint("status IN (...)")`.
    """

    ID = "INT005"
    ITEM = "5.6"
    SEVERITY = Severity.INFO
    VALID = (HEADER + '''
from sqlalchemy import CheckConstraint
class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (CheckConstraint("status IN ('OPEN', 'CLOSED')"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
''',)
    INVALID = (HEADER + '''
class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
''', HEADER + '''
class ContactMethod(Base):
    __tablename__ = "contact_methods"
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(20))  # MOBILE, HOME, EMAIL
''')
    VALID = VALID + (HEADER + '''
class Challenge(Base):  # `type` picks the subclass; `category` is whatever the organisers type
    __tablename__ = "challenges"
    __mapper_args__ = {"polymorphic_on": "type"}
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(80))
    file_type: Mapped[str] = mapped_column(String(80))
''',)
    NAMES = re.compile(r"(^|_)(status|role|type|kind|priority|category|state)$")
    # Free text on purpose: MIME types, geographic states, names of tables or classes.
    NOT_ENUMS = re.compile(r"(^|_)(content|mime|media|file|storage)_type$|license_state|address_state|billing_state|"
                           r"^(us_)?state$|_table$|^(model|entity|table|class|resource|object|target|subject)_type$")

    # Nearly always a closed set; the other names only when the code says so (comment, default, Enum).
    CLOSED = re.compile(r"(^|_)(status|role|priority)$")

    def check(self):
        by_table: dict[str, list] = {}
        classes = [c for m in self.facts.modules for c in m.classes]
        discriminators = {(c.name, c.polymorphic_on) for c in classes if c.polymorphic_on}
        enums = {c.name.lower() for c in classes if any(b.rsplit(".", 1)[-1] in ("Enum", "StrEnum", "IntEnum") for b in c.bases)}
        for table, col in column_sites(self.facts):
            if not self.NAMES.search(col.name) or col.type_name not in ("String", "Text", "VARCHAR", "Unicode"):
                continue
            if self.NOT_ENUMS.search(col.name) or (col.name.endswith("state") and col.type_args.get("length") in ("2", "3")):
                continue
            if (col.declared_in, col.attr or col.name) in discriminators or (table.class_name, col.attr) in discriminators:
                continue  # polymorphic_on: its values are the mapped subclasses (plugins add more)
            stem = col.name.rsplit("_", 1)[0]
            if col.name.endswith("_type") and f"{stem}_id" in table.columns:
                continue  # a polymorphic pointer: BIL003's business, or a generic reference (audit logs)
            camel = "".join(p.title() for p in col.name.split("_"))
            has_enum = bool({camel.lower(), f"{table.class_name or ''}{camel}".lower()} & enums)
            if not self.CLOSED.search(col.name) and not (self._documented_values(col) or has_enum):
                continue  # a free-form `type` or `category` is often meant to be free
            if not has_check(self.facts, table, col.name):
                by_table.setdefault(column_anchor(table, col).rsplit(".", 1)[0], []).append((table, col))
        for anchor, cols in by_table.items():
            table, first = cols[0]
            described = []
            for _, col in cols:
                values = self._documented_values(col)
                described.append(f"{col.name} ({', '.join(values)})" if values else col.name)
            owner = first.declared_in if table.class_name and first.declared_in != table.class_name else table.name
            yield self.finding(
                f"{owner}: {', '.join(described)} {'is' if len(cols) == 1 else 'are'} free text: no Enum type or CHECK "
                "constraint limits the values",
                first.span, f"{anchor}:free-text",
            )

    def _documented_values(self, col) -> list[str]:
        """The closed set of values the code documents: a trailing comment `# OPEN, CLOSED`, an UPPER default."""
        text = " ".join(self.facts.lines(col.span))
        comment = text.split("#", 1)[1] if "#" in text else ""
        values = re.findall(r"\b[A-Z][A-Z_]{1,}\b", comment)
        if not values and col.default and re.fullmatch(r"['\"][A-Z][A-Z_]+['\"]", col.default.strip()):
            values = [col.default.strip("'\"") + ", ..."]
        return values[:8]


_SQL_CALL = re.compile(r"""^\s*(['"])\s*([a-z_][a-z0-9_.]*\s*\(.*\)|current_timestamp|current_date|localtimestamp|now)\s*\1\s*$""", re.I)


class QuotedServerDefault(Rule):
    """A server_default meant as a SQL expression is a Python string, so it becomes a quoted literal.

    What it checks:
        `server_default="gen_random_uuid()"`, `server_default="now()"`, `server_default="CURRENT_TIMESTAMP"`
        on model columns and on the columns of migrations.
    Why it matters:
        SQLAlchemy renders a plain string server default as a literal: `DEFAULT 'gen_random_uuid()'`.
        For a uuid column the CREATE TABLE fails; for a timestamp, `'now'` is evaluated once, when the
        table is created, and every row gets that instant. A migration written correctly hides it until
        `create_all` (tests) or autogenerate reads the model.
    Example:
        id: Mapped[UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, server_default="gen_random_uuid()")
    Instead:
        `server_default=text("gen_random_uuid()")`, `server_default=func.now()`.
    """

    ID = "INT006"
    ITEM = "5.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from sqlalchemy import text
class Message(Base):
    __tablename__ = "messages"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    kind: Mapped[str] = mapped_column(String(20), server_default="NOTE")
''',)
    INVALID = (HEADER + '''
class Message(Base):
    __tablename__ = "messages"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, server_default="gen_random_uuid()")
''',)

    def check(self):
        for table, col in column_sites(self.facts):
            if col.server_default and _SQL_CALL.match(col.server_default):
                yield self.finding(
                    f"{where_declared(table, col)} has server_default={col.server_default}, a Python string: it is "
                    f"rendered as the quoted literal DEFAULT {col.server_default}, not as a call; use text(...) or func",
                    col.span, f"{column_anchor(table, col)}:quoted-default",
                )
        for rev in self.facts.revisions:
            for op in rev.upgrade:
                for col in op.columns:
                    if col.server_default and _SQL_CALL.match(col.server_default):
                        yield self.finding(
                            f"revision {rev.revision}: {op.table}.{col.name} has server_default={col.server_default}, a "
                            "Python string rendered as a quoted literal, not a call; use sa.text(...)",
                            col.span, f"migration:{rev.revision}:{op.table}.{col.name}:quoted-default",
                        )


class PythonIndexPredicate(Rule):
    """A partial index's predicate is a Python expression, evaluated once to True or False.

    What it checks:
        `postgresql_where=` (or `sqlite_where=`) given `col is None`, `col is not None`, `not col`,
        `a and b`, or a bare boolean, in `Index(...)`.
    Why it matters:
        Python evaluates `removed_at is None` when the class body runs: the mapped column object is not
        None, so the index gets `WHERE false` (an index of nothing; as a unique index it enforces
        nothing) or `WHERE true` instead of the predicate meant.
    Example:
        Index("ix_active", "patient_id", postgresql_where=(removed_at is None))
    Instead:
        `postgresql_where=text("removed_at IS NULL")`, or `removed_at.is_(None)` on the column object.
    """

    ID = "INT007"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from sqlalchemy import text
class CareTeamAssignment(Base):
    __tablename__ = "care_team_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_active", "patient_id", postgresql_where=text("removed_at IS NULL")),)
''',)
    INVALID = (HEADER + '''
class CareTeamAssignment(Base):
    __tablename__ = "care_team_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_active", "patient_id", postgresql_where=(removed_at is None)),)
''',)

    def check(self):
        for table in self.facts.tables.values():
            for ix in table.indexes:
                if ix.where_python:
                    effect = "a unique index that enforces nothing" if ix.unique else "an index the planner cannot use as meant"
                    yield self.finding(
                        f"index {ix.name or '(unnamed)'} on {table.name} has postgresql_where=({ix.where}), which Python "
                        f"evaluates to a bool when the class is defined: `WHERE false` or `WHERE true`, {effect}. "
                        "Write the predicate as text(...) or a column expression (.is_(None))",
                        ix.span, f"table:{table.name}:index:{ix.name}:where", item="5.5" if ix.unique else "3.3",
                    )


# Values made to be unique for ever: a token, a hash, a provider's id. Re-adding a row never reuses one.
_GENERATED = re.compile(r"token|hash|uuid|guid|secret|external|stripe|_key$|^key$|nonce|signature|fingerprint|checksum|"
                        r"_sid$|^sid$|_ref$|number$|^code$|_code$|serial|sequence|^id$|_uid$|processor|transaction|client_id|"
                        r"provider_id|account_id|short_id|^order$|position|version")


def _unique_keys_with_spans(facts, table):
    """(columns, where declared, predicate) of every unique constraint and index on `table`, model first."""
    migrated = facts.migration_tables.get(table.name)
    for t in (table, migrated):
        if t is None:
            continue
        for c in t.columns.values():
            if c.unique and not c.primary_key:
                yield (c.name,), c.span, None
        for con in t.constraints:
            if con.kind == "unique":
                yield tuple(con.columns), con.span, None
        for ix in t.indexes:
            if ix.unique and not ix.where_python:
                yield tuple(ix.columns), ix.span, ix.where
    for st in table_sql(facts, table.name):
        if st.kind == "create_index" and st.details.get("unique"):
            yield tuple(st.details.get("columns") or ()), st.span, st.details.get("where")


class UniqueBlocksSoftDeleted(Rule):
    """A unique constraint on a soft-deleted table counts the deleted rows.

    What it checks:
        Tables with a soft-delete column (`deleted_at`, `is_deleted`) whose unique constraints or unique
        indexes over values a person chooses (an email, a name, a slug, a pair of foreign keys) have no
        `WHERE deleted_at IS NULL`, and no partial unique index over the same columns stands beside them.
        Values made to stay unique for ever (tokens, hashes, external ids, numbers) are left alone.
    Why it matters:
        A soft-deleted row keeps its values: re-adding the same email, or enrolling the same patient
        again, fails with a unique violation although no live row has it; the usual work-around (mangling
        the deleted row's value) loses what the soft delete was meant to keep.
    Example:
        email: Mapped[str] = mapped_column(String(255), unique=True)   # on a table with deleted_at
    Instead:
        A partial unique index: `Index("uq_users_email_live", "email", unique=True,
        postgresql_where=text("deleted_at IS NULL"))`, in the model and in a migration.
    """

    ID = "INT008"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from sqlalchemy import text
class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_live", "email", unique=True, postgresql_where=text("deleted_at IS NULL")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    api_token: Mapped[str] = mapped_column(String(64), unique=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
''',)
    INVALID = (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
''',)

    def check(self):
        seen: set[tuple[str, int]] = set()
        sites: list[tuple] = []
        universal = universal_soft_delete(self.facts.tables)
        for table in self.facts.tables.values():
            flag = soft_delete_column(table)
            if flag is None or table.columns[flag].declared_in in universal:
                continue
            keys = list(_unique_keys_with_spans(self.facts, table))
            partial = [set(cols) for cols, _, where in keys if where and flag in where]
            reported: set[frozenset[str]] = set()
            for cols, span, where in keys:
                if where or not cols or flag in cols or frozenset(cols) in reported or set(cols) in partial:
                    continue
                if any(_GENERATED.search(c) or not c.isidentifier() for c in cols):
                    continue
                if (span.path, span.start) in seen or any(c.primary_key for c in table.columns.values() if c.name in cols):
                    continue
                seen.add((span.path, span.start))
                reported.add(frozenset(cols))
                sites.append((span, table.name, cols, flag))
        if len(sites) >= 3:  # the project's way of declaring uniqueness: one decision, said once
            names = ", ".join(f"{t} ({', '.join(c)})" for _, t, c, _ in sites[:5]) + (", ..." if len(sites) > 5 else "")
            yield self.grouped(
                f"{len(sites)} unique constraints on soft-deleted tables also count the deleted rows: {names}. Adding a "
                "row again with the same values after a soft delete fails with a unique violation; partial unique "
                f"indexes WHERE {_live(sites[0][3])} keep only live rows unique",
                [(span, f"table:{t}:unique:{','.join(c)}:soft-delete", f"{t} unique ({', '.join(c)})") for span, t, c, _ in sites],
                "soft-delete:unique-counts-deleted",
            )
            return
        for span, name, cols, flag in sites:
            yield self.finding(
                f"{name} is soft deleted ({flag}) but unique ({', '.join(cols)}) also counts the deleted rows: "
                f"adding a {name} row again with the same {', '.join(cols)} after a soft delete fails with a "
                f"unique violation; a partial unique index WHERE {_live(flag)} keeps live rows unique",
                span, f"table:{name}:unique:{','.join(cols)}:soft-delete",
            )


def _live(flag: str) -> str:
    return f"{flag} IS NULL" if flag.endswith(("_at", "_on", "_date")) else f"NOT {flag}"


class SetNullOnNotNull(Rule):
    """A foreign key sets NULL on delete, into a column that is NOT NULL.

    What it checks:
        Foreign keys with `ondelete="SET NULL"` (on the column or in a `ForeignKeyConstraint`, in the
        model or the migrations) whose column is NOT NULL in the database the migrations build (in the
        model when no migration builds it).
    Why it matters:
        Deleting the referenced row makes PostgreSQL set the column to NULL, which its NOT NULL refuses:
        the delete fails with a not-null violation. The schema says "keep the children" and "the children
        must have a parent" at once; one of them is wrong.
    Example:
        owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=False)
    Instead:
        Make the column nullable if children outlive their parent, or use `ondelete="CASCADE"`/`RESTRICT`
        if they must not.
    """

    ID = "INT009"
    ITEM = "3.6"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
''',)
    INVALID = (HEADER + '''
class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=False)
''',)

    def check(self):
        seen: set[tuple[str, int]] = set()
        done: set[tuple[str, str]] = set()
        for table in self.facts.tables.values():
            migrated = self.facts.migration_tables.get(table.name)
            sources = [table] + ([migrated] if migrated is not None and not migrated.from_sql else [])
            for t in sources:
                set_null = [(c.name, fk.span, fk.target) for c in t.columns.values() for fk in c.foreign_keys
                            if (fk.ondelete or "").upper() == "SET NULL"]
                set_null += [(name, con.span, con.target) for con in t.constraints
                             if con.kind == "foreign_key" and (con.ondelete or "").upper() == "SET NULL" for name in con.columns]
                for name, span, target in set_null:
                    col = (migrated.columns.get(name) if migrated is not None and not migrated.from_sql else None) or table.columns.get(name)
                    if col is None or col.is_nullable or col.type_args.get("unresolved") or (span.path, span.start) in seen:
                        continue
                    if (table.name, name) in done:
                        continue
                    done.add((table.name, name))
                    if col.nullable is None and table.unknown_bases:
                        continue
                    seen.add((span.path, span.start))
                    where = "" if col.span.path == span.path else f" ({col.span.path}:{col.span.start})"
                    yield self.finding(
                        f"{table.name}.{name} references {target} with ON DELETE SET NULL but is NOT NULL{where}: deleting "
                        f"the referenced row fails with a not-null violation instead of keeping the {table.name} row",
                        span, f"table:{table.name}.{name}:set-null", related=[(col.span, "NOT NULL here")] if where else (),
                    )


_ONE_OR_NONE = ("scalar_one_or_none", "one_or_none")
_NOT_ONE_ROW = ("limit", "first", "distinct", "group_by", "join", "outerjoin", "join_from", "select_from", "union",
                "union_all", "with_entities", "add_columns", "from_statement", "having")


class OneOrNoneOnNonUnique(Rule):
    """A query expects at most one row where the schema allows several.

    What it checks:
        `scalar_one_or_none()` / `one_or_none()` on a query of one model whose filters compare columns with
        `==` (or `filter_by`) and no unique constraint, unique index or primary key is made of those columns
        (in the model or the migrations). Queries with `limit`, `first`, joins, filters dbreview cannot read,
        or built in one function and run in another are left alone.
    Why it matters:
        `one_or_none` means "zero or one": the day two rows match, it raises `MultipleResultsFound` and the
        request fails with a 500. Either the database should enforce the uniqueness the code assumes, or the
        code should not assume it.
    Example:
        (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()   # email not unique
    Instead:
        A unique constraint (or partial unique index) over the columns the code looks up by; or `.first()`
        with an `order_by` if several rows are legitimate.
    """

    ID = "INT010"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    _MODELS = HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), {})
'''
    _CODE = '''
from sqlalchemy import select
from models import User
async def by_email(session, email):
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()
'''
    VALID = ({"models.py": _MODELS.format("unique=True"), "app/users.py": _CODE},)
    INVALID = ({"models.py": _MODELS.format("index=True"), "app/users.py": _CODE},)

    def check(self):
        sites: dict[tuple[str, tuple[str, ...]], list] = {}
        for q, table in app_queries(self.facts):
            if not any(m in q.methods for m in _ONE_OR_NONE) or any(m in q.methods for m in _NOT_ONE_ROW):
                continue
            if q.escapes or q.opaque_filter or q.columns_only or not q.equals or table.unknown_bases:
                continue
            equals = set(q.equals)
            if any(c.primary_key and c.attr in equals | {c.name} & equals for c in table.columns.values()):
                continue
            names = {c.attr or c.name: c.name for c in table.columns.values()}
            by_attr = {c.attr or c.name: c for c in table.columns.values()}
            if any(e not in names or by_attr[e].from_library for e in equals):
                continue  # an attribute dbreview does not know as a column (a relationship, a hybrid)
            columns = {names[e] for e in equals}
            if any(key and set(key) <= columns for key in _unique_keys(self.facts, table)):
                continue
            sites.setdefault((table.name, tuple(sorted(columns))), []).append((q, table))
        for (name, columns), found in sites.items():  # one lookup key, one finding: the other queries beside it
            q, table = found[0]
            method = next(m for m in _ONE_OR_NONE if m in q.methods)
            also = f" ({len(found) - 1} more quer{'y' if len(found) == 2 else 'ies'} by the same columns)" if len(found) > 1 else ""
            yield self.finding(
                f"{q.function} fetches {table.class_name} with {method}() by {', '.join(columns)}, which no unique "
                f"constraint or index of {name} covers: when two rows match it raises MultipleResultsFound{also}",
                q.span, f"function:{q.span.path}:{q.function}:{table.class_name}:one-or-none",
                related=[(x.span, f"{x.function}: the same lookup") for x, _ in found[1:]],
            )


class SqliteTestsSkipPolicies(Rule):
    """The tests build their database with create_all on SQLite, while production relies on PostgreSQL
    policies and triggers.

    What it checks:
        This rule reads the tests, on purpose (no other rule takes tests as evidence): test code that builds
        the schema with `metadata.create_all` (or Flask-SQLAlchemy's `db.create_all`) on a `sqlite://`
        database, with no PostgreSQL database and no `alembic upgrade` anywhere in the tests, in a project
        whose migrations create Row-Level Security policies or triggers.
    Why it matters:
        `create_all` builds tables from the models only: no policy, no `ENABLE ROW LEVEL SECURITY`, no
        trigger, and SQLite has none of them anyway. Every test of tenant isolation, audit immutability or
        trigger-maintained columns passes against a database where those rules do not exist: the tests
        prove nothing about them.
    Example:
        engine = create_async_engine("sqlite+aiosqlite:///:memory:"); await conn.run_sync(Base.metadata.create_all)
    Instead:
        Run the tests that touch tenant data against PostgreSQL (a service container or testcontainers),
        built with `alembic upgrade head`, as a role without BYPASSRLS.
    """

    ID = "INT011"
    ITEM = "3.7"
    SEVERITY = Severity.WARNING
    _MIGRATION = '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("tenant_id", sa.Integer, nullable=False))
    op.execute("ALTER TABLE notes ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY tenant_isolation ON notes USING (tenant_id = current_setting('app.tenant_id')::int)")
def downgrade():
    op.drop_table("notes")
'''
    _MODELS = HEADER + '''
class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(index=True)
'''
    VALID = ({"models.py": _MODELS, "migrations/versions/0001_a.py": _MIGRATION, "tests/conftest.py": '''
from alembic import command
from alembic.config import Config
def database():
    command.upgrade(Config("alembic.ini"), "head")
'''},)
    INVALID = ({"models.py": _MODELS, "migrations/versions/0001_a.py": _MIGRATION, "tests/conftest.py": '''
from sqlalchemy import create_engine
from models import Base
def database():
    engine = create_engine("sqlite:///:memory:")
    Base.metadata.create_all(engine)
    return engine
'''},)

    def check(self):
        roots = sorted({_app_root(r.path) for r in self.facts.revisions})
        statements = migration_sql(self.facts).statements
        for root in roots:  # each application with its own tests and its own migrations
            yield from self._application(root, [st for st in statements if st.span.path.startswith(root)])

    def _application(self, root: str, statements):
        tests = [m.usage.test_db for m in self.facts.modules
                 if m.usage is not None and is_test_path(m.path) and m.path.startswith(root)]
        builds = [s for t in tests for s in t.create_all]
        sqlite = [s for t in tests for s in t.sqlite]
        if not builds or not sqlite or any(t.postgres or t.migrates for t in tests):
            return
        rls = sorted({st.table for st in statements if st.kind in ("enable_rls", "create_policy") and st.table})
        triggers = [st for st in statements if st.kind == "create_trigger"]
        if not rls and not triggers:
            return
        relies = []
        if rls:
            relies.append(f"Row-Level Security on {len(rls)} table(s) ({', '.join(rls[:4])}{', ...' if len(rls) > 4 else ''})")
        if triggers:
            relies.append(f"{len(triggers)} trigger(s) ({triggers[0].span.path}:{triggers[0].span.start})")
        yield self.finding(
            f"the tests build their database with create_all on SQLite ({sqlite[0].path}:{sqlite[0].start}) and none runs "
            f"the migrations on PostgreSQL, while production relies on {' and '.join(relies)}: no test runs with them, "
            "so tests of tenant isolation or of what the triggers do prove nothing (this rule reads tests on purpose)",
            builds[0], f"tests:{root}create-all-sqlite", item="3.7" if rls else "3.8",
            related=[(s, "SQLite database URL") for s in sqlite[:5]] + [(s, "create_all") for s in builds[1:5]],
        )


def _app_root(path: str) -> str:
    """The folder of the application a revision file belongs to: what is above its migrations folder."""
    parts = path.split("/")
    i = next((i for i, p in enumerate(parts) if p in ("migrations", "alembic", "migration", "db_migrations")), None)
    return "/".join(parts[:i]) + "/" if i else ""
