"""Section 4: HIPAA Compliance (soft deletes, audit trail, consent)."""

from __future__ import annotations

import re

from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER, PATIENT
from analyzers.rules.fk_reads import deletes
from analyzers.rules.schema import (
    audit_triggers, end_marker, first_line, healthcare, is_clinical, is_link_table, is_test_path, migration_sql, table_sql,
    unique_over,
)

_AUDIT = re.compile(r"^audit_(logs?|events?|trail)$")


def _soft_deletable(table) -> bool:
    return any(c in table.columns for c in ("deleted_at", "is_deleted", "archived_at"))


class ClinicalWithoutSoftDelete(Rule):
    """A table of clinical data has no soft-delete column.

    What it checks:
        In a schema with patients, tables holding clinical or patient data (appointments, documents,
        care teams, contact methods...) without `deleted_at`. Pure associations (enrollments,
        memberships) are left out, and so is a link ended by `removed_at`/`revoked_at` that no code deletes
        (info where some code does). A table with a `status` that no code deletes rows of is info (retired by
        status: the reads must leave those out; a parent's ON DELETE CASCADE is named); where the code deletes
        its rows, a warning naming the delete. A warning, not a critical, where an audit trigger of the
        migrations fires on the table's DELETEs: the record of each deleted row survives there. Critical
        where the code deletes its rows (the delete is cited; a `.delete(x)` on an object whose class dbreview cannot tell
        does not count); a warning where no code dbreview read does.
    Why it matters:
        FR-03: clinical data is never hard deleted. Without `deleted_at`, the only way to remove a
        record is DELETE, which destroys what HIPAA's retention and audit rules require to keep.
    Example:
        class Appointment(Base):   # no SoftDeleteMixin, no deleted_at
    Instead:
        Add the SoftDeleteMixin (`deleted_at: Mapped[datetime | None]`), filter it in queries, and
        revoke DELETE from the application role.
    """

    ID = "HIP001"
    ITEM = "4.1"
    SEVERITY = Severity.CRITICAL
    VALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
''',)
    INVALID = (HEADER + PATIENT + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
''',)
    VALID = VALID + (HEADER + '''
class OrganizationPatient(Base):  # an enrollment: its key is its two foreign keys
    __tablename__ = "organization_patients"
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
''',)

    def check(self):
        if not healthcare(self.facts):
            return  # no patients: nothing here is clinical data
        audited = {t.table: t for t in audit_triggers(migration_sql(self.facts).statements) if "DELETE" in t.details.get("events", ())}
        for table in self.facts.tables.values():
            if not is_clinical(table.name) or _soft_deletable(table) or is_link_table(table):
                continue
            marker = end_marker(table)
            status = next((c for c in ("status", "state") if c in table.columns), None)
            deleted = deletes(self.facts, table) if marker or status else None
            if marker:
                if deleted is None:
                    continue  # rows are ended by the marker, and no code dbreview read deletes them
                yield self.finding(
                    f"{table.label} has no deleted_at; {marker} records the end of the link, but the code also deletes "
                    f"its rows ({deleted.path}:{deleted.start}): check that the ended links are kept",
                    first_line(table.span), f"table:{table.name}:soft-delete", severity=Severity.INFO,
                    related=[(deleted, "deletes rows of the table")],
                )
                continue
            if status and deleted is None:
                cascades = sorted({fk.table for c in table.columns.values() for fk in c.foreign_keys
                                   if (fk.ondelete or "").upper() == "CASCADE"})
                yield self.finding(
                    f"{table.label} holds clinical data and has no deleted_at, the checklist's soft delete; no code "
                    f"dbreview read deletes its rows, which seem retired through its `{status}` column: every read must "
                    "leave the retired ones out" + (
                        f", and a DELETE of a parent row still removes them (ON DELETE CASCADE from {', '.join(cascades)})"
                        if cascades else ""),
                    first_line(table.span), f"table:{table.name}:soft-delete", severity=Severity.INFO,
                    related=[(table.columns[status].span, f"its {status} column")],
                )
                continue
            if status:
                yield self.finding(
                    f"{table.label} holds clinical data and has no deleted_at, and the code deletes its rows "
                    f"({deleted.path}:{deleted.start}) although it has a `{status}` column to retire them by",
                    first_line(table.span), f"table:{table.name}:soft-delete", severity=Severity.WARNING,
                    related=[(table.columns[status].span, f"its {status} column"), (deleted, "deletes rows of the table")],
                )
                continue
            audit = audited.get(table.name)
            if audit is not None:  # the row is gone from the table, not from the record: a release need not wait on it
                yield self.finding(
                    f"{table.label} holds clinical data but has no deleted_at: records can only be hard deleted, and "
                    f"only the audit trigger {audit.details.get('name')} keeps a trace of each deleted row (check that it "
                    "records the whole row)",
                    first_line(table.span), f"table:{table.name}:soft-delete", severity=Severity.WARNING,
                    related=[(audit.span, f"audit trigger on {table.name}, fires on DELETE")],
                )
                continue
            deleted = deletes(self.facts, table, sure=True)  # `session.delete(url)` of an HTTP client is no delete of rows
            if deleted is None:  # nothing destroys a record yet: the gap is in the schema, not in a release's behaviour
                yield self.finding(
                    f"{table.label} holds clinical data but has no deleted_at: records can only be hard deleted; no code "
                    "dbreview read deletes its rows today",
                    first_line(table.span), f"table:{table.name}:soft-delete", severity=Severity.WARNING,
                )
                continue
            yield self.finding(
                f"{table.label} holds clinical data but has no deleted_at: records can only be hard deleted, and the "
                f"code deletes its rows ({deleted.path}:{deleted.start})",
                first_line(table.span), f"table:{table.name}:soft-delete", related=[(deleted, "deletes rows of the table")],
            )


class CascadeDeletesClinical(Rule):
    """Deleting a parent row deletes clinical records with it.

    What it checks:
        Foreign keys with `ondelete="CASCADE"` on tables of clinical data (not on pure associations,
        whose rows end a link rather than hold a record), in a schema with patients.
    Why it matters:
        One DELETE of a patient (or organization, user) silently destroys its appointments,
        documents and care history: a hard delete of PHI, with no audit row for each record lost.
    Example:
        patient_id = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    Instead:
        `ondelete="RESTRICT"` (the default NO ACTION also works) and soft delete the parent.
    """

    ID = "HIP002"
    ITEM = "4.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
''',)
    INVALID = (HEADER + PATIENT + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
''',)

    VALID = VALID + (HEADER + '''
class OrganizationPatient(Base):  # deleting a patient ends its enrollments: no clinical record is lost
    __tablename__ = "organization_patients"
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
''',)

    def check(self):
        if not healthcare(self.facts):
            return
        for table in self.facts.tables.values():
            if not is_clinical(table.name) or is_link_table(table):
                continue  # a cascade that ends an enrollment or membership destroys no clinical record
            for col in table.columns.values():
                for fk in col.foreign_keys:
                    if (fk.ondelete or "").upper() == "CASCADE":
                        yield self.finding(
                            f"{table.name}.{col.name} cascades deletes from {fk.table}: deleting that row hard "
                            f"deletes these {table.name} records",
                            fk.span, f"table:{table.name}.{col.name}:cascade",
                        )


class AuditIpNotInet(Rule):
    """IP addresses in the audit trail are stored as text.

    What it checks:
        `ip_address` columns of audit and consent tables whose type is not PostgreSQL `INET`. Info
        when the tests build the same models on SQLite, which has no INET: `with_variant` serves both.
    Why it matters:
        Text accepts anything (typos, spoofed header junk), cannot be range-queried for an incident
        ("every access from 10.0.0.0/8") and compares case- and format-sensitively.
    Example:
        ip_address: Mapped[str] = mapped_column(String(45))
    Instead:
        `from sqlalchemy.dialects.postgresql import INET`; `mapped_column(INET)`.
    """

    ID = "HIP003"
    ITEM = "2.audit.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class AuditLog(Base):
    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    ip_address: Mapped[str | None] = mapped_column(INET)
''',)
    INVALID = (HEADER + '''
class AuditLog(Base):
    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
''',)

    def check(self):
        sqlite = [s for m in self.facts.modules if m.usage is not None and is_test_path(m.path) for s in m.usage.test_db.sqlite]
        for table in self.facts.tables.values():
            if not (_AUDIT.match(table.name) or "consent" in table.name or "session" in table.name):
                continue
            for col in table.columns.values():
                if col.name in ("ip_address", "ip", "client_ip") and col.type_name not in ("INET", "CIDR"):
                    item = "2.audit.5" if "consent" in table.name else self.ITEM
                    said = f"{table.name}.{col.name} is {col.type_name or 'untyped'}, not INET"
                    if sqlite:  # the same models also run on SQLite, which has no INET
                        yield self.finding(
                            f"{said}; the tests also build these models on SQLite ({sqlite[0].path}:{sqlite[0].start}), "
                            f"which has no INET: `{col.type_name or 'String'}(...).with_variant(INET(), \"postgresql\")` "
                            "gives PostgreSQL the address type and keeps SQLite working",
                            col.span, f"table:{table.name}.{col.name}", item=item, severity=Severity.INFO,
                            related=[(sqlite[0], "SQLite database URL")],
                        )
                        continue
                    yield self.finding(said, col.span, f"table:{table.name}.{col.name}", item=item)


class AuditLogMutable(Rule):
    """The audit log can be changed or deleted.

    What it checks:
        For an audit table: a trigger that blocks UPDATE/DELETE, or a REVOKE of UPDATE and DELETE,
        in the migrations.
    Why it matters:
        An audit trail that the application role can rewrite proves nothing: HIPAA requires records
        of access that an intruder (or an insider) cannot erase.
    Example:
        op.create_table("audit_logs", ...)   # and nothing else
    Instead:
        A BEFORE UPDATE OR DELETE trigger that raises, and `REVOKE UPDATE, DELETE ON audit_logs FROM app_role`.
    """

    ID = "HIP004"
    ITEM = "2.audit.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class AuditLog(Base):
    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
''', {"migrations/versions/0001_a.py": '''
from alembic import op
revision = "0001"
down_revision = None
def upgrade():
    op.execute("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_logs FOR EACH ROW EXECUTE FUNCTION forbid()")
def downgrade():
    op.execute("DROP TRIGGER audit_append_only ON audit_logs")
''', "models.py": HEADER + '''
class AuditLog(Base):
    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
'''})
    INVALID = ({"migrations/versions/0001_a.py": '''
from alembic import op
revision = "0001"
down_revision = None
def upgrade():
    op.execute("SELECT 1")
def downgrade():
    pass
''', "models.py": HEADER + '''
class AuditLog(Base):
    __tablename__ = "audit_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
'''},)

    def check(self):
        if not self.facts.revisions:
            return  # without migrations there is nothing to read triggers or grants from
        for table in self.facts.tables.values():
            if not _AUDIT.match(table.name):
                continue
            guarded = any(
                (st.kind == "create_trigger" and {"UPDATE", "DELETE"} & set(st.details.get("events", [])))
                or (st.kind == "revoke" and {"update", "delete", "all"} & set(st.details.get("privileges", [])))
                for st in table_sql(self.facts, table.name)
            )
            if not guarded:
                yield self.finding(
                    f"nothing in the migrations stops UPDATE or DELETE on {table.name}: the audit trail is not "
                    "append-only", first_line(table.span), f"table:{table.name}:append-only",
                )


_PATIENT = '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
'''
_DEVICE = '''
class UserDevice(Base):
    __tablename__ = "user_devices"
    id: Mapped[int] = mapped_column(primary_key=True)
'''
_CONTACT = '''
class ContactMethod(Base):
    __tablename__ = "contact_methods"
    id: Mapped[int] = mapped_column(primary_key=True)
'''
_DELETE = '''
from sqlalchemy import select
from models import {model}
async def remove(db, item_id):
    result = await db.execute(select({model}).where({model}.id == item_id))
    item = result.scalar_one_or_none()
    await db.delete(item)
'''


class HardDeleteCall(Rule):
    """Application code deletes rows with session.delete().

    What it checks:
        Calls of `session.delete(obj)` in application code (not tests), in a schema with patients. The
        object's model is read from the function (`select(Model)`, `session.get(Model, ...)`,
        `Model.query`): a clinical model is a warning, another model no finding, an unknown one info.
    Why it matters:
        If `obj` is clinical data this is the hard delete FR-03 forbids. A static reader cannot
        always tell the object's model: look at each call.
    Example:
        await session.delete(appointment)
    Instead:
        `appointment.deleted_at = func.now()`, and keep hard deletes for non-clinical data.
    """

    ID = "HIP005"
    ITEM = "4.1"
    SEVERITY = Severity.INFO
    VALID = ({"svc.py": "from sqlalchemy import update\nasync def cancel(session, a):\n    a.deleted_at = now()\n"},
             {"models.py": HEADER + _DEVICE, "svc.py": _DELETE.format(model="UserDevice")})
    INVALID = ({"svc.py": "async def cancel(session, a):\n    await session.delete(a)\n", "models.py": HEADER + _PATIENT},
               {"models.py": HEADER + _PATIENT + _CONTACT, "svc.py": _DELETE.format(model="ContactMethod")})

    def check(self):
        if not healthcare(self.facts):
            return  # no patients, no clinical data to lose
        by_class = {t.class_name: t for t in self.facts.tables.values() if t.class_name}
        for call in self.facts.calls:
            if call.name != "session.delete" or is_test_path(call.span.path):
                continue
            what = call.target or "an object"
            model = call.kwargs.get("model")
            table = by_class.get(model or "")
            if table is not None:
                if not is_clinical(table.name) or is_link_table(table):
                    continue  # a notification, a device, a task: hard deleting it is fine
                soft = " although the table has deleted_at" if _soft_deletable(table) else ""
                yield self.finding(
                    f"hard delete of `{what}`, a {model} ({table.name}): clinical data must be soft deleted{soft}",
                    call.span, f"delete:{what}", severity=Severity.WARNING,
                )
                continue
            clinical = " (looks clinical)" if is_clinical(what.lower()) or is_clinical((model or "").lower()) else ""
            yield self.finding(
                f"hard delete of `{what}`{clinical}: the model it belongs to is not evident here; check that it is "
                "not clinical data, which must be soft deleted",
                call.span, f"delete:{what}",
            )


class ConsentNotVersioned(Rule):
    """Consent documents are not versioned.

    What it checks:
        A consent document table with a `version` column and a unique (document type, version)
        constraint.
    Why it matters:
        A signature must point at the exact text the user agreed to; without versions, updating the
        TOS rewrites what every past signer appears to have accepted.
    Example:
        class ConsentDocument(Base): id, type, content   # no version
    Instead:
        `version` NOT NULL, `UniqueConstraint("document_type", "version")`, and rows never updated.
    """

    ID = "HIP006"
    ITEM = "4.6"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class ConsentDocument(Base):
    __tablename__ = "consent_documents"
    __table_args__ = (UniqueConstraint("document_type", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(20))
''',)
    INVALID = (HEADER + '''
class ConsentDocument(Base):
    __tablename__ = "consent_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(String(20))
''',)

    def check(self):
        for table in self.facts.tables.values():
            if not re.search(r"consent_(documents?|versions?|templates?)$", table.name):
                continue
            if "version" not in table.columns:
                yield self.finding(f"{table.label} has no version column", first_line(table.span), f"table:{table.name}:version")
                continue
            if not unique_over(self.facts, table, ("version",), exact=False):
                yield self.finding(
                    f"{table.name}.version is not unique per document type: two different texts can share a version",
                    table.columns["version"].span, f"table:{table.name}:version-unique", severity=Severity.INFO,
                )
