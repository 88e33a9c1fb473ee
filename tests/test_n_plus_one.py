"""PERF003's loops (issue 8, checklist 8.4): a synchronous query whose rows a loop or comprehension runs over,
reading a relationship that loads lazily on each row, on a fixture of our own (tests/fixtures/n_plus_one);
each finding pinned, each place that is right on purpose silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.engine import scan

FIXTURE = Path(__file__).parent / "fixtures" / "n_plus_one"

# (where, anchor, words the message must hold): every PERF003 finding on the fixture.
EXPECTED = {
    ("app/reports.py:11", "function:app/reports.py:unpaid_lines:Order:n+1",
     "loops over the Order rows of the query at app/reports.py:10 (loop at line 10) and reads Order.lines on each row"),
    ("app/reports.py:19", "function:app/reports.py:active_customers:Customer:n+1", "reads Customer.orders on each row"),
    ("app/reports.py:25", "function:app/reports.py:order_emails:Order:n+1",
     "Order.customer is a many-to-one: one query per distinct parent"),
    ("app/reports.py:80", "function:app/reports.py:address_owners:Address:n+1",
     "it loads lazily (lazy=True, SQLAlchemy's default, no selectinload"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "PERF003"]


def test_every_loop_finding_pinned(findings):
    got = {(f"{f.location.path}:{f.location.start_line}", f.anchor) for f in findings}
    assert got == {(where, anchor) for where, anchor, _ in EXPECTED}
    for f in findings:
        words = next(w for where, anchor, w in EXPECTED if anchor == f.anchor)
        assert words in f.message, f.message
        assert f.severity.value == "info"
        assert "N+1" in f.message


def test_the_query_and_the_loop_are_cited(findings):
    f = next(f for f in findings if f.anchor.endswith("unpaid_lines:Order:n+1"))
    notes = {r.note: f"{r.location.path}:{r.location.start_line}" for r in f.related}
    assert notes["the query"] == "app/reports.py:10"
    assert notes["the loop over its rows"] == "app/reports.py:10"
    assert notes["Order.lines loads lazily"] == "app/models.py:32"


@pytest.mark.parametrize("function", ["unpaid_lines_eager", "emails_joined", "orders_of", "addresses", "totals",
                                      "last_order_lines", "with_options", "by_id", "for_customers",
                                      "line_totals"])
def test_right_on_purpose_is_silent(findings, function):
    assert not [f for f in findings if f":{function}:" in f.anchor]


def test_tests_are_not_application_code(findings):
    assert not [f for f in findings if f.location.path.startswith("tests/")]


def test_the_advice_names_the_function_and_the_relationships(findings):
    from analyzers.advice import advice

    f = next(f for f in findings if f.anchor.endswith("unpaid_lines:Order:n+1"))
    assert advice(f.rule_id, f.anchor, f.message).startswith(
        "In `unpaid_lines`, load Order.lines with the query the loop runs over: `.options(selectinload(...))`")


def test_a_relationship_the_loop_sets_before_it_reads_it_loads_nothing(tmp_path):
    """simpler-grants-gov (PERF003 judged wrong): `member.team = teams[member.team_id]` then `member.team.name` in the
    same turn of the loop reads what was set; the same loop without the assignment still reads lazily."""
    from analyzers.rules.s08_performance import DynamicRelationship
    from tests.test_precision import found

    models = DynamicRelationship._TEAMS
    views = ("from app.models import Member\n\ndef roster(session, teams):\n    names = []\n"
             "    for m in session.query(Member).all():\n        m.team = teams[m.team_id]\n        names.append(m.team.name)\n"
             "    return names\n")
    assert found(tmp_path, {"app/models.py": models, "app/views.py": views}, "PERF003") == []
    lazy = views.replace("        m.team = teams[m.team_id]\n", "")
    assert len(found(tmp_path / "lazy", {"app/models.py": models, "app/views.py": lazy}, "PERF003")) == 1


def test_a_relationship_rebuilt_from_itself_is_read_first(tmp_path):
    """zou (PERF003 judged right, lost by the rule above in a first cut): `m.teams = [t for t in m.teams if ...]` reads
    the collection to make its own new value: the lazy load happens."""
    from analyzers.rules.s08_performance import DynamicRelationship
    from tests.test_precision import found

    views = ("from app.models import Member\n\ndef prune(session):\n    for m in session.query(Member).all():\n"
             "        m.team = (\n            m.team if m.team.name else None\n        )\n")
    assert len(found(tmp_path, {"app/models.py": DynamicRelationship._TEAMS, "app/views.py": views}, "PERF003")) == 1
