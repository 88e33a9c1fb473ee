"""Section 9: Timezone Handling (FR-07)."""

from __future__ import annotations

import re

from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import column_anchor, column_sites, first_line, migrated_column, where_declared


class NaiveDateTime(Rule):
    """A datetime column is stored without a time zone.

    What it checks:
        `DateTime` / `TIMESTAMP` columns without `timezone=True` (including `Mapped[datetime]` with no
        type, which SQLAlchemy maps to a naive TIMESTAMP unless the base's type_annotation_map says
        otherwise). When the migrations made the column aware, the drift is MIG006's.
    Why it matters:
        `timestamp without time zone` stores wall-clock digits with no offset: a value written by a
        server in another zone, or across a DST change, is silently wrong, and comparisons with
        aware values fail.
    Example:
        scheduled_at: Mapped[datetime] = mapped_column(DateTime)
    Instead:
        `mapped_column(DateTime(timezone=True))`, or map `datetime` to it in the base's
        `type_annotation_map`.
    """

    ID = "TZ001"
    ITEM = "9.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
''',)
    INVALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime)
''',)

    def check(self):
        for table, col in column_sites(self.facts):
            in_db = migrated_column(self.facts, table, col.name)
            if col.timezone is False and in_db is not None and in_db.timezone:
                continue  # the database column is aware: a model/migration drift, which MIG006 reports
            if col.timezone is False and "impl" in col.type_args:  # a TypeDecorator: naive by design, naive all the same
                yield self.finding(
                    f"{where_declared(table, col)} is {col.type_name}, a TypeDecorator over {col.type_args['impl']} without "
                    "timezone=True: the database holds timestamps without a zone, which zone they mean lives only in "
                    "the decorator's Python code, and SQL that compares them with now() or aware values is off by the offset",
                    col.span, column_anchor(table, col),
                )
            elif col.timezone is False:
                how = "Mapped[datetime] with no type" if col.type_args.get("annotated") else col.type_name
                yield self.finding(
                    f"{where_declared(table, col)} is {how} without timezone=True: stored as local wall-clock time",
                    col.span, column_anchor(table, col),
                )


_NAIVE = re.compile(r"\b(datetime\.)?(utcnow|now)\(\)?$|datetime\.utcnow|datetime\.now$|\bdatetime\.now\(\)")


class NaiveDefault(Rule):
    """A timestamp's default is a naive Python datetime.

    What it checks:
        `default=` / `onupdate=` set to `datetime.utcnow`, or `datetime.now` without a time zone.
    Why it matters:
        `utcnow()` returns a naive value (deprecated since Python 3.12); stored in an aware column it
        is read as the server's local time, shifting every timestamp by the server's offset.
    Example:
        updated_at = mapped_column(DateTime(timezone=True), default=datetime.utcnow, onupdate=datetime.utcnow)
    Instead:
        `server_default=func.now(), onupdate=func.now()`, or `default=lambda: datetime.now(timezone.utc)`.
    """

    ID = "TZ002"
    ITEM = "9.4"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())
''',)
    INVALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=datetime.utcnow, onupdate=datetime.utcnow)
''',)

    def check(self):
        for table, col in column_sites(self.facts):
            for what, value in (("default", col.default), ("onupdate", col.onupdate)):
                if value and ("utcnow" in value or re.search(r"datetime\.now(\(\))?$", value.strip())):
                    yield self.finding(
                        f"{where_declared(table, col)} {what}={value} gives a naive datetime", col.span,
                        f"{column_anchor(table, col)}:{what}",
                    )
                    break


class TimezoneFieldMissing(Rule):
    """An organization or user has no IANA time zone field.

    What it checks:
        A `timezone` column on the organizations table (required, e.g. "America/New_York") and on
        the users table (optional override).
    Why it matters:
        FR-07: times are displayed in the user's zone, else the organization's. Without the field,
        reminders and schedules show UTC or the server's zone.
    Example:
        class Organization(Base): id, name   # no timezone
    Instead:
        `timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")` on organizations and
        a nullable one on users.
    """

    ID = "TZ003"
    ITEM = "9.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
''',)
    INVALID = (HEADER + '''
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
''',)

    def check(self):
        for table in self.facts.tables.values():
            item = "9.2" if re.match(r"^organizations?$", table.name) else "9.3" if re.match(r"^users?$", table.name) else None
            if item and not any(c in table.columns for c in ("timezone", "time_zone", "tz")):
                yield self.finding(
                    f"{table.label} has no timezone field (IANA name, FR-07)", first_line(table.span),
                    f"table:{table.name}:timezone", item=item,
                )
