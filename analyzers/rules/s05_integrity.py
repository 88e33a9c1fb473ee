"""Section 5: Data Integrity (keys, references, business rules in the database)."""

from __future__ import annotations

import re

from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import all_constraints, all_indexes, column_anchor, column_sites, where_declared


class SequentialPrimaryKey(Rule):
    """A table uses a sequential integer primary key.

    What it checks:
        Integer, BigInteger or SmallInteger primary keys (autoincrement, SERIAL, IDENTITY).
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
        for table, col in column_sites(self.facts):
            pk_cols = [c for c in table.columns.values() if c.primary_key]
            if col.primary_key and len(pk_cols) == 1 and col.type_name in ("Integer", "BigInteger", "SmallInteger", "INTEGER", "BIGINT"):
                yield self.finding(
                    f"{where_declared(table, col)} is a sequential {col.type_name} key, not a ULID-based UUID",
                    col.span, column_anchor(table, col),
                )


_EXTERNAL = re.compile(r"stripe|external|session_id|request_id|correlation|trace|idempotency|fcm|device_id|"
                       r"subscription_id|customer_id|payment|price_id|s3|object_id|message_id|provider_account|"
                       r"_sid$|twilio|sendgrid|firebase|google|apple|oauth|sub_id|tax_id|npi|dea|employee_id|job_id|task_id")


class IdWithoutForeignKey(Rule):
    """A column that references another table has no foreign key.

    What it checks:
        `*_id` columns of a UUID or integer type with no ForeignKey in the model and no foreign key
        constraint in the migrations (ids of outside systems, like Stripe's, are left out).
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
    INVALID = (HEADER + '''
class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
''',)

    def check(self):
        for table, col in column_sites(self.facts):
            if not col.name.endswith("_id") or col.primary_key or col.foreign_keys or _EXTERNAL.search(col.name):
                continue
            if col.type_name not in ("UUID", "Uuid", "GUID", "Integer", "BigInteger", "SmallInteger"):
                continue
            stem = col.name[: -len("_id")]
            if f"{stem}_type" in table.columns or "owner_type" in table.columns and stem == "owner":
                continue  # polymorphic reference: see BIL004
            in_constraints = any(c.kind == "foreign_key" and col.name in c.columns for c in all_constraints(table, self.facts))
            migrated = self.facts.migration_tables.get(table.name)
            in_migration = bool(migrated and migrated.columns.get(col.name) and migrated.columns[col.name].foreign_keys)
            if not (in_constraints or in_migration):
                yield self.finding(
                    f"{where_declared(table, col)} looks like a reference but has no foreign key: it can point at rows "
                    "that do not exist", col.span, column_anchor(table, col),
                )


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
                st.table == table.name and "PRIMARY" in st.text.upper() and ("UNIQUE" in st.text.upper() or "EXCLUDE" in st.text.upper())
                for st in self.facts.migration_sql
            )
            if not enforced:
                yield self.finding(
                    f"{table.name}: no partial unique index on patient_id WHERE {role} = 'PRIMARY': a patient can get two "
                    "PRIMARY providers", table.columns[role].span, f"table:{table.name}:one-primary", item="2.care.2",
                )


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
    VALID = (HEADER + '''
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
''',)

    def check(self):
        for table in self.facts.tables.values():
            if not re.match(r"^providers?$", table.name):
                continue
            npi = next((table.columns[c] for c in ("npi_number", "npi") if c in table.columns), None)
            if npi is None or npi.unique or "organization_id" not in table.columns:
                continue
            pair = {"organization_id", npi.name}
            unique = any(c.kind == "unique" and set(c.columns) == pair for c in all_constraints(table, self.facts))
            unique |= any(i.unique and set(i.columns) == pair and not i.where for i in all_indexes(table, self.facts))
            unique |= any(
                st.table == table.name and st.kind == "create_index" and st.details.get("unique") and set(st.details.get("columns", ())) == pair
                for st in self.facts.migration_sql
            )
            if not unique:
                yield self.finding(
                    f"{table.name}: no unique (organization_id, {npi.name}): one provider can be registered twice in an "
                    "organization", npi.span, f"table:{table.name}:npi-unique",
                )


class EnumAsFreeText(Rule):
    """A status-like column accepts any text.

    What it checks:
        String columns named status, role, type, kind, priority, category or state, with no Enum type
        and no CHECK constraint naming the column.
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
''',)
    NAMES = re.compile(r"(^|_)(status|role|type|kind|priority|category|state)$")

    def check(self):
        for table, col in column_sites(self.facts):
            if not self.NAMES.search(col.name) or col.type_name not in ("String", "Text", "VARCHAR", "Unicode"):
                continue
            checked = any(
                c.kind == "check" and col.name in (c.expression or "") for c in all_constraints(table, self.facts)
            ) or any(st.table == table.name and "CHECK" in st.text.upper() and col.name in st.text for st in self.facts.migration_sql)
            if not checked:
                yield self.finding(
                    f"{where_declared(table, col)} is free text: no Enum type or CHECK constraint limits its values",
                    col.span, column_anchor(table, col),
                )
