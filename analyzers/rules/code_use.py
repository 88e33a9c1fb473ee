"""What several rules need of how the application's code uses the models (analyzers/facts/usage.py): its
queries, their models resolved to tables, and the places that filter every query centrally."""

from __future__ import annotations

import functools
import re
from typing import Iterator

from analyzers.facts.core_tables import CORE
from analyzers.facts.model import ClassFact, Facts, Span, TableFact
from analyzers.facts.names import module_name
from analyzers.facts.paths import is_test_path, tooling_kind
from analyzers.facts.usage import SOFT_DELETE_COLUMNS, QueryUse, Usage
from analyzers.rules.mentions import mentions
from analyzers.rules.schema import is_tooling_path


def app_usage(facts: Facts, connectors: bool = False) -> Iterator[Usage]:
    """The usage facts of application modules: not tests, scripts or migration tooling; with `connectors`, an
    integration's or a connector's modules too (what they query of the application's own models is its query)."""
    for m in facts.modules:
        if m.usage is not None and not is_test_path(m.path) and (
                not is_tooling_path(m.path) or connectors and "connector" in (tooling_kind(m.path) or "")):
            yield m.usage


def app_queries(facts: Facts, writes: bool = False, connectors: bool = False) -> Iterator[tuple[QueryUse, TableFact]]:
    """Every query of the application whose model is one table dbreview knows (a class name used by two
    tables, or by none, is skipped; a method's query of its own class, only where that class maps a table of the
    module); with `writes`, its bulk DELETE and UPDATE statements too; `connectors` as app_usage's."""
    by_class = mapped_names(facts)
    for usage in app_usage(facts, connectors):
        for q in [*usage.queries, *usage.writes] if writes else usage.queries:
            table = query_table(q, by_class.get(_imported_as(q), []))
            if table is not None:
                yield q, table


def query_table(q: QueryUse, tables: list[TableFact]) -> TableFact | None:
    """Of the tables mapped by the name the query selects, the one it means: its own class's where it queries
    `cls`; of two models of one name (two applications, two modules), the one its import leads to."""
    if q.own_class:
        tables = [t for t in tables if t.path == q.span.path]
    if len(tables) > 1:
        package = q.model_ref.rpartition(".")[0]
        tables = [t for t in tables if package and module_name(t.path)[0].startswith(package)]
    return tables[0] if len(tables) == 1 else None


def _imported_as(q: QueryUse) -> str:
    """The class a query selects: `ProviderModel` of `from orm.provider import Provider as ProviderModel` is Provider,
    whatever class of the project is named ProviderModel."""
    imported = q.model_ref.rpartition(".")[2]
    return imported if imported and "." not in q.model and imported != q.model and imported[:1].isupper() else q.model


def run_by_helper(facts: Facts, q: QueryUse) -> tuple[tuple[str, ...], str] | None:
    """A query handed unrun to a method of its own class (`self.get_one_or_none(statement)` in a repository): the
    methods it meets there (on the statement and on the result), through the methods of self that one hands it on
    to, and "Class.method" of the first; each method found by name on the class, then on its bases in order
    (analyzers/facts/runners.py). None where one of them is not found or not read, lets it escape, filters or
    joins it, or never runs it: what runs it, and how, is not known."""
    if q.handed is None:
        return None
    chain = _class_chain(facts, q.span.path, q.handed[0])
    methods, first, ran = set(q.methods), "", False
    hand: tuple[str, int] | None = q.handed[1:]
    for _ in range(4):
        if hand is None:
            return (tuple(sorted(methods)), first) if ran else None
        name, position = hand
        found = next(((cls, runners[f"{cls}.{name}"]) for runners, cls in chain if f"{cls}.{name}" in runners), None)
        if found is None or found[1].position != position or found[1].escapes or found[1].opaque:
            return None
        first = first or f"{found[0]}.{name}"
        methods |= set(found[1].methods)
        ran, hand = ran or found[1].ran, found[1].handed
    return None


def _class_chain(facts: Facts, path: str, name: str) -> list[tuple[dict, str]]:
    """The class `name` of the module at `path`, then its bases nearest first: (the runners of the module that
    defines each, its name). A base outside the target ends the chain with nothing to offer."""
    index = facts.derived.get("classes")
    if "helper-classes" not in facts.derived:  # once a scan
        facts.derived["helper-classes"] = ({m.path: m for m in facts.modules},
                                           {(c.path, c.name): c for c in getattr(index, "all", ())})
    by_path, classes = facts.derived["helper-classes"]  # type: ignore[misc]
    own = by_path.get(path)
    cls = classes.get((path, name))
    chain = [(own.runners if own else {}, name)]
    for a in index.ancestors(cls) if cls is not None else ():  # type: ignore[union-attr]
        if isinstance(a, ClassFact):
            chain.append((by_path[a.path].runners if a.path in by_path else {}, a.name))
        elif a.kind == "class" and a.module is not None:  # the target's, read but kept as no model class
            chain.append((a.module.runners, a.name.rpartition(".")[2]))
    return chain


_TABLE_VARIABLE = re.compile(r"\s*(\w+)\s*(?::[^=]*)?=\s*(?:\w+\.)*Table\(")


def table_variable(facts: Facts, table: TableFact) -> str | None:
    """The variable a `Table(...)` is assigned to (`team_members = Table("team_member", ...)`), from its first line."""
    if table.class_name:
        return None
    m = _TABLE_VARIABLE.match(facts.lines(Span(table.path, table.span.start, table.span.start))[0])
    return m.group(1) if m is not None else None


def mapped_names(facts: Facts) -> dict[str, list[TableFact]]:
    """The names queries call tables by (QueryUse.model) -> the tables of that name: a mapped class's name, and a
    Core table's variable as analyzers/facts/core_tables.py marks it."""
    found = facts.derived.get("mapped_names")
    if found is None:
        found = {}
        for t in facts.tables.values():
            name = t.class_name or (CORE + variable if (variable := table_variable(facts, t)) else None)
            if name:
                found.setdefault(name, []).append(t)
        facts.derived["mapped_names"] = found
    return found  # type: ignore[return-value]


def subclass_tables(facts: Facts, by_name: dict[str, TableFact]) -> dict[str, TableFact]:
    """Subclasses of a mapped class that have no table of their own (single-table inheritance, `class
    RpmBuild(Build)`), as the class index has them -> the parent's table: constructing one adds a row to it, a
    relationship to one (`relationship("Question")` of `class Question(Component)`) loads its rows."""
    index = facts.derived.get("classes")
    out: dict[str, TableFact] = {}
    for cls in getattr(index, "all", ()):
        if cls.name in by_name or cls.abstract or index.is_mapped(cls):  # type: ignore[union-attr]
            continue
        parent = next((a for a in index.ancestors(cls) if getattr(a, "name", None) in by_name  # type: ignore[union-attr]
                       and index.is_mapped(a)), None)  # type: ignore[union-attr, arg-type]
        if parent is not None:
            out[cls.name] = by_name[parent.name]  # type: ignore[union-attr]
    return out


def central_filters(facts: Facts) -> list[Span]:
    """Where every query may be filtered at once: with_loader_criteria, a query class of the project's, a
    do_orm_execute listener."""
    spans = [s for usage in app_usage(facts) for s in usage.central_filters]
    spans += [lst.span for lst in facts.listeners if lst.event == "do_orm_execute"]
    return spans


def soft_delete_column(table: TableFact) -> str | None:
    return next((c for c in SOFT_DELETE_COLUMNS if c in table.columns), None)


# Words of a variable's name that say nothing of its model: `existing_lead` is a lead.
_NOT_A_MODEL = {"existing", "current", "db", "new", "old", "the", "orm", "obj", "instance", "record", "row", "entity",
                "item", "target", "model", "to", "found", "my"}


@functools.lru_cache(maxsize=8192)  # asked for the same few names tens of thousands of times a scan
def _words(name: str) -> frozenset[str]:
    # an acronym is a word of its own: RabbitMQBroker is rabbit, mq, broker (a `broker` holds one)
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower().split("_")
    return frozenset({w for w in words if w} - _NOT_A_MODEL)


def names_class(hint: str, class_name: str) -> bool:
    """Does a variable or model name say it holds `class_name` (`api_key` a TenantApiKey, `current_user` a User)?"""
    mine, theirs = _words(hint), _words(class_name)
    return bool(mine and theirs) and (mine <= theirs or theirs <= mine)


def named_models(hint: str, classes: list[str]) -> list[str]:
    """The model classes a variable's name says it holds: the one it names exactly when there is one (`event` is an
    Event, not an EventType or an EventInvoice), else every class it names in part (`existing_lead` a Lead)."""
    named = [c for c in classes if names_class(hint, c)]
    return [c for c in named if _words(c) == _words(hint)] or named


def holds_row_of(hint: str, table: TableFact, classes: list[str]) -> bool:
    """Does a variable's name say it holds a row of `table`, and of no other model (a Core table: by its name)?"""
    return named_models(hint, classes) == [table.class_name] if table.class_name else names_class(hint, table.name)


def soft_delete_writes(facts: Facts, table: TableFact, flag: str) -> tuple[list[Span], list[tuple[str | None, Span]]]:
    """Where the application sets `flag`: (on rows of `table`, as the object written is named and no other model is
    named so; on objects named as no model, as several, or not named at all (`obj`, `self`, setattr), which may be
    rows of any model)."""
    classes = sorted({t.class_name for t in facts.tables.values() if t.class_name})  # a name two apps share: one
    mine: list[Span] = []
    unknown: list[tuple[str | None, Span]] = []
    for usage in app_usage(facts):
        for column, hint, span in usage.soft_deletes:
            if column != flag:
                continue
            named = named_models(hint, classes) if hint is not None else []
            if hint is not None and holds_row_of(hint, table, classes):
                mine.append(span)
            elif not named or (len(named) > 1 and table.class_name in named):
                unknown.append((hint, span))
    return mine, unknown


# What a variable holds that names a row without being it: `project_name`, `user_id`, `team_ids`.
_NAMES_A_ROW = re.compile(r"_(?:name|id|key|slug|uuid|pk)s?$")


def soft_deleted_at(facts: Facts, table: TableFact, flag: str) -> tuple[Span, str] | None:
    """Where the application soft-deletes a row of `table` (sets `flag`), and how, in a finding's words: on an object
    whose name says it is one (`discount.deleted_at = now`), or through a function named for deleting that sets the flag
    to a value (a base class's `set_deleted_at()`, a repository's `soft_delete(obj)`) called on such an object or given
    one. None: nowhere found."""
    mine = [span for span in soft_delete_writes(facts, table, flag)[0]  # not a restore: `row.deleted_at = None`
            if not re.search(rf"\b{flag}\s*[=:]\s*None\b", "\n".join(facts.lines(span)))]
    if mine:
        return mine[0], f"it sets {flag} at {mine[0].path}:{mine[0].start}"
    writes = re.compile(rf"""(?:\.{flag}\s*=(?!=)|["']{flag}["']\s*:|\b{flag}\s*=(?!=))\s*(?!None\b|null\(\))""")
    helpers: set[str] = set()
    for span, line in mentions(facts, {flag})[flag]:
        if is_test_path(span.path) or is_tooling_path(span.path) or not writes.search(line.partition("#")[0]):
            continue
        _, body = function_around(facts, span)
        m = re.match(r"\s*(?:async\s+)?def\s+(\w+)", body[0] if body else "")
        if m is not None and "delet" in m.group(1).lower():  # soft_delete(), set_deleted_at(): not a restore, an upsert
            helpers.add(m.group(1))
    classes = sorted({t.class_name for t in facts.tables.values() if t.class_name})  # a name two apps share: one
    for name in sorted(helpers):
        call = re.compile(rf"(?:(\w+)\s*\.\s*)?\b{re.escape(name)}\s*\(([^()]*)")
        for span, line in mentions(facts, {name})[name]:
            code = line.partition("#")[0]
            if is_test_path(span.path) or is_tooling_path(span.path) or re.match(r"\s*(?:async\s+)?def\s", code):
                continue
            for m in call.finditer(code):
                args = [a.split("=")[0].strip() for a in m.group(2).split(",")]
                # `delete(name, project_name)`: a name or an id of a row is not the row
                if any(holds_row_of(a, table, classes) for a in [m.group(1) or "", *args]
                       if a.isidentifier() and not _NAMES_A_ROW.search(a)):
                    return span, f"{span.path}:{span.start} calls {name}(), which sets {flag}"
    return None


def uses_async_sessions(facts: Facts) -> bool:
    """The application runs its ORM on AsyncSession (an async engine or session factory in its own code)."""
    return any(not is_test_path(c.span.path) and not is_tooling_path(c.span.path) for c in facts.calls_named(
        "create_async_engine", "async_sessionmaker", "async_scoped_session"))


def universal_soft_delete(tables: dict[str, TableFact]) -> set[str]:
    """The classes that give a soft-delete column to most tables (a base every model inherits): there the
    column says nothing of which rows the project really soft deletes, and which it deletes outright."""
    counts: dict[str, int] = {}
    for t in tables.values():
        flag = soft_delete_column(t)
        if flag is not None:
            counts[t.columns[flag].declared_in] = counts.get(t.columns[flag].declared_in, 0) + 1
    return {cls for cls, n in counts.items() if n >= 10 and n * 2 >= len(tables)}


def open_call(text: str) -> str | None:
    """The callee whose argument list the end of `text` is inside (`svc.save_token(\n  a=1, ` -> svc.save_token):
    what is written before the last `(` left open, None where that is a bracket of another kind or no name."""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] in ")]}":
            depth += 1
        elif text[i] in "([{":
            if depth == 0:
                m = re.search(r"(?<![\w.])([A-Za-z_][\w.]*)\s*$", text[:i]) if text[i] == "(" else None
                return m.group(1) if m else None
            depth -= 1
    return None


def function_around(facts: Facts, span: Span) -> tuple[int, list[str]]:
    """The lines of the function a line is in (from its `def` to where its body ends), and the number of the
    first; or the line alone."""
    lines = facts.lines(Span(span.path, 1, span.start + 400))
    at = span.start - 1
    indent = len(lines[at]) - len(lines[at].lstrip())
    start = next((i for i in range(at, -1, -1) if re.match(r"\s*(async\s+)?def\s", lines[i])
                  and len(lines[i]) - len(lines[i].lstrip()) < indent), None)
    if start is None:
        return span.start, [lines[at]]
    base = len(lines[start]) - len(lines[start].lstrip())
    # A class statement no deeper than that def, between it and the line, ends the function: the line is in the class's
    # body (a relationship of a model declared after a module-level helper is in no function).
    if any(re.match(r"\s*class\s", line) and len(line) - len(line.lstrip()) <= base for line in lines[start + 1:at]):
        return span.start, [lines[at]]
    end = next((i for i in range(at + 1, len(lines)) if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= base),
               len(lines))
    return start + 1, list(lines[start:end])


def weighs_deleted(facts: Facts, q: QueryUse, flag: str) -> Span | None:
    """Where the function that runs `q` looks at the soft-delete flag of what it loaded, after the query: it
    rejects deleted rows (`if user.deleted_at is not None: raise`), skips them, or brings one back
    (`grant.is_deleted = False`, a re-grant that reuses the row): it reads deleted rows on purpose."""
    flag_re = re.escape(flag)
    weighs = re.compile(rf"\bif\b[^#]*\.{flag_re}\b|\.{flag_re}\s*=(?!=)\s*(None|False)\b")
    found = _weighs_after(facts, q.span, weighs)
    if found is None and q.function and not q.escapes:
        found = _every_caller_weighs(facts, q.function, weighs)
    return found


def _weighs_after(facts: Facts, span: Span, weighs: re.Pattern) -> Span | None:
    first, lines = function_around(facts, span)
    for number in range(max(span.start, first), first + len(lines)):
        if weighs.search(lines[number - first].partition("#")[0]):
            return Span(span.path, number, number)
    return None


def _every_caller_weighs(facts: Facts, function: str, weighs: re.Pattern) -> Span | None:
    """A lookup that hands its row to its callers (`return result`), each of which looks at the flag of what
    it gets (`if found and not found.deleted: raise ...`, an upsert that reuses a deleted row): the deleted
    rows are read on purpose. Where every call found, in the modules that mention the function, does so."""
    call = re.compile(rf"\b{re.escape(function)}\(")
    seen: Span | None = None
    for m in facts.modules:
        if function not in m.mentions or is_test_path(m.path):
            continue
        for number, line in enumerate(facts.lines(Span(m.path, 1, 10**6)), 1):
            if not call.search(line.partition("#")[0]) or re.match(rf"\s*(async\s+)?def\s+{re.escape(function)}\b", line):
                continue
            where = _weighs_after(facts, Span(m.path, number, number), weighs)
            if where is None:
                return None
            seen = seen or where
    return seen
