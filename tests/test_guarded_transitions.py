"""RACE004 (issue 8): a row's status tested in Python, then changed, with no lock or conditional UPDATE between
(check-then-act), on a fixture of our own (tests/fixtures/guarded_transitions): each finding pinned, each place
that is right on purpose silent; and the facts it reads (analyzers/facts/rewrites.py, kind "guard")."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.engine import scan
from analyzers.examples import facts_from_sources
from analyzers.facts.python_module import extract_module
from analyzers.rules.s05_guarded_transitions import GuardedTransition

FIXTURE = Path(__file__).parent / "fixtures" / "guarded_transitions"

# (where, anchor, severity, words the message must hold): every RACE004 finding on the fixture. Silent on purpose:
# claim_locked (with_for_update), claim_counted (an UPDATE whose rowcount it checks), finish (a row handed in),
# move (no fixed transition), use_coupon (a version counter), never_called, reset (only the value written is
# excluded), expire (a status time gives), rerun (the test was of the row bound before), scripts/.
EXPECTED = {
    ("app/routes.py:15", "function:app/routes.py:claim_job:Job.status:check-then-act", "info",
     "claim_job loads a Job row with the query at line 12, which takes no row lock, tests `job.status != 'pending'` "
     "(line 13), then sets Job.status (`job.status = 'running'`) and commits (line 16)"),
    ("app/routes.py:25", "function:app/routes.py:send_payout:Payout.status:check-then-act", "warning",
     "both run `transfer_funds(...)` (line 24), which no rollback undoes"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "RACE004"]


def test_each_unguarded_transition_is_found_and_nothing_else(findings) -> None:
    got = {(f"{f.location.path}:{f.location.start_line}", f.anchor, f.severity.value) for f in findings}
    assert got == {e[:3] for e in EXPECTED}
    for f in findings:
        gist = next(e[3] for e in EXPECTED if e[:2] == (f"{f.location.path}:{f.location.start_line}", f.anchor))
        assert gist in f.message, f.message
        assert "no row lock (with_for_update()), no conditional UPDATE" in f.message
        assert f.related[0].note.startswith("the test: ")


def test_race001_does_not_read_a_transition_as_a_lost_update() -> None:
    assert not [f for f in scan(FIXTURE).result.findings if f.rule_id == "RACE001"]


def test_an_engine_at_serializable_makes_the_second_claim_fail_instead() -> None:
    sources = {p.relative_to(FIXTURE).as_posix(): p.read_text() for p in FIXTURE.rglob("*.py")}
    sources["app/db.py"] = ("from sqlalchemy import create_engine\n"
                            "engine = create_engine('postgresql://db/q', isolation_level='SERIALIZABLE')\n")
    assert list(GuardedTransition(facts_from_sources(sources)).check()) == []


def test_the_facts_record_the_test_that_guards_a_transition() -> None:
    code = '''
def claim(session, job_id):
    job = session.get(Job, job_id)
    if job.state in ("done", "failed"):
        raise Conflict()
    job.state = JobState.RUNNING
    if job.status == "new":
        job.status = "seen"
    job.label = "x"
    if job.kind == "a":
        job.status = "b"
'''
    found = {(r.attr, r.kind, r.checked, r.checked_at.start, r.origin) for r in extract_module("app/q.py", code).rewrites}
    assert found == {("state", "guard", "job.state in ('done', 'failed')", 4, ("get", "Job")),
                     ("status", "guard", "job.status == 'new'", 7, ("get", "Job"))}


def test_a_write_into_the_row_between_its_test_and_its_transition_is_no_rebinding() -> None:
    """`job.owner = user` (or `job.meta[k] = v`) after the test writes into the same row: the test still guards the
    transition; `job = other` or `job, n = ...` binds another row, whose transition that test does not guard."""
    code = '''
def claim(session, job_id, user, other):
    job = session.get(Job, job_id)
    if job.status != "pending":
        raise Conflict()
    job.owner = user
    job.meta["by"] = user.id
    job.status = "running"

def swap(session, job_id, other):
    job = session.get(Job, job_id)
    if job.status != "pending":
        raise Conflict()
    job, seen = other, True
    job.status = "running"
'''
    found = {(r.function, r.attr, r.kind, r.checked) for r in extract_module("app/q.py", code).rewrites}
    assert ("claim", "status", "guard", "job.status != 'pending'") in found
    assert not any(r[0] == "swap" and r[2] == "guard" for r in found)
