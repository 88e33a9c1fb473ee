"""Advice in the finding's own names: every rule has some, and on the demo no recommendation names
what only the rule's documentation example names (the issue's TEN002 / MIG002 / INT006 cases)."""

from __future__ import annotations

import re

import pytest

from analyzers.advice import advice, subject
from analyzers.engine import scan
from analyzers.rules import all_rules
from analyzers.rules.base import describe
from tui.cli import BUNDLED_DEMO


@pytest.fixture(scope="module")
def demo_findings():
    return scan(BUNDLED_DEMO).result.findings


def test_every_rule_has_advice_of_its_own() -> None:
    missing = [rule.ID for rule in all_rules() if not advice(rule.ID, "table:t.c", "")]
    assert not missing, f"add advice for {missing} to analyzers/advice.py"


def test_anchors_come_apart_into_owner_column_and_the_rest() -> None:
    s = subject("table:appointments.provider_id:cascade")
    assert (s.kind, s.owner, s.column, s.rest, s.where) == ("table", "appointments", "provider_id", ("cascade",), "appointments.provider_id")
    s = subject("migration:0007:drop_column:patients:phone")
    assert (s.kind, s.owner, s.column, s.rest) == ("migration", "0007", "", ("drop_column", "patients", "phone"))
    assert subject("tenancy:no-rls").owner == "no-rls"


def _literals(text: str) -> set[str]:
    """Quoted names inside the code spans of a rule's documentation: `"users"`, `'legacy_flag'`."""
    spans = re.findall(r"`([^`]+)`", text) + [text]
    return {lit for span in spans for lit in re.findall(r"[\"']([A-Za-z_][\w.]*)[\"']", span)}


def test_demo_advice_names_the_findings_own_objects_and_nothing_of_the_examples(demo_findings) -> None:
    for f in demo_findings:
        text = advice(f.rule_id, f.anchor, f.message)
        s = subject(f.anchor)
        assert text, f.rule_id
        if s.kind in ("table", "class", "relationship"):
            assert s.where in text or s.owner in text, (f.rule_id, f.anchor, text)
        own = f"{f.anchor} {f.message} {' '.join(f.evidence)}"
        info = describe(next(r for r in all_rules() if r.ID == f.rule_id))
        borrowed = {lit for lit in _literals(f"{info.instead}\n{info.example}") if lit not in own and re.search(rf"\b{re.escape(lit)}\b", text)}
        allowed = {"app.current_tenant_id", "RESTRICT", "CASCADE", "gin", "UTC", "selectin", "raise"}  # option values, not names
        assert not borrowed - allowed, (f.rule_id, f.anchor, text, borrowed)


def test_the_issues_three_pasted_examples_now_name_the_finding(demo_findings) -> None:
    by_rule = {}
    for f in demo_findings:
        by_rule.setdefault(f.rule_id, []).append(advice(f.rule_id, f.anchor, f.message))
    (ten002,) = by_rule["TEN002"]
    assert "ALTER TABLE appointments FORCE ROW LEVEL SECURITY" in ten002 and "documents" not in ten002
    (mig002,) = by_rule["MIG002"]
    assert 'op.add_column("patients", sa.Column("phone", ...))' in mig002 and "legacy_flag" not in mig002 and "users" not in mig002
    (int006,) = by_rule["INT006"]
    assert 'server_default=text("now()")' in int006 and "gen_random_uuid" not in int006


def test_advice_without_a_name_to_read_says_what_to_do_without_guessing() -> None:
    assert advice("TEN004", "policy:visits:own_rows:tenant", "something else") == (
        "Add a comparison of the tenant column with `current_setting('app.current_tenant_id')` to policy `own_rows` on `visits`."
    )
    assert "`UniqueConstraint(" not in advice("INT004", "table:providers:npi-unique", "reworded message")
    assert advice("NOPE001", "table:x", "") == ""
