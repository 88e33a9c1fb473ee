"""Where the code an item is about is: for a checklist item with no finding, the right pane shows
the engine, the listener, the policy or the model the item names, as the scan located them.

The checklist is the guide: an item's words are matched against what each located place is (a
listener's event and function, an engine or session factory, a policy's table, a model's table,
columns and file, a column, a migration); an item that names code (`after_begin`, `deleted_at`) is
about that code only. No guessing beyond that: an item none of whose words names a located place
gets no place, and the pane says so."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzers.checklist import Checklist, Item

if TYPE_CHECKING:  # the facts' model is a scan's: the app's first screen needs only Place
    from analyzers.facts.model import Facts

MAX_PLACES = 3
_CODE = re.compile(r"`([^`]+)`")
_WORD = re.compile(r"[a-z0-9_]+")
_STOP = {"the", "and", "with", "for", "via", "all", "not", "are", "per", "proper", "correctly", "set", "fields",
         "field", "support", "tracking", "uses", "use", "implementation", "management", "never", "from"}
# Words that name a kind of place, whatever the target calls its own.
_KIND_WORDS = {
    "engine": {"engine", "engines", "pool", "pooling", "connection", "connections", "async", "postgresql", "resilience"},
    "session": {"session", "sessions", "sessionlocal", "asyncsessionlocal", "sessionmaker"},
    "listener": {"listener", "listeners", "event", "events"},
    "policy": {"rls", "row", "level", "security", "policy", "policies", "tenant", "isolation"},
    "migration": {"migration", "migrations", "revision", "revisions", "alembic", "upgrade", "downgrade"},
}


@dataclass(frozen=True, slots=True)
class Place:
    path: str
    start: int
    end: int
    what: str  # "listener checkin -> reset_connection_state"
    words: frozenset[str]
    kind: str


def places(facts: Facts) -> list[Place]:
    """Every place an item could be about."""
    from analyzers.facts.model import Span

    out: list[Place] = []

    seen: set[tuple[str, int, str]] = set()

    def add(span: Span, what: str, kind: str, *names: str | None) -> None:
        if (span.path, span.start, kind) in seen:  # a mixin's column is in every table that uses it
            return
        seen.add((span.path, span.start, kind))
        words = set(_KIND_WORDS.get(kind, ())) | {w for n in names if n for w in _words(n)}
        out.append(Place(span.path, span.start, span.end, what, frozenset(words), kind))

    for lis in facts.listeners:
        add(lis.span, f"listener {lis.event} on {lis.target} -> {lis.function}", "listener", lis.event, lis.function,
            lis.target, *(u.text for u in lis.sql if u.text))
    for call in facts.calls:
        short = call.name.rsplit(".", 1)[-1]
        kind = "engine" if short.endswith("_engine") else "session" if "session" in short.lower() else ""
        if kind:
            add(call.span, f"{short}(){f' -> {call.target}' if call.target else ''}", kind, short, call.target,
                *call.kwargs)
    for use in facts.sql:
        for st in use.statements:
            if st.kind in ("enable_rls", "force_rls", "create_policy"):
                add(st.span, f"{st.kind.replace('_', ' ')} on {st.table}", "policy", st.table, st.text)
    for table in facts.tables.values():
        add(table.span, f"model {table.class_name or table.name} (table {table.name})", "model", table.name,
            table.class_name, posixpath.basename(table.path), *table.columns, *table.mixins)
        for column in table.columns.values():
            if column.span.path == table.path:  # declared here, not in a mixin (that one has a place of its own)
                add(column.span, f"column {table.name}.{column.name}", "column", column.name, column.attr)
            else:
                add(column.span, f"column {column.name} of {column.declared_in}", "column", column.name, column.attr,
                    column.declared_in)
    for rev in facts.revisions:
        add(Span(rev.path, 1, 1), f"migration {posixpath.basename(rev.path)}", "migration", posixpath.basename(rev.path))
    return out


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def about(checklist: Checklist, facts: Facts) -> dict[str, list[Place]]:
    """item id -> the places it is about, best first (items with none are left out)."""
    found = places(facts)
    out: dict[str, list[Place]] = {}
    for item in checklist.items:
        best = _rank(item, checklist, found)
        if best:
            out[item.id] = best
    return out


def _rank(item: Item, checklist: Checklist, found: list[Place]) -> list[Place]:
    code = {w for term in _CODE.findall(item.text) for w in _words(term)}
    words = _words(item.text)
    files = _group_files(item, checklist)
    per_file: dict[str, int] = {}
    for place in found:
        per_file[place.path] = per_file.get(place.path, 0) + 1
    scored = []
    for place in found:
        in_files = posixpath.basename(place.path) in files
        if files and place.kind in ("model", "column") and not in_files:
            continue
        score = 3 * len(code & place.words) + len(words & place.words)
        if code and not code & place.words:
            continue  # an item that names code is about that code, or about nothing located
        if in_files and place.kind == "model":
            score += 1  # the group names this model's file
        if score >= 2:  # ties: the file with the most places first (the set-up module, not a seed script)
            scored.append((-score, -per_file[place.path], place.path, place.start, place))
    scored.sort(key=lambda t: t[:4])
    return [t[4] for t in scored[:MAX_PLACES]]


def _group_files(item: Item, checklist: Checklist) -> set[str]:
    """The model files an item's group names ("users.py", "billing.py, payments.py")."""
    if not item.group:
        return set()
    section = checklist.section(item.section_id)
    group = next((g for g in section.groups if g.key == item.group), None)
    return {f.strip() for f in re.split(r"[,\s]+", group.files) if f.strip().endswith(".py")} if group else set()
