"""Section 9: Timezone Handling (FR-07)."""

from __future__ import annotations

import ast
import re
import textwrap
from collections import Counter

from analyzers import confine
from analyzers.facts.aware_times import returned_by
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import app_usage, function_around, table_variable
from analyzers.rules.examples_common import HEADER
from analyzers.rules.mentions import mentions
from analyzers.rules.runs_on import runs_on
from analyzers.facts.model import Span
from analyzers.rules.schema import (
    column_anchor, column_sites, first_line, function_source, is_test_path, migrated_column, other_databases, where_declared,
)


class NaiveDateTime(Rule):
    """A datetime column is stored without a time zone.

    What it checks:
        `DateTime` / `TIMESTAMP` columns without `timezone=True` (including `Mapped[datetime]` with no
        type, which SQLAlchemy maps to a naive TIMESTAMP unless the base's type_annotation_map says
        otherwise). When the migrations made the column aware, the drift is MIG006's. When most
        timestamps are naive, that is the project's convention: one info finding lists them; otherwise
        each naive column is a warning. Where the project holds several services, each a project with an
        Alembic set-up of its own (`backend/alembic/env.py` beside `backend/requirements.txt`, and
        `inference/server/...`: databases of their own), the convention is each service's, and so are the counts
        the message gives. Calendar dates kept in a datetime (a birthday) are left out, and so
        are columns of a TypeDecorator whose `process_bind_param` converts every value to UTC (UTC stored on
        purpose): such a decorator over a naive type is one info, at its class, that names its columns and says
        that only the code passing through it knows their zone; beside such a decorator a plain naive column is info (wall-clock times, or a column that
        missed the decorator), and several in one folder are one info finding (one decision). Where the application also runs on SQLite or MariaDB/MySQL (an engine module that sets
        SQLite up, a docker-compose service), whose datetime columns keep no zone either way, the finding
        says so and is info; where it is known to run on MySQL or MariaDB and nothing names PostgreSQL, no
        finding. A lone naive column that no query of the application tests in SQL (no filter,
        join condition or SQL text names it, no Core table's `t.c.col` is compared; it is only written, ordered or
        shown) is info that says so, and so is one that code handling it strips the zone from, in the same
        function (`now = datetime.now(UTC).replace(tzinfo=None)`: naive UTC on purpose; found by the attribute's
        name). The message says "unlike the project's other timestamps" only where at least four in five are
        aware; elsewhere it says how many are naive.
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
        if runs_on(self.facts).mysql_only:
            return  # MySQL's DATETIME and SQLite keep no zone whatever the model says: timezone=True changes nothing
        naive, aware, decorators, through = [], Counter(), {}, {}
        service = _services(self.facts)
        carried = Counter(id(c) for t in self.facts.tables.values() for c in t.columns.values())  # a mixin's: each table's
        for table, col in column_sites(self.facts):
            in_db = migrated_column(self.facts, table, col.name)
            aware[service(col.span.path)] += carried[id(col)] or 1 if col.timezone or (in_db is not None and in_db.timezone) else 0
            if col.timezone is False and in_db is not None and in_db.timezone:
                continue  # the database column is aware: a model/migration drift, which MIG006 reports
            if col.timezone is False and not _CALENDAR_DATE.search(col.name):
                if "impl" in col.type_args and (span := utc_on_bind(self.facts, col.type_name or "")):
                    aware[service(col.span.path)] += carried[id(col)] or 1  # UTC on purpose: the decorator converts each value
                    decorators[col.type_name] = span
                    through.setdefault(col.type_name, []).append((table, col))
                    continue
                naive.append((table, col))
        elsewhere = other_databases(self.facts)
        also = (f" The application also runs on {' and '.join(f'{db} ({s.path}:{s.start})' for db, s in elsewhere)}, "
                "whose datetime columns keep no zone either way: timezone=True changes only the PostgreSQL columns"
                if elsewhere else "")
        for name, columns in through.items():
            yield self._naive_by_design(name, decorators[name], columns, also)
        services = sorted(set(aware) | {service(c.span.path) for _, c in naive})
        for root in services:  # each service with its own migrations keeps its own convention
            mine = [(t, c) for t, c in naive if service(c.span.path) == root]
            weight = sum(carried[id(c)] or 1 for _, c in mine)
            yield from self._naive(mine, weight, aware[root], decorators, also, elsewhere, root if len(services) > 1 else None)

    def _naive(self, naive, weight, aware, decorators, also, elsewhere, service):
        """The naive columns of one service (the project, or the folder of one of its Alembic set-ups), where
        `aware` timestamp columns are aware; a mixin's column counts once per table (`weight` in all)."""
        under = f" under {service}/" if service else ""  # a service of its own, with its own migrations
        if weight >= 3 and weight * 3 >= (weight + aware) * 2:
            # The project's own convention (naive UTC by habit): one decision to weigh, not a defect per column.
            names = ", ".join(f"{t.name}.{c.name}" for t, c in naive[:5]) + (", ..." if len(naive) > 5 else "")
            whose = "the convention there" if service else "the project's convention"
            yield self.grouped(
                f"{weight} of {weight + aware} timestamp columns{under} have no time zone ({names}): {whose}. "
                "They hold UTC only as long as every writer passes naive UTC; SQL that compares them with now() or with "
                "aware values is off by the session's offset. The checklist asks for DateTime(timezone=True)"
                + (f".{also}" if also else ""),
                [(c.span, column_anchor(t, c), f"{t.name}.{c.name}") for t, c in naive],
                "timestamps:naive-convention" + (f":{service}" if service else ""), severity=Severity.INFO,
            )
            return
        severity = Severity.INFO if elsewhere else None
        if decorators:
            naive = yield from self._packages_beside(decorators, naive, also)
        for table, col in naive:  # a few columns off the project's aware convention
            if "impl" in col.type_args:  # a TypeDecorator: naive by design, naive all the same
                yield self.finding(
                    f"{where_declared(table, col)} is {col.type_name}, a TypeDecorator over {col.type_args['impl']} without "
                    "timezone=True: the database holds timestamps without a zone, which zone they mean lives only in "
                    "the decorator's Python code, and SQL that compares them with now() or aware values is off by the "
                    f"offset{also and '.' + also}",
                    col.span, column_anchor(table, col), severity=severity,
                )
            elif decorators:  # the project keeps zones in Python: a plain column here may mean wall-clock time
                name, span = next(iter(decorators.items()))
                yield self.finding(
                    f"{where_declared(table, col)} is {col.type_name} without timezone=True, and not {name}, which the "
                    f"project's other timestamps use to store UTC ({span.path}:{span.start}): it holds the digits each "
                    "writer passes, in no stated zone. Wall-clock times on purpose, or a column that missed the "
                    f"decorator: check{also and '.' + also}",
                    col.span, column_anchor(table, col), severity=Severity.INFO, related=[(span, f"{name} converts to UTC")],
                )
            else:
                how = "Mapped[datetime] with no type" if col.type_args.get("annotated") else col.type_name
                # "unlike the others" only where it is: a few naive columns among many aware ones
                unlike = ((f", unlike the other timestamps{under}," if service else ", unlike the project's other timestamps,")
                          if aware >= 4 * weight else
                          (f" (as {weight} of the {weight + aware} timestamp columns{under} are)" if service else
                           f" (as {weight} of the project's {weight + aware} timestamp columns are)") if aware else "")
                untested = not _tested_in_sql(self.facts, table, col)
                joined = _joined_on(self.facts, table, col) if untested else None
                stripped = None if untested else _strips_zone(self.facts, col.attr or col.name)
                yield self.finding(
                    f"{where_declared(table, col)} is {how} without timezone=True{unlike}: the column keeps no offset "
                    "(timestamp without time zone), so an aware value loses its zone and comparisons with aware "
                    "values are off by the offset" + (
                        f"; SQL compares it only with another column, in a join ({joined.path}:{joined.start}), not with "
                        "a value" if joined else
                        "; no query of the application tests it in SQL (it is written, ordered or shown; a comparison "
                        "made in Python on the loaded rows is not followed)" if untested else "") + (
                        f"; but code that handles {col.attr or col.name} ({stripped.path}:{stripped.start}) strips the "
                        "zone from a UTC value (`.replace(tzinfo=None)`): naive UTC on purpose, consistent while every "
                        "writer and comparison does the same" if stripped else "") + (also and "." + also),
                    col.span, column_anchor(table, col), severity=Severity.INFO if untested or stripped else severity,
                    related=[(joined, "compares it with another column")] if joined else (),
                )

    def _naive_by_design(self, name, bind, columns, also):
        """The project's UTC decorator over a naive type: one info for the decision it stands for, at its class."""
        at = next((c.span for m in self.facts.modules for c in m.classes if c.name == name and c.impl is not None), bind)
        names = ", ".join(f"{t.name}.{c.name}" for t, c in columns[:5]) + (", ..." if len(columns) > 5 else "")
        impl = columns[0][1].type_args["impl"]
        return self.finding(
            f"{name} is a TypeDecorator over {impl} without timezone=True: {len(columns)} timestamp "
            f"column{'s' if len(columns) > 1 else ''} ({names}) store naive UTC in `timestamp without time zone` on "
            "purpose, the zone kept only in the decorator's Python code. What does not pass through it (raw SQL, a "
            "server default such as now(), another client, a database session whose TimeZone is not UTC) reads and "
            "writes these digits in its own zone, and the database cannot tell UTC from local time. The checklist "
            "asks for DateTime(timezone=True): a timestamptz column keeps the aware values as they are bound"
            + (also and "." + also),
            Span(at.path, at.start, at.start), f"type:{name}:naive-utc", severity=Severity.INFO,
            related=[(bind, "converts each value to UTC and drops its zone")],
        )

    def _packages_beside(self, decorators, naive, also):
        """Plain columns beside the project's UTC decorator: several in one package (a module that keeps
        wall-clock times on purpose, or one that never took up the decorator) are one decision, one info
        finding. Returns the columns left for a finding each (TypeDecorators, a package's lone column)."""
        name, span = next(iter(decorators.items()))
        by_package: dict[str, list] = {}
        for table, col in naive:
            if "impl" not in col.type_args:
                by_package.setdefault(col.span.path.rpartition("/")[0], []).append((table, col))
        grouped = {id(c) for columns in by_package.values() if len(columns) > 1 for _, c in columns}
        for package, columns in by_package.items():
            if len(columns) == 1:
                continue
            names = ", ".join(f"{t.name}.{c.name}" for t, c in columns[:5]) + (", ..." if len(columns) > 5 else "")
            yield self.grouped(
                f"{len(columns)} timestamp columns in {package or 'the top folder'} ({names}) are timestamps without "
                f"timezone=True, and not {name}, which the project's other timestamps use to store UTC "
                f"({span.path}:{span.start}): they hold the digits each writer passes, in no stated zone. Wall-clock "
                f"times on purpose (one decision for them all), or columns that missed the decorator: check"
                f"{also and '.' + also}",
                [(c.span, column_anchor(t, c), f"{t.name}.{c.name}") for t, c in columns],
                f"timestamps:beside-{name}:{package}", severity=Severity.INFO,
            )
        return [(t, c) for t, c in naive if id(c) not in grouped]


_BIND = re.compile(r"^(\s*)def process_bind_param\b")
_TO_UTC = re.compile(r"astimezone\(|\butc\b|\bUTC\b", re.I)


def utc_on_bind(facts, type_name: str) -> Span | None:
    """Where a TypeDecorator of the project's converts every value it binds to UTC (`process_bind_param`
    calling astimezone(utc), or naming UTC): its columns hold UTC without a zone on purpose."""
    for m in facts.modules:
        for cls in m.classes:
            if cls.name != type_name or cls.impl is None:
                continue
            lines = facts.lines(cls.span)
            for i, line in enumerate(lines):
                head = _BIND.match(line)
                if not head:
                    continue
                body = []
                for nxt in lines[i + 1:]:
                    if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= len(head.group(1)) and not nxt.lstrip().startswith(")"):
                        break  # the method has ended (a signature over several lines closes at its indent)
                    body.append(nxt.partition("#")[0])
                if _TO_UTC.search("\n".join(body)):
                    start = cls.span.start + i
                    return Span(cls.span.path, start, start + len(body))
    return None


_STRIP = re.compile(r"\.replace\(\s*tzinfo\s*=\s*None\s*\)")


def _services(facts):
    """The service a path belongs to: the folder of an Alembic set-up (its env.py's parent's parent,
    `inference/server` for `inference/server/alembic/env.py`) that is a project of its own (it holds its
    requirements.txt, pyproject.toml or setup.py), the deepest that holds the path; "" for none. Such services
    are databases of their own, each with its own conventions; a plugin's migrations (ckanext's) are not."""
    roots = {m.path.rsplit("/", 2)[0] for m in facts.modules if m.alembic_env and m.path.count("/") >= 2}
    roots = sorted((r for r in roots if _own_project(facts, r)), key=len, reverse=True)
    return lambda path: next((r for r in roots if path.startswith(r + "/")), "")


def _own_project(facts, folder: str) -> bool:
    for name in ("requirements.txt", "pyproject.toml", "setup.py"):
        try:
            confine.read_bytes(facts.root, f"{folder}/{name}")
        except OSError:
            continue
        return True
    return False


def _strips_zone(facts, attr: str) -> Span | None:
    """Where application code that names `attr` strips the zone from a datetime in the same function
    (`now = datetime.now(UTC).replace(tzinfo=None)` then `File.expires_at < now`): naive UTC written or compared on
    purpose. By the attribute's name: another model's column of that name counts too, and the place is named."""
    for span, _ in mentions(facts, {attr})[attr]:
        if is_test_path(span.path):
            continue
        first, lines = function_around(facts, span)
        for number, line in enumerate(lines, first):
            if len(lines) > 1 and _STRIP.search(line.partition("#")[0]):
                return Span(span.path, number, number)
    return None


def _tested_in_sql(facts, table, col) -> bool:
    """Whether some query of the application may compare the column in SQL: a filter or join condition that
    names it, a range test on its attribute or a filter_by of it in a query of its model, a filter dbreview
    cannot read on its model, SQL text that names the column and its table, or a Core table's column compared
    (`users.c.expires_at < now()`, the table bound to its own name, `<name>_table` or the variable its `Table(...)` is
    assigned to). Another model's column of the same name is not it (lemur's certificates.date_created is no test of authorities.date_created)."""
    attr = col.attr or col.name
    for usage in app_usage(facts):
        for q in usage.queries:
            mine = q.model.rsplit(".", 1)[-1] == table.class_name
            if f"{table.class_name}.{attr}" in {*q.filtered, *q.joined} or (
                    mine and (attr in q.filtered or attr in q.ranges or q.opaque_filter)):
                return True
    if any(u.text and re.search(rf"\b{re.escape(col.name)}\b", u.text) and re.search(
            rf"\b{re.escape(table.name)}\b", u.text) for u in facts.sql):
        return True
    names = "|".join(re.escape(n) for n in (table.name, f"{table.name}_table", table_variable(facts, table)) if n)
    compared = rf"\b(?:{names})\.c\.{re.escape(col.name)}\b"
    core = re.compile(compared + r"\s*(?:[<>]=?|==|!=|\.\s*(?:between|in_|not_in|notin_)\b)")  # IS NULL tests no zone
    return any(core.search(line) for _, line in mentions(facts, {col.name})[col.name])  # users.c.expires_at < now()


def _joined_on(facts, table, col) -> Span | None:
    """Where a Core table's column is only matched with a model's column (`Message.timestamp == links.c.msg_timestamp`,
    a join of two timestamps): SQL compares the two, but no value of any zone."""
    variable = table_variable(facts, table)
    if variable is None:
        return None
    joined = re.compile(rf"\b[A-Z]\w*\.\w+\s*==\s*{re.escape(variable)}\.c\.{re.escape(col.name)}\b")
    return next((span for span, line in mentions(facts, {col.name})[col.name] if joined.search(line)), None)


# Calendar dates kept in a datetime column: a birthday is a day, not an instant.
_CALENDAR_DATE = re.compile(r"(^|_)(birthday|birthdate|birth_date|date_of_birth|dob)$")
_NAIVE_BODY = re.compile(r"\b([\w.]*\.)?(utcnow|now)\(\)")
_AWARE_BODY = re.compile(r"\bnow\(\s*(tz\s*=\s*)?[\w.]*(utc|UTC|timezone|tz|zone)|astimezone\(|replace\(\s*tzinfo|pendulum|arrow\.")


def _naive_call(facts, path: str, body: str, depth: int = 0) -> str | None:
    """The naive clock a function's body calls: the standard library's `datetime.utcnow()`/`datetime.now()`, or
    a function of the module's that does (followed a few calls deep). None where the body shows an aware clock,
    or calls one dbreview cannot follow (`utils.time.now()`, a library's): no claim on what it returns."""
    if _AWARE_BODY.search(body) or depth > 3:
        return None
    for m in _NAIVE_BODY.finditer(body):
        owner = m.group(1) or ""
        if body[:m.start()].endswith("def "):
            continue  # the function's own signature
        if owner.endswith("datetime."):
            return m.group(0)
        found = function_source(facts, path, m.group(2)) if not owner else None
        if found and _naive_call(facts, found[1].path, found[0], depth + 1):
            return m.group(0)
    return None


class NaiveDefault(Rule):
    """A timestamp's default is a naive Python datetime.

    What it checks:
        On a timezone-aware column (in the model or as the migrations made it), `default=` /
        `onupdate=` set to `datetime.utcnow`, or `datetime.now` without a time zone. A
        function of the project's own (`default=utcnow`) is read: one that returns
        `datetime.now(timezone.utc)` is aware and no finding; one whose body cannot be found (a library's)
        is info, said so; one that calls another clock is followed where the module binds it, and one that
        calls a clock dbreview cannot follow (`utils.time.now()`) is no finding. On a column without time zone, `default=datetime.now` (or onupdate), the server's
        local time, where other timestamps' Python defaults give UTC (`datetime.utcnow`,
        `datetime.now(timezone.utc)`): the project means UTC and this column does not hold it. A project whose
        defaults are all local time is left to TZ001.
    Why it matters:
        `utcnow()` returns a naive value (deprecated since Python 3.12); stored in an aware column it
        is read as the server's local time, shifting every timestamp by the server's offset. A local-time
        default beside UTC ones mixes two clocks in one schema: off by the server's offset wherever it is
        not UTC.
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
''', HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)
''')
    INVALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=datetime.utcnow, onupdate=datetime.utcnow)
''', HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)
''')

    def check(self):
        utc_defaults = [(t, c) for t, c in column_sites(self.facts) if _UTC_DEFAULT.fullmatch((c.default or "").strip())
                        or _UTC_DEFAULT.fullmatch((c.onupdate or "").strip())]
        for table, col in column_sites(self.facts):
            in_db = migrated_column(self.facts, table, col.name)
            if not (col.timezone or (in_db is not None and in_db.timezone)):
                yield from self._local_time(table, col, utc_defaults)
                continue  # a naive column filled with naive UTC is consistent; TZ001 weighs the column
            for what, value in (("default", col.default), ("onupdate", col.onupdate)):
                value = (value or "").strip()
                if re.fullmatch(r"(datetime\.)?datetime\.(utcnow|now)(\(\))?|datetime\.(utcnow|now)(\(\))?", value):
                    yield self.finding(
                        f"{where_declared(table, col)} {what}={value} gives a naive datetime", col.span,
                        f"{column_anchor(table, col)}:{what}",
                    )
                    break
                body = function_source(self.facts, col.span.path, value) if value.isidentifier() else None
                if body is None and "now" in value and value.isidentifier():
                    yield self.finding(
                        f"{where_declared(table, col)} {what}={value}: not certain it gives an aware datetime "
                        f"({value} is not defined in the repository's code read)", col.span,
                        f"{column_anchor(table, col)}:{what}", severity=Severity.INFO,
                    )
                    break
                naive = _naive_call(self.facts, col.span.path, body[0]) if body else None
                if naive:
                    yield self.finding(
                        f"{where_declared(table, col)} {what}={value} gives a naive datetime "
                        f"({value} calls {naive})", col.span,
                        f"{column_anchor(table, col)}:{what}", related=[(body[1], f"{value} is defined here")],
                    )
                    break

    def _local_time(self, table, col, utc_defaults):
        """A naive column whose default is the server's local time, where other timestamps' defaults give UTC."""
        others = [(t, c) for t, c in utc_defaults if c is not col]
        if not others:
            return  # local time throughout, or no Python default in UTC to set it against: TZ001 weighs the columns
        for what, value in (("default", col.default), ("onupdate", col.onupdate)):
            value = (value or "").strip()
            if _LOCAL_NOW.fullmatch(value):
                t, c = others[0]
                utc = c.default if _UTC_DEFAULT.fullmatch((c.default or "").strip()) else c.onupdate
                yield self.finding(
                    f"{where_declared(table, col)} {what}={value} stores the server's local time in a column without "
                    f"time zone, while {len(others)} other timestamp default(s) give UTC ({t.name}.{c.name} "
                    f"{utc}): wherever the server's zone is not UTC, its times are off by that offset from the "
                    "other columns' and from UTC values compared with it", col.span, f"{column_anchor(table, col)}:{what}",
                    related=[(c.span, f"{t.name}.{c.name}: UTC") for t, c in others[:3]],
                )
                return


# A Python default that gives naive UTC: datetime.utcnow, or a function of that name.
_NAIVE_UTC = re.compile(r"(lambda\s*:\s*)?([\w.]*\.)?utcnow(\(\))?")
# A Python default that gives UTC: datetime.utcnow (naive UTC) or an aware now in UTC.
_UTC_DEFAULT = re.compile(r"(datetime\.)?(datetime\.)?utcnow(\(\))?|(lambda\s*:\s*)?(datetime\.)?(datetime\.)?now\(\s*(tz\s*=\s*)?"
                          r"([\w.]*\.)?(utc|UTC)\s*\)")
# The server's local time: datetime.now without a zone.
_LOCAL_NOW = re.compile(r"(lambda\s*:\s*)?(datetime\.)?datetime\.now(\(\))?|datetime\.now(\(\))?")


class AwareMeetsNaive(Rule):
    """An aware datetime is compared with, or written into, a column without time zone.

    What it checks:
        A query's test (`User.last_seen >= cutoff`) or a write (`row.expires_at = ...`, `Token(expires_at=...)`,
        `update(Token).values(expires_at=...)`, an upsert's `set_=`, `query(Token).update({Token.expires_at: ...})`)
        on the column's own model (the object's class as its function loads or builds it, `session.get(Token, id)`,
        `select(Token)`, else its name; never another model's attribute of the same name) that puts an aware
        datetime beside a column without time zone (in the model and as the migrations made
        it) whose Python default or onupdate fills it with naive UTC (`datetime.utcnow`), where the value's own
        function shows it aware: `datetime.now(timezone.utc)`, `.astimezone()`,
        `.replace(tzinfo=...)`, arithmetic on one, a name only ever bound to one (a dict's values and the loop
        over them included), or a project function called without arguments whose body returns one (a branch
        on a parameter's default read as the default takes it). A function whose body is not in the code read
        is not taken for aware. A column filled by the server's `now()` holds the session's local time, which an
        aware value is turned into as well: consistent, no finding; so is a TypeDecorator that converts aware
        values to UTC on the way in. A comparison made in Python on loaded rows is not this rule's.
    Why it matters:
        The column keeps no offset. Given an aware value (psycopg sends it as timestamptz), PostgreSQL compares
        by reading the column's values in the database session's TimeZone, and stores the value converted to that
        zone, so the test or the stored time is off by its offset wherever the session's TimeZone is not UTC;
        asyncpg refuses an aware value for such a column.
    Example:
        last_seen: Mapped[datetime] = mapped_column(DateTime)
        ...
        db.query(User).filter(User.last_seen >= datetime.now(timezone.utc) - timedelta(days=7))
    Instead:
        Make the column `DateTime(timezone=True)` (with a migration), or pass naive UTC to it consistently
        (`datetime.now(timezone.utc).replace(tzinfo=None)`).
    """

    ID = "TZ004"
    ITEM = "9.4"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
from datetime import timedelta, timezone
class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))

def active(db):
    return db.query(Member).filter(Member.last_seen >= datetime.now(timezone.utc) - timedelta(days=7)).count()
''',)
    INVALID = (HEADER + '''
from datetime import timedelta, timezone
class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)

def active(db):
    return db.query(Member).filter(Member.last_seen >= datetime.now(timezone.utc) - timedelta(days=7)).count()
''',)

    def check(self):
        from analyzers.rules.s02_secrets import ties

        uses = [u for m in self.facts.modules if not is_test_path(m.path) for u in m.aware_uses]
        naive = {}
        for table, col in column_sites(self.facts):
            in_db = migrated_column(self.facts, table, col.name)
            if col.timezone is not False or (in_db is not None and in_db.timezone) or not table.class_name:
                continue
            if "impl" in col.type_args and utc_on_bind(self.facts, col.type_name or ""):
                continue  # a TypeDecorator that turns aware values into naive UTC: made to take them
            utc = next((f"{what}={v}" for what, v in (("default", col.default), ("onupdate", col.onupdate))
                        if v and _NAIVE_UTC.fullmatch(v.strip())), None)
            if utc:  # the column holds naive UTC from Python: an aware value beside it is off by the session's offset
                naive.setdefault(col.attr or col.name, []).append((table, col, utc))
        elsewhere = other_databases(self.facts)
        found: dict[str, list] = {}
        for u in uses:
            for table, col, utc in naive.get(u.attr, ()):
                cls = col.declared_in or table.class_name or ""
                sql = u.what == "write" or u.target.rsplit(".", 1)[-1] == cls or (u.target == "cls" and u.owner == cls)
                # the object's class where its function shows it, else its name: never the attribute's name alone
                if not sql or not (cls in u.classes if u.classes else ties(u.target, u.owner, cls)):
                    continue
                how = _aware_how(self.facts, u)
                if how:
                    found.setdefault(column_anchor(table, col), []).append((table, col, u, how, utc))
        for anchor, sites in found.items():
            table, col, _, _, utc = sites[0]
            said = "; ".join(
                f"{u.function} ({u.span.path}:{u.span.start}) {'compares it with' if u.what == 'compare' else 'writes'} "
                f"`{u.value}`, {how}" + ("" if u.what == "compare" else " into it") for _, _, u, how, _ in sites[:2])
            more = f" (and {len(sites) - 2} more)" if len(sites) > 2 else ""
            also = (f". The application also runs on {' and '.join(db for db, _ in elsewhere)}, which keeps no zone either way"
                    if elsewhere else "")
            compared = sites[0][2].what == "compare"
            how_pg = ("PostgreSQL compares the two as timestamptz, reading the column's values as times in the database "
                      "session's TimeZone" if compared else
                      "PostgreSQL stores the aware value converted to the database session's TimeZone, its offset dropped")
            yield self.finding(
                f"{where_declared(table, col)} is a timestamp without time zone that its {utc} fills with naive UTC, "
                f"and {said}{more}: with psycopg, "
                f"{how_pg}, so wherever that zone is not UTC the {'test' if compared else 'stored time'} is off by its "
                f"offset (asyncpg refuses an aware value for such a column){also}",
                col.span, f"{anchor}:aware", severity=Severity.INFO if elsewhere else None,
                related=[(u.span, f"{u.function}: aware value") for _, _, u, _, _ in sites[:6]],
            )


def _aware_how(facts, use) -> str:
    """How the value is known to be aware, or "" where it is not shown (a function whose body is not found)."""
    if use.kind == "aware":
        return f"an aware datetime (`{use.detail}`)"
    found = function_source(facts, use.span.path, use.detail)
    if found is None:
        return ""
    source, span = found
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return ""
    func = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    returned = returned_by(func) if func is not None else None
    if returned is None or returned[0] != "aware":
        return ""
    return (f"an aware datetime (`{use.detail}()` returns `{returned[1]}` when called without arguments, "
            f"{span.path}:{span.start})")


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
