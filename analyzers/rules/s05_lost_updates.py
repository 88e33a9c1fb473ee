"""Section 5 (data integrity), concurrency: a row read, changed in Python from what was read, and written
back, with nothing that stops a second request doing the same in between (a lost update)."""

from __future__ import annotations

import re

from analyzers.facts.model import Facts, Span, TableFact
from analyzers.facts.paths import is_test_path
from analyzers.facts.rewrites import Rewrite
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import app_queries, function_around, names_class
from analyzers.rules.examples_common import HEADER
from analyzers.rules.s05_integrity import _uncalled, _unparsed
from analyzers.rules.schema import is_tooling_path, unique_keys_with

# A lock taken in the function some other way: SELECT ... FOR UPDATE in SQL, an advisory lock, a lock helper.
_LOCKS = re.compile(r"with_for_update|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|advisory|\block\w*\(|\w_lock\b|\bLock\(|\bLOCK\s+TABLE",
                    re.I)
_ROW_LOCKS = re.compile(r"with_for_update|\bfor_update\s*=\s*True|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|advisory_(xact_)?lock")
_LOCKED_REFRESH = re.compile(r"\brefresh\(\s*(\w+)[^)]{0,200}with_for_update\s*=\s*(?!False|None)")
_TIME_TYPES = ("DateTime", "Date", "Time", "TIMESTAMP", "Interval", "ArrowType", "UtcDateTime", "TZDateTime")


class LostUpdate(Rule):
    """A column of a loaded row is written from its own old value in Python, with no row lock (a lost update).

    What it checks:
        A function that loads a row (a query in the same function, `session.get(Model, ...)`, a function of
        the same module that returns the row its query loaded, a parameter typed as the model, or `self` in
        the model's own method) and writes one of its columns from the value it read: `obj.n += 1`,
        `obj.n = obj.n + 1`, `obj.items = obj.items + [x]`, a list comprehension over `obj.items`,
        `{**obj.settings, ...}`; and commits, flushes or saves it (a model's method may leave that to a caller
        that loads the row with a query and calls it). Not when the load takes a row lock
        (`with_for_update()`), the function takes another lock (SELECT ... FOR UPDATE, an advisory lock), the
        model has a version counter (`version_id_col`), the engine runs REPEATABLE READ or SERIALIZABLE, the
        column is a date or the key, or nothing in the application calls the function; for a row its callers
        load, not when some query or `refresh(..., with_for_update=True)` of the model locks rows, nor when
        every caller passes an object it has just made (`Tombstone(...)`: no other transaction has that row).
        How many processes or tasks write the row is the deployment's, which dbreview cannot see: the message
        says the race needs more than one. Tests, scripts and migrations are not read.
    Why it matters:
        At PostgreSQL's default READ COMMITTED, two requests that load the same row before either commits
        both compute the new value from the same old one: the second write replaces the first, and one
        increment, one appended item, one merged key is lost. Where the counter guards something (a one-time
        code's counter, a failed-login count, a use limit), the guard can be passed twice.
    Example:
        share = session.scalars(select(ShareCode).where(ShareCode.code == code)).one()
        share.exchange_count += 1
        session.commit()
    Instead:
        Let the database compute it: `session.execute(update(ShareCode).where(ShareCode.id == share.id)
        .values(exchange_count=ShareCode.exchange_count + 1))` (or assign the SQL expression,
        `share.exchange_count = ShareCode.exchange_count + 1`), or load with
        `select(ShareCode).where(...).with_for_update()` so that the second request waits for the first.
    """

    ID = "RACE001"
    ITEM = "5.5"
    SEVERITY = Severity.INFO
    _MODELS = HEADER + '''
class ShareCode(Base):
    __tablename__ = "share_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    exchange_count: Mapped[int] = mapped_column(Integer, default=0)
'''
    _CODE = '''
from fastapi import APIRouter
from sqlalchemy import select
from models import ShareCode
router = APIRouter()

@router.post("/shares/{{code}}/exchange")
def exchange(session, code):
    share = session.scalars(select(ShareCode).where(ShareCode.code == code){lock}).one()
    {write}
    session.commit()
'''
    VALID = (
        {"models.py": _MODELS, "app/shares.py": _CODE.format(lock=".with_for_update()", write="share.exchange_count += 1")},
        {"models.py": _MODELS, "app/shares.py": _CODE.format(
            lock="", write="share.exchange_count = ShareCode.exchange_count + 1")},
    )
    INVALID = (
        {"models.py": _MODELS, "app/shares.py": _CODE.format(lock="", write="share.exchange_count += 1")},
        {"models.py": _MODELS, "app/shares.py": _CODE.format(
            lock="", write="share.exchange_count = share.exchange_count + 1")},
    )

    def check(self):
        facts = self.facts
        if _strict_isolation(facts):
            return
        classes, self.queries, loads = _classes_and_loads(facts)
        self.loads = loads
        # the classes some query of the application loads with a row lock
        locked = {name_of(table) for q, table in self.queries if "with_for_update" in q.methods}
        sites: dict[tuple[str, str, str], list[tuple[Rewrite, str]]] = {}
        tables: dict[tuple[str, str, str], TableFact] = {}
        for m in facts.modules:
            if not m.rewrites or is_test_path(m.path) or is_tooling_path(m.path):
                continue
            for rw in m.rewrites:
                if rw.kind == "guard":
                    continue  # a status set after a test of its old value: RACE004's
                found = self._loaded(rw, loads.get((m.path, rw.function), ()), classes, locked, m.path)
                if found is None:
                    continue
                table, how = found
                if not _counted_column(table, rw.attr) or _versioned(facts, table):
                    continue
                if rw.fresh and not _named_elsewhere(facts, m.path, rw.function):
                    continue  # every caller passes an object it has just made: no other transaction has that row
                key = (m.path, rw.function, table.class_name or table.name)
                sites.setdefault(key, []).append((rw, how))
                tables[key] = table
        for key, found in sites.items():
            yield from self._findings(tables[key], found)

    def _loaded(self, rw: Rewrite, queries, classes, locked: set[str], path: str) -> tuple[TableFact, str] | None:
        """The table of the row `rw` writes on and how the function has it, or None when it is not shown to be
        a row loaded without a lock (a form, a dataclass, a row loaded elsewhere)."""
        kind, name = rw.origin
        if kind == "call":  # the row a function of this module loads and returns (`doc = _fetch_doc(...)`)
            for q, table in self.loads.get((path, name), ()):
                if set(q.instances) & set(rw.returned) and {"first", "one", "one_or_none", "scalar_one", "scalar_one_or_none",
                                                             "scalar", "get"} & set(q.methods):
                    if "with_for_update" in q.methods or any(_LOCKS.search(line) for line in _function_text(self.facts, q.span)[1]):
                        return None
                    return table, (f"loads {_a(name_of(table))} row through {name}() (its query at line {q.span.start} "
                                   "takes no row lock)")
            return None
        if kind == "":
            for q, table in queries:
                if (rw.attr, rw.target) in q.reached:
                    if "with_for_update" in q.methods:
                        return None
                    return table, f"loads {_a(name_of(table))} row with the query at line {q.span.start}, which takes no row lock,"
            return None
        if kind == "self":
            tables = [t for t in classes.get(rw.owner or "", ()) if t.path == path]
            how = "(a method of the model: its callers load the row"
        elif kind == "get":
            tables = classes.get(name, [])
            how = f"loads {_a(name)} row with session.get(), which takes no row lock,"
        else:
            tables = classes.get(name, [])
            how = f"takes {_a(name)} row as a parameter typed with the model (its callers load it"
        if len(tables) != 1:
            return None
        if kind != "get" and (name_of(tables[0]) in locked or self._refreshed_with_lock(name_of(tables[0]))
                              or self._locked_beside(name_of(tables[0]))):
            # some query of the model locks its rows: the callers may hold the lock (a caller seen to load the
            # row without one is still judged, through a method that leaves the commit to it)
            return (tables[0], "") if kind == "self" else None
        if kind != "get":
            how += f", and no query of {name_of(tables[0])} in the application takes a row lock)"
        return tables[0], how

    def _locked_beside(self, cls: str) -> bool:
        """A function of the application that names `cls` takes a row lock (`with_for_update`, `for_update=True`
        handed to a repository, FOR UPDATE in SQL): its rows may be loaded locked through a statement dbreview
        does not read as a query of the model (a repository's, built from a statement made elsewhere)."""
        named = re.compile(rf"\b{re.escape(cls)}\b")
        for m in self.facts.modules:
            if cls not in m.mentions or is_test_path(m.path) or is_tooling_path(m.path):
                continue
            for number, line in enumerate(self.facts.lines(Span(m.path, 1, 10**7)), 1):
                if _ROW_LOCKS.search(line.partition("#")[0]) and any(
                        named.search(text) for text in _function_text(self.facts, Span(m.path, number, number))[1]):
                    return True  # a function that names the model takes a row lock
        return False

    def _refreshed_with_lock(self, cls: str) -> bool:
        """`session.refresh(organization, with_for_update=True)` somewhere in the application, on a name that
        says it holds a `cls`: rows of the model are locked that way."""
        if not hasattr(self, "_lock_refreshes"):
            self._lock_refreshes = {
                m.group(1) for mod in self.facts.modules
                if "refresh" in mod.mentions and not is_test_path(mod.path) and not is_tooling_path(mod.path)
                for m in _LOCKED_REFRESH.finditer("\n".join(self.facts.lines(Span(mod.path, 1, 10**7))))}
        return any(names_class(name, cls) for name in self._lock_refreshes)

    def _findings(self, table: TableFact, found: list[tuple[Rewrite, str]]):
        rw, how = found[0]
        first, text = _function_text(self.facts, rw.span)
        if any(_LOCKS.search(line) for line in text):
            return
        cls = name_of(table)
        columns = sorted({r.attr for r, _ in found})
        written = "; ".join(dict.fromkeys(f"`{r.written}`" for r, _ in found))
        writes = f"{cls}.{', '.join(columns)} from the value it read ({written})"
        saved = _persisted(text, first, rw.span.end, rw.holder)
        if saved is not None:
            if how and _uncalled(self.facts, rw) is None:  # something in the application calls the function
                where = f"{cls}.{rw.function}" if rw.origin[0] == "self" else rw.function
                yield self._finding(
                    f"{where} {how}{'' if rw.origin[0] == 'self' else ' and'} writes {writes}, then {saved}",
                    rw.span, f"function:{rw.span.path}:{rw.function}:{cls}:lost-update", table, rw, columns,
                    [(r.span, f"{r.written}: also from its old value") for r, _ in found[1:]])
            return
        if rw.origin[0] != "self":
            return
        # A method of the model that leaves the commit to its callers: the callers that load a row with a query,
        # call the method on it and commit.
        for q, t in self.queries:
            if t is not table or "with_for_update" in q.methods:
                continue
            for attr, span in q.reached:
                if attr != rw.function:
                    continue
                cfirst, ctext = _function_text(self.facts, span)
                saved = _persisted(ctext, cfirst, span.end, None)
                if saved is None or any(_LOCKS.search(line) for line in ctext) or _uncalled(self.facts, q) is not None:
                    continue
                yield self._finding(
                    f"{q.function} loads {_a(cls)} row with the query at line {q.span.start}, which takes no row lock, and "
                    f"calls {cls}.{rw.function}() on it ({rw.span.path}:{rw.span.start}), which writes {writes}; then "
                    f"{saved}", span, f"function:{span.path}:{q.function}:{cls}:lost-update", table, rw, columns,
                    [(r.span, f"{cls}.{r.function}: {r.written}") for r, _ in found])

    def _finding(self, lead: str, span: Span, anchor: str, table: TableFact, rw: Rewrite, columns: list[str], related):
        cls = name_of(table)
        lost = {"count": "one of the two changes is lost (a counter moves once for two writes)",
                "list": "a change the first writer made to the list is lost, or both act on the same item (each removes it and goes on)",
                "merge": "the keys the first writer merged are lost"}[rw.kind]
        op = "-" if re.search(r"-=|\s-\s", rw.written) else "+"
        fix = (f"Compute it in SQL (`{cls}.{columns[0]} {op} n` in an UPDATE, or assigned to the attribute)" if rw.kind == "count"
               else "Change it in SQL (PostgreSQL's `||` on JSONB or an array, in an UPDATE)")
        message = (
            f"{lead}: if more than one process or task writes this row (several workers or replicas, concurrent "
            f"requests or jobs: the deployment decides), two that load the same {table.name} row before either commits "
            f"both write a value computed from the same old one, and {lost}. {fix}, or load the row with with_for_update()"
        )
        return self.finding(message, span, anchor, related=related)


def _named_elsewhere(facts: Facts, path: str, function: str) -> bool:
    """Does a module other than `path` (or a file dbreview did not parse) name `function`: a caller the module's
    own calls do not show."""
    return any(function in m.mentions for m in facts.modules if m.path != path and not is_test_path(m.path)) or any(
        function in words for _, words in _unparsed(facts))


def _classes_and_loads(facts: Facts):
    """The tables by class name, the application's queries with their tables, and those by (path, function)."""
    classes: dict[str, list[TableFact]] = {}
    for t in facts.tables.values():
        if t.class_name:
            classes.setdefault(t.class_name, []).append(t)
    queries = list(app_queries(facts))
    loads: dict[tuple[str, str], list] = {}
    for q, table in queries:
        loads.setdefault((q.span.path, q.function), []).append((q, table))
    return classes, queries, loads


def _a(name: str) -> str:
    return f"{'an' if name[:1] in 'AEIO' else 'a'} {name}"


def name_of(table: TableFact) -> str:
    return table.class_name or table.name


def _counted_column(table: TableFact, attr: str) -> bool:
    """`attr` is a column of the table (not a relationship, a property or the key), and not a time: a date moved
    by a delta is a schedule, rarely a count."""
    column = next((c for c in table.columns.values() if (c.attr or c.name) == attr), None)
    return column is not None and not column.primary_key and (column.type_name or "") not in _TIME_TYPES


def _versioned(facts: Facts, table: TableFact) -> bool:
    """The model declares a version counter: a concurrent update fails with StaleDataError instead."""
    return any("version_id_col" in line for line in facts.lines(table.span))


def _strict_isolation(facts: Facts, serializable_only: bool = False) -> bool:
    """An engine of the application runs REPEATABLE READ or SERIALIZABLE: PostgreSQL then fails the second
    concurrent update of a row instead of letting it overwrite the first (and under SERIALIZABLE, the second of
    two inserts that read the same rows)."""
    levels = r"SERIALIZABLE" if serializable_only else r"REPEATABLE|SERIALIZABLE"
    return any(
        re.search(levels, c.kwargs.get("isolation_level", ""), re.I)
        for c in facts.calls if not is_test_path(c.span.path)
    )


def _function_text(facts: Facts, span: Span) -> tuple[int, list[str]]:
    """The lines of the function around `span` without their comments, and the number of the first."""
    first, lines = function_around(facts, span)
    return first, [line.partition("#")[0] for line in lines]


def _persisted(text: list[str], first: int, after: int, holder: str | None) -> str | None:
    """How the function sends the write to the database after line `after`: "commits (line N)"; None when it
    does not. `holder`: the name of the object written (`obj.save()`, `session.add(obj)` count too)."""
    mine = rf"|\b{re.escape(holder)}\.(save|update)\(|\.(add|merge)\(\s*{re.escape(holder)}\b" if holder else ""
    saves = re.compile(rf"\.(commit|flush)\({mine}")
    found: list[tuple[int, int, str]] = []  # (rank: a commit first, line, what)
    for number in range(after, first + len(text)):
        m = saves.search(text[number - first])
        if m:
            what = next(g for g in m.groups() if g)
            found.append((("commit", "flush", "save", "update", "merge", "add").index(what), number, what))
    if found:
        _, number, what = min(found)
        verb = {"commit": "commits", "flush": "flushes", "save": "saves it", "update": "saves it",
                "add": "adds it to the session", "merge": "merges it"}[what]
        return f"{verb} (line {number})"
    for number in range(first, after):
        if re.search(r"with\s.*\.begin\(", text[number - first]):
            return f"commits at the end of the transaction block (line {number})"
    return None


class NextNumberFromMax(Rule):
    """A new row is numbered one above the highest number read, with no unique constraint to stop a duplicate.

    What it checks:
        A function that reads the highest number of a column (`order_by(Model.n.desc()).first()`, or
        `func.max(Model.n)`), creates a row of the same model with that number + 1 (`Model(n=last.n + 1)`) and
        adds, saves or commits it, where no unique constraint or unique index of the table (in the model or
        the migrations) has the column among its columns. Not when the function takes a lock (SELECT ... FOR
        UPDATE, an advisory lock, LOCK TABLE) or the engine runs SERIALIZABLE. Tests, scripts and migrations
        are not read.
    Why it matters:
        Two requests that read the same highest number before either commits both insert the next one: two
        invoices, revisions or positions with one number, and nothing in the database says so.
    Example:
        last = session.scalars(select(Budget).where(Budget.project_id == project_id)
                               .order_by(Budget.revision.desc())).first()
        session.add(Budget(project_id=project_id, revision=(last.revision if last else 0) + 1))
        session.commit()
    Instead:
        A unique constraint over the numbering scope and the number (`UniqueConstraint("project_id",
        "revision")`), so that the second insert fails and can be retried; or numbers from a sequence, or from a
        counter row incremented in SQL (`UPDATE ... SET next_revision = next_revision + 1 RETURNING ...`).
    """

    ID = "RACE002"
    ITEM = "5.5"
    SEVERITY = Severity.INFO
    _MODELS = HEADER + '''
class Budget(Base):
    __tablename__ = "budgets"
    {args}
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer, index=True)
    revision: Mapped[int] = mapped_column(Integer)
'''
    _CODE = '''
from fastapi import APIRouter
from sqlalchemy import func, select
from models import Budget
router = APIRouter()

@router.post("/projects/{project_id}/budgets")
def create_budget(session, project_id):
    last = session.scalars(select(Budget).where(Budget.project_id == project_id).order_by(Budget.revision.desc())).first()
    budget = Budget(project_id=project_id, revision=(last.revision if last else 0) + 1)
    session.add(budget)
    session.commit()
'''
    VALID = ({"models.py": _MODELS.format(args='__table_args__ = (UniqueConstraint("project_id", "revision"),)'),
              "app/budgets.py": _CODE},)
    INVALID = ({"models.py": _MODELS.format(args=""), "app/budgets.py": _CODE},
               {"models.py": _MODELS.format(args=""), "app/budgets.py": _CODE.replace(
                   "last = session.scalars(select(Budget).where(Budget.project_id == project_id).order_by("
                   "Budget.revision.desc())).first()\n    budget = Budget(project_id=project_id, revision=(last.revision "
                   "if last else 0) + 1)",
                   "top = session.scalar(select(func.max(Budget.revision)).where(Budget.project_id == project_id))\n"
                   "    budget = Budget(project_id=project_id, revision=(top or 0) + 1)")})

    def check(self):
        facts = self.facts
        if _strict_isolation(facts, serializable_only=True):
            return
        classes, _, loads = _classes_and_loads(facts)
        for m in facts.modules:
            if not m.next_numbers or is_test_path(m.path) or is_tooling_path(m.path):
                continue
            for n in m.next_numbers:
                tables = classes.get(n.model, [])
                if len(tables) != 1:
                    continue
                table = tables[0]
                column = next((c for c in table.columns.values() if (c.attr or c.name) == n.column), None)
                if column is None or column.primary_key or unique_keys_with(facts, table, column.name):
                    continue  # not a column, or a unique key over it turns the duplicate into a failed insert
                first, text = _function_text(facts, n.span)
                if any(_LOCKS.search(line) for line in text):
                    continue
                how = self._read(n, loads.get((m.path, n.function), ()), table, text)
                saved = _persisted(text, first, n.span.end, n.holder) or _added(text, first, n.span)
                if how is None or saved is None or _uncalled(facts, n) is not None:
                    continue
                cls = name_of(table)
                scope = how[0] or _compared(facts, n.read, n.model, table)
                key = ", ".join([*scope, column.name])
                yield self.finding(
                    f"{n.function} numbers a new {cls} one above the highest {column.name} it read ({how[1]}; "
                    f"`{n.written}`), then {saved}, and no unique constraint of {table.name} has {column.name} among its "
                    f"columns: two requests that read the same highest {column.name} before either commits insert two "
                    f"rows with one {column.name}, and nothing in the database stops it. A unique constraint over "
                    f"({key}) makes the second insert fail (retry it), or take the number from a sequence",
                    n.span, f"function:{n.span.path}:{n.function}:{table.name}.{column.name}:next-number",
                    related=[(n.read, "the highest number read")],
                )

    @staticmethod
    def _read(n, queries, table: TableFact, text: list[str]) -> tuple[list[str], str] | None:
        """(the columns the read narrows to, how it reads) when the old number is the highest of the column,
        read from `table` in this function; None otherwise."""
        kind, name, attr = n.source
        if kind == "max":
            if name != n.model or attr != n.column:
                return None
            return [], f"func.max({name}.{attr}) at line {n.read.start}"
        for q, t in queries:
            if t is table and (attr, n.read) in q.reached and attr == n.column:
                desc = re.compile(rf"\b{re.escape(n.model)}\.{re.escape(attr)}\.desc\(\)|\bdesc\(\s*{re.escape(n.model)}\.{re.escape(attr)}\b")
                if not any(desc.search(line) for line in text):
                    return None  # not the highest: the row read is another one (by id, the latest by date)
                names = {c.attr or c.name: c.name for c in table.columns.values()}
                scope = sorted({names.get(e, e) for e in q.equals} - {names.get(attr, attr)})
                return scope, f"the first row of the query at line {q.span.start}, sorted by {attr} descending"
        return None


def _compared(facts: Facts, span: Span, model: str, table: TableFact) -> list[str]:
    """The columns of `model` compared with `==` on the lines of `span` (`.where(Invoice.shop_id == shop_id)`):
    what a `func.max(...)` there is narrowed to."""
    names = {c.attr or c.name: c.name for c in table.columns.values()}
    text = " ".join(facts.lines(span))
    return sorted({names[a] for a in re.findall(rf"\b{re.escape(model)}\.(\w+)\s*==", text) if a in names})


def _added(text: list[str], first: int, span: Span) -> str | None:
    """`session.add(Model(...))`: the constructor call inside an add()."""
    line = text[span.start - first] if 0 <= span.start - first < len(text) else ""
    return f"adds it to the session (line {span.start})" if re.search(r"\.add\(\s*\w+\(", line) else None
