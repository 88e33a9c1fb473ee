"""Section 2, models: a column default that is the result of a call made once, when the model's module is imported
(`default=datetime.utcnow()`, `default=str(uuid4())`), rather than the function SQLAlchemy calls for each row."""

from __future__ import annotations

import ast
import re

from analyzers.facts.core_tables import dotted
from analyzers.facts.paths import is_test_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.schema import column_anchor, where_declared

# A clock or a random source called, not passed: `datetime.utcnow()`, `datetime.datetime.now(timezone.utc)`,
# `uuid.uuid4()`, `secrets.token_hex(16)`, anywhere in the default's expression (`str(uuid4())`,
# `datetime.utcnow() + timedelta(days=1)`) but inside a lambda, which runs per row. A bare `now()` or `utcnow()` may be
# SQL's (`sqlalchemy.sql.functions.now`, a project's `utcnow` construct): only the clock of datetime, date, arrow or
# pendulum counts, and `time.time()`.
_CLOCK = re.compile(r"(?:datetime\.)?(?:datetime|date|arrow|pendulum)\.(?:utcnow|now|today)|time\.time")
_RANDOM = re.compile(r"(?:uuid\.)?uuid[147]|(?:secrets\.)?token_(?:hex|urlsafe|bytes)")


def _called_once(default: str | None) -> tuple[str, ast.Call] | None:
    """("clock" or "random", the call) of the first clock or random source the default's expression calls outside a
    lambda; None when it calls none, or is not Python dbreview can read."""
    try:
        tree = ast.parse((default or "").strip(), mode="eval")
    except SyntaxError:
        return None
    todo: list[ast.AST] = [tree.body]
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.Lambda):
            continue  # evaluated per row, when SQLAlchemy calls it
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            for kind, pattern in (("clock", _CLOCK), ("random", _RANDOM)):
                if name is not None and pattern.fullmatch(name):
                    return kind, node
        todo.extend(ast.iter_child_nodes(node))
    return None


class DefaultComputedAtImport(Rule):
    """A column's default is a value computed once, when the module is imported.

    What it checks:
        Columns of the models (and Core tables) whose `default=` is the result of calling a clock or a random
        source rather than the function itself: `default=datetime.utcnow()`, `default=datetime.datetime.now()`,
        `default=date.today()`, `default=uuid.uuid4()`, `default=str(uuid4())`, `default=secrets.token_hex(16)`, and
        any expression that calls one outside a lambda (`default=datetime.utcnow() + timedelta(days=1)`).
        A SQL function (`func.now()`, a bare `now()` or `utcnow()` that may be one) is not this: the database
        evaluates it for each row. A default declared once by a mixin is one finding, its tables named. Where every
        place the application adds rows constructs the model naming that column (`Task(created=..., ...)`), the default
        fills none today: info that says so.
    Why it matters:
        Python evaluates the call as the class body runs, once per process: every row that process inserts gets
        the time the application started, or the same UUID or token. A unique column then refuses the second
        insert; a timestamp is silently wrong for every row after the first.
    Example:
        created_at = Column(DateTime, default=datetime.utcnow())
    Instead:
        Pass the function, not its result (`default=datetime.utcnow`, `default=uuid4`, `default=lambda:
        str(uuid4())`), or let the database fill it (`server_default=func.now()`).
    """

    ID = "MOD009"
    ITEM = "2.mixins.2"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=datetime.utcnow)
    token: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
''', HEADER + '''
from datetime import timedelta


class Pass(Base):
    __tablename__ = "passes"
    id: Mapped[int] = mapped_column(primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, default=lambda: datetime.utcnow() + timedelta(days=1))
    starts_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now() + timedelta(hours=1))
''')
    INVALID = (HEADER + '''
class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=datetime.utcnow())
''', HEADER + '''
from datetime import timedelta


class Pass(Base):
    __tablename__ = "passes"
    id: Mapped[int] = mapped_column(primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow() + timedelta(days=1))
''')

    def check(self):
        sites: dict[tuple[str, int], list] = {}  # a mixin's column, declared once, carried by many tables
        for table in self.facts.tables.values():
            if is_test_path(table.path):
                continue
            for col in table.columns.values():
                found = _called_once(col.default)
                if found is not None:
                    sites.setdefault((col.span.path, col.span.start), []).append((table, col, found))
        for carried in sites.values():
            table, col, found = carried[0]
            unique = [t for t, c, _ in carried if c.unique or c.primary_key]
            kind, call = found
            whole = ast.unparse(call) == ast.unparse(ast.parse((col.default or "").strip(), mode="eval").body)
            if kind == "clock" and whole:
                harm = "every row a process inserts gets the time that process started, not its own, and nothing fails to show it"
            elif kind == "clock":
                harm = (f"every row a process inserts gets a value computed from the time that process started "
                        f"(`{ast.unparse(call)}`), not from its own, and nothing fails to show it")
            elif unique:
                harm = (f"every row a process inserts gets the same value, and {unique[0].name}.{col.name} is unique: "
                        f"the second insert fails with a unique violation")
            else:
                harm = "every row a process inserts gets the same value, a shared one where each row was meant its own"
            said = where_declared(table, col) if len(carried) == 1 else (
                f"{col.declared_in}.{col.name} (on {', '.join(t.name for t, _, _ in carried[:4])}"
                f"{', ...' if len(carried) > 4 else ''})")
            given = _always_given(self.facts, [(t, c) for t, c, _ in carried])
            today = (f"; but every row the code adds sets {col.name} itself ({len(given)} place(s), e.g. {given[0].path}:"
                     f"{given[0].start}), so the default fills none today: it waits for the first insert that leaves it "
                     "out") if given else ""
            yield self.finding(
                f"{said} has `default={col.default}`: the call runs once, when the module is imported, so {harm}{today}. "
                f"Pass the function itself (`default={_uncalled(col.default or '')}`), or let the database fill it",
                col.span, column_anchor(table, col),
                severity=Severity.INFO if given else Severity.WARNING,
                related=[(c.span, where_declared(t, c)) for t, c, _ in carried[1:10]] + [(g, "sets it") for g in given[:5]],
            )


def _always_given(facts, columns) -> list:
    """Where the application adds rows to these tables, when each place is a construction of the model that names the
    column (`Task(created=now(), ...)`); [] where one leaves it out, unpacks a mapping, or is an insert outside the ORM
    (or none is seen)."""
    from analyzers.rules.growth import growth

    from analyzers.rules.code_use import function_around

    places = []
    for table, col in columns:
        for span in growth(facts, table).adds:
            text = " ".join(facts.lines(span))
            given = re.search(rf"\b{re.escape(col.attr or col.name)}\s*=(?!=)\s*(\w+)?", text)
            if "**" in text or given is None or given.group(1) == "None":
                return []  # `ttl=None` is no value: SQLAlchemy fills the default for a None it is given
            head = " ".join(function_around(facts, span)[1][:3])
            if given.group(1) and re.search(rf"\b{given.group(1)}\s*(?::[^=,)]*)?=\s*None\b", head):
                return []  # `ttl=ttl` of a parameter that is None unless a caller gives it
            places.append(span)
    return places


def _uncalled(default: str) -> str:
    """`datetime.utcnow()` -> `datetime.utcnow`; `str(uuid4())`, `token_hex(16)`, `datetime.now(timezone.utc)`,
    `datetime.utcnow() + timedelta(days=1)` -> `lambda: ...`."""
    body = ast.parse(default.strip(), mode="eval").body
    if isinstance(body, ast.Call) and not body.args and not body.keywords and dotted(body.func) is not None:
        return ast.unparse(body.func)
    return f"lambda: {ast.unparse(body)}"
