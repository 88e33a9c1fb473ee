"""CFG019 (issue 8, checklist 1.5): a generative query method called as a statement of its own, its new query
dropped, on a fixture of our own (tests/fixtures/discarded_queries): each finding pinned, each place where the
name's type is not known silent; and the facts it reads (analyzers/facts/discarded_queries.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.advice import advice
from analyzers.engine import scan
from analyzers.facts.python_module import extract_module
from tests.expected_findings import assert_exactly

FIXTURE = Path(__file__).parent / "fixtures" / "discarded_queries"

# Silent on purpose: the result kept (`kept`), a query handed in as a parameter (`handed_in`: its type is not
# known), a name rebound by a project function before the dropped call (`paged`), and `Finder.query` of a class
# that is not a model (`not_a_model`).
EXPECTED = {
    ("app/tickets.py:10", "function:app/tickets.py:open_tickets:query:dropped:query.filter(Ticket.closed.is_(False))",
     "open_tickets calls `query.filter(Ticket.closed.is_(False))` as a statement of its own (line 10): `filter()` "
     "returns a new query and leaves `query` as it was, so the condition is never applied"),
    ("app/tickets.py:16", "function:app/tickets.py:newest:query:dropped:query.order_by(Ticket.id.desc())",
     "so the order is never applied and the query kept in `query` returns its rows in no set order"),
    ("app/tickets.py:22", "function:app/tickets.py:locked:stmt:dropped:stmt.with_for_update()",
     "so the row lock is never applied and the query kept in `stmt` locks no row"),
    ("app/tickets.py:28", "function:app/tickets.py:close_all:stmt:dropped:stmt.where(Ticket.team_id == team_id)",
     "`where()` returns a new query and leaves `stmt` as it was"),
    ("app/tickets.py:54", "function:app/tickets.py:per_team:query:dropped:query.filter(Ticket.team_id == team)",
     "per_team calls `query.filter(Ticket.team_id == team)`"),
    ("app/cli/report.py:6", "function:app/cli/report.py:closed:query:dropped:query.filter(Ticket.closed.is_(True))",
     "closed calls `query.filter(Ticket.closed.is_(True))`"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "CFG019"]


def test_each_dropped_query_is_found_and_nothing_else(findings) -> None:
    assert_exactly(findings, EXPECTED)
    severities = {f.anchor.split(":")[2]: f.severity.value for f in findings}
    # a lost condition or lock is a warning; a lost order, and anything in command-line tooling, an info
    assert severities == {"open_tickets": "warning", "newest": "info", "locked": "warning", "close_all": "warning",
                          "per_team": "warning", "closed": "info"}
    assert all(f.item_id == "1.5" for f in findings)


def test_where_the_query_was_built_is_cited(findings) -> None:
    first = next(f for f in findings if ":open_tickets:" in f.anchor)
    assert [(r.location.start_line, r.note) for r in first.related] == [(8, "`query` built here")]
    assert "`query = query.filter(...)`" in advice(first.rule_id, first.anchor, first.message)


def test_the_facts_read_only_names_whose_every_binding_is_a_query() -> None:
    code = '''
import sqlalchemy as sa
from app.search import select

def core(conn):
    stmt = sa.select(sa.table("t"))
    stmt.where(sa.column("a") == 1)

def foreign(conn):
    stmt = select("t")
    stmt.where(a=1)

def rebound_later(session):
    query = session.query(T)
    query.filter(T.a == 1)
    query = build(query)
    return query

def in_a_comprehension(session):
    query = session.query(T)
    return [query.filter(T.a == x) for x in range(3)]
'''
    found = {(d.function, d.call.start, d.method) for d in extract_module("app/q.py", code).discarded_queries}
    assert found == {("core", 7, "where"), ("rebound_later", 15, "filter")}
