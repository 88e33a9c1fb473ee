"""Relationships that load lazily, read on every row a synchronous query's loop runs over (PERF003): the facts
the rule words, apart from the rule so that PERF005 shares what "loads lazily" means."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from analyzers.facts.model import Facts, RelationshipFact, Span, TableFact
from analyzers.facts.usage import QueryUse
from analyzers.rules.code_use import app_queries
from analyzers.rules.schema import key_lookup

DEFAULT_LAZY = (None, "select", "True")  # no lazy=, or SQLAlchemy's default written out


@dataclass(frozen=True)
class LoopRead:
    rel: RelationshipFact
    read: Span
    loop: Span
    many_to_one: bool


def declared_lazy(reads: list[LoopRead]) -> str:
    """How the relationships read say they load, in the words of their declarations: none says, or the default."""
    said = sorted({r.rel.lazy for r in reads if r.rel.lazy is not None})
    if not said:
        return "no lazy= on the relationship" if len(reads) == 1 else "no lazy= on the relationships"
    shown = ", ".join(f"lazy={w}" if w == "True" else f'lazy="{w}"' for w in said)
    return f"{shown}, SQLAlchemy's default" if len(said) == 1 and len(reads) == 1 else f"{shown} or none: the default"


def many_to_one(table: TableFact, rel: RelationshipFact, by_class: dict[str, TableFact]) -> bool:
    """A relationship whose foreign key sits on this side (Notification.user over notifications.user_id):
    it loads one row, not a collection, unless it goes through a secondary table."""
    if rel.secondary or rel.uselist is True:
        return False
    target = _target(rel, by_class)
    if target is None or target is table:
        return False  # unknown, or self-referential (parent and children look alike)
    return bool(_keys_to(table, target))


def lazy_loop_reads(facts: Facts) -> Iterator[tuple[QueryUse, TableFact, list[LoopRead]]]:
    """Each synchronous query whose rows a loop reads lazy relationships on, with those reads (the first of each
    relationship). Not read: options it cannot read, rows of columns only, a query that compares a unique key with
    `==` (one row: no loop of many), a relationship loaded in the query's options (or by a wildcard), and a
    many-to-one whose foreign key (or itself) the query tests with `==` or `in_()`: the parents are ones the code
    holds already, or one, and the session's identity map answers those reads without a query; nor one the loop sets
    before it reads it."""
    by_class = {t.class_name: t for t in facts.tables.values() if t.class_name}
    for q, table in app_queries(facts):
        if q.is_async or q.opaque_options or q.columns_only or not q.looped or "*" in q.eager:
            continue
        if not q.opaque_filter and key_lookup(facts, table, q.equals):
            continue
        pinned = set(q.equals) | {ref.partition(".")[2] for ref in q.keyed if ref.partition(".")[0] == table.class_name}
        rels = {r.attr: r for r in table.relationships}
        reads: dict[str, LoopRead] = {}
        for attr, read, loop in q.looped:
            rel = rels.get(attr)
            if rel is None or attr in reads or attr in q.eager or rel.lazy not in DEFAULT_LAZY:
                continue
            to_one = many_to_one(table, rel, by_class)
            if attr in pinned or f"{attr}_id" in pinned or (to_one and _keys_to(table, _target(rel, by_class)) & pinned):  # type: ignore[arg-type]
                continue  # `event_id` by the naming convention, where the foreign key is not read (a mixin's)
            if _set_first(facts, attr, read, loop):
                continue
            reads[attr] = LoopRead(rel, read, loop, to_one)
        if reads:
            yield q, table, list(reads.values())


def _set_first(facts: Facts, attr: str, read: Span, loop: Span) -> bool:
    """The loop assigns the relationship (`row.parent = parents[row.parent_id]`) before it reads it: the read
    answers from what was set, no query."""
    before = facts.lines(Span(read.path, loop.start, read.start - 1)) if read.start > loop.start else ()
    for i, line in enumerate(before):
        if re.search(rf"\.{re.escape(attr)}\s*=(?!=)", line):
            depth = 0  # the assignment ends before the read (`row.kids = [k for k in row.kids]` reads it first)
            for later in before[i:]:
                depth += sum(later.count(o) - later.count(c) for o, c in ("()", "[]", "{}"))
                if depth <= 0:
                    return True
    return False


def _target(rel: RelationshipFact, by_class: dict[str, TableFact]) -> TableFact | None:
    return by_class.get((rel.target or "").strip("'\"").split(".")[-1])


def _keys_to(table: TableFact, target: TableFact) -> set[str]:
    """The columns of `table` with a foreign key to `target` (a composite constraint: none are named, so the
    relationship counts as many-to-one but no column is pinned)."""
    return {c.attr for c in table.columns.values() if any(fk.table == target.name for fk in c.foreign_keys)} | {
        "" for con in table.constraints if con.kind == "foreign_key" and (con.target or "").split(".")[0] == target.name}
