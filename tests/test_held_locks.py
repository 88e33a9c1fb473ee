"""CFG018 (issue 8, checklist 1.5): a row lock held while the function calls another service over the network, on
a fixture of our own (tests/fixtures/held_locks): each finding pinned, each place that is right on purpose silent;
and the facts it reads (analyzers/facts/held_locks.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.advice import advice
from analyzers.engine import scan
from analyzers.facts.python_module import extract_module
from tests.expected_findings import assert_exactly

FIXTURE = Path(__file__).parent / "fixtures" / "held_locks"

# (where, anchor, words the message must hold): every CFG018 finding on the fixture. Silent on purpose: a commit
# before the call, a queue's skip_locked claim, a lock released at the end of `with session.begin():`, a call
# before the lock, the project's own mail function (it may only enqueue), and a function nothing calls.
EXPECTED = {
    ("app/billing.py:19", "function:app/billing.py:pay:lock-held-across-call",
     "pay locks Invoice rows (line 18) and then calls `requests.post` (line 19) before the commit at line 21: "
     "the rows stay locked"),
    ("app/billing.py:28", "function:app/billing.py:notify:lock-held-across-call",
     "notify locks Invoice rows (line 26) and then calls `client.post` (line 28) before the commit at line 30"),
    ("app/billing.py:37", "function:app/billing.py:mail_receipt:lock-held-across-call",
     "mail_receipt locks rows (line 35) and then calls `smtp.sendmail` (line 37) before the transaction ends (no "
     "commit or rollback in the function: its caller's)"),
    ("app/billing.py:44", "function:app/billing.py:refund:lock-held-across-call",
     "refund locks Invoice rows (line 42) and then calls `stripe.Refund.create` (line 44) before the commit at line 46"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "CFG018"]


def test_each_lock_held_across_a_call_is_found_and_nothing_else(findings) -> None:
    assert_exactly(findings, EXPECTED)
    for f in findings:
        assert f.severity.value == "warning" and f.item_id == "1.5"
        assert "every request that locks or updates them waits behind it" in f.message


def test_only_a_requests_call_without_timeout_is_said_to_wait_without_limit(findings) -> None:
    unbounded = {f.anchor.split(":")[2] for f in findings if "requests has no default timeout" in f.message}
    assert unbounded == {"pay"}  # httpx has a default timeout; SMTP's and Stripe's are set elsewhere


def test_the_lock_and_the_end_of_the_transaction_are_cited(findings) -> None:
    pay = next(f for f in findings if ":pay:" in f.anchor)
    assert [(r.location.start_line, r.note) for r in pay.related] == [
        (18, "the row lock"), (21, "the transaction ends here")]
    assert "`pay`" in advice(pay.rule_id, pay.anchor, pay.message)


def test_the_facts_follow_the_path_and_the_transaction_block() -> None:
    code = '''
import requests
from sqlalchemy import select

def loop(session):
    for job in session.scalars(select(Job).with_for_update()):
        requests.post("https://x", timeout=1)

def branch(session, ok):
    job = session.get(Job, 1, with_for_update=True)
    if not ok:
        session.rollback()
        return
    requests.post("https://x", timeout=1)

def returned_first(session, ok):
    if ok:
        job = session.get(Job, 1, with_for_update=True)
        return job
    requests.post("https://x", timeout=1)

def nested_block(session):
    with session.begin():
        job = session.get(Job, 1, with_for_update=True)
        requests.post("https://x", timeout=1)
'''
    found = {(h.function, h.lock.start, h.call.start, h.locked) for h in extract_module("app/jobs.py", code).held_locks}
    assert found == {("loop", 6, 7, "Job"), ("branch", 10, 14, "Job"), ("nested_block", 24, 25, "Job")}
