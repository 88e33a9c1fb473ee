"""Section 8: Performance Considerations (indexes on foreign keys and JSONB)."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import all_indexes, column_anchor, fk_columns, index_leads, where_declared


class ForeignKeyWithoutIndex(Rule):
    """A foreign key column has no index.

    What it checks:
        Columns with a foreign key that lead no index (from `index=True`, `__table_args__`, or the
        migrations), and are not the first column of the primary key or a unique constraint.
    Why it matters:
        PostgreSQL does not index foreign keys by itself: every join or filter on the column scans
        the table, and every DELETE or key UPDATE on the parent scans the child to check references.
    Example:
        provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    Instead:
        `mapped_column(ForeignKey("providers.id"), index=True)`, or a composite index led by it.
    """

    ID = "PERF001"
    ITEM = "8.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
''',)
    INVALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
''',)

    def check(self):
        seen: set[tuple[str, int]] = set()
        for table in self.facts.tables.values():
            leads = index_leads(table, self.facts)
            for col in fk_columns(table):
                key = (col.span.path, col.span.start)
                if col.name in leads or key in seen:
                    continue
                seen.add(key)
                yield self.finding(
                    f"{where_declared(table, col)} is a foreign key with no index: joins and parent deletes scan {table.name}",
                    col.span, column_anchor(table, col),
                )


class JsonbWithoutGin(Rule):
    """A JSONB column has no GIN index.

    What it checks:
        JSONB columns with no index using `gin` (in the model or the migrations).
    Why it matters:
        Containment and key queries (`@>`, `?`) on JSONB without GIN scan every row. A static reader
        cannot see whether the column is queried that way: check before adding the index, which
        costs writes.
    Example:
        settings: Mapped[dict] = mapped_column(JSONB)
    Instead:
        `Index("ix_org_settings", "settings", postgresql_using="gin")` if it is queried.
    """

    ID = "PERF002"
    ITEM = "8.3"
    SEVERITY = Severity.INFO
    VALID = (HEADER + '''
class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (Index("ix_settings", "settings", postgresql_using="gin"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    settings: Mapped[dict] = mapped_column(JSONB)
''',)
    INVALID = (HEADER + '''
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    settings: Mapped[dict] = mapped_column(JSONB)
''',)

    def check(self):
        for table in self.facts.tables.values():
            gin = {c for ix in all_indexes(table, self.facts) if (ix.using or "").lower() == "gin" for c in ix.columns}
            gin |= {
                c for st in self.facts.migration_sql
                if st.kind == "create_index" and st.table == table.name and str(st.details.get("using", "")).lower() == "gin"
                for c in st.details.get("columns", ())
            }
            for col in table.columns.values():
                if col.type_name == "JSONB" and col.name not in gin:
                    yield self.finding(
                        f"{table.name}.{col.name} is JSONB with no GIN index: containment queries on it scan the table (if it is queried)",
                        col.span, f"table:{table.name}.{col.name}:gin",
                    )


class DynamicRelationship(Rule):
    """A relationship loads lazily in a way that invites N+1 queries.

    What it checks:
        `relationship(..., lazy="dynamic")` and `lazy="select"` written out on collections.
    Why it matters:
        Each access runs a query; looping over parents runs one query per parent (N+1). Under
        asyncio, implicit lazy loads fail outright.
    Example:
        appointments = relationship("Appointment", lazy="dynamic")
    Instead:
        `lazy="selectin"` (or `raise` plus explicit `selectinload()` in the queries that need it).
    """

    ID = "PERF003"
    ITEM = "8.4"
    SEVERITY = Severity.INFO
    VALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointments = relationship("Appointment", lazy="selectin")
''',)
    INVALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointments = relationship("Appointment", lazy="dynamic")
''',)

    def check(self):
        for table in self.facts.tables.values():
            for rel in table.relationships:
                if rel.lazy in ("dynamic", "select") and rel.uselist is not False:
                    yield self.finding(
                        f"{table.class_name}.{rel.attr} loads with lazy=\"{rel.lazy}\": one query per parent when iterated",
                        rel.span, f"relationship:{table.class_name}.{rel.attr}:lazy",
                    )
