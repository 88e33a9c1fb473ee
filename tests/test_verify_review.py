"""Proofs in the saved review (no PostgreSQL needed): what `dbreview verify` records, how a later scan
and a later verify treat it, and how the reports show it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from analyzers.checklist import load_checklist
from analyzers.findings import Finding, Location, ScanResult, Severity, with_identity
from analyzers.verify.proofs import PROVEN, REFUTED, Merged, Proof
from tests.test_store import Clock, findings
from tui.reports import render
from tui.session import ReviewStore
from tui.session.state import Detection, VerificationState

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def leak(table: str) -> Finding:
    return Finding(
        rule_id="VER006", item_id="6.2", severity=Severity.CRITICAL, message=f"{table}: tenant B's rows are visible to tenant A",
        location=Location("migrations/versions/0001.py", 10, 10), anchor=f"verify:leak:{table}", evidence=("op.create_table(",),
    )


def run(commit: str, outcome: str = "upgrade head passes; 2 findings proven, 1 refuted") -> VerificationState:
    return VerificationState(AT, "alice", commit, "PostgreSQL 15.18", outcome, "## Proof on PostgreSQL\n\nit ran\n", json.dumps({"commit": commit}))


@pytest.fixture
def store(tmp_path):
    with ReviewStore.open(tmp_path / "reviews.sqlite3", clock=Clock()) as s:
        yield s


@pytest.fixture
def saved(store):
    info = store.start_review("/repo", "database", "alice", commit="c1")
    static = findings(3)
    store.apply_scan(info.id, ScanResult("/repo", static), "alice", commit="c1")
    return info, static


def verified(static: list[Finding], *tables: str) -> Merged:
    new = with_identity([leak(t) for t in tables])
    proofs = {f.fingerprint: Proof(PROVEN, f"{f.anchor}: A 1 · B 1") for f in new}
    proofs[static[0].fingerprint] = Proof(PROVEN, "RLS is off at head")
    proofs[static[1].fingerprint] = Proof(REFUTED, "RLS is enabled at head")
    return Merged(new, proofs)


def test_verify_records_its_findings_proofs_and_run(store, saved):
    info, static = saved
    store.apply_verify(info.id, verified(static, "notes"), run("c1"), "alice")
    snap = store.snapshot(info.id)
    assert {f.rule_id for f in snap.findings} == {f.rule_id for f in static} | {"VER006"}
    assert snap.proofs[static[0].fingerprint].status == PROVEN
    refuted = snap.proofs[static[1].fingerprint]
    assert refuted.status == REFUTED and refuted.label("c1") == "refuted"
    assert static[1].fingerprint in {f.fingerprint for f in snap.findings}  # a refuted finding stays
    assert snap.verification is not None and snap.verification.outcome.startswith("upgrade head passes")
    assert [e.kind for e in snap.events][-1] == "verify"


def test_after_the_code_moves_a_proof_shows_the_commit_it_ran_on(store, saved):
    info, static = saved
    store.apply_verify(info.id, verified(static), run("c1aaaaaaaaaaaa"), "alice")
    store.apply_scan(info.id, ScanResult("/repo", static), "alice", commit="c2")
    snap = store.snapshot(info.id)
    assert snap.proofs[static[0].fingerprint].label(snap.review.commit) == "proven at c1aaaaaa"


def test_a_static_scan_leaves_verify_findings_alone_and_a_new_verify_resolves_them(store, saved):
    info, static = saved
    store.apply_verify(info.id, verified(static, "notes", "calls"), run("c1"), "alice")
    store.apply_scan(info.id, ScanResult("/repo", static), "alice", commit="c1")
    snap = store.snapshot(info.id)
    assert {f.anchor: f.detection for f in snap.findings if f.rule_id == "VER006"} == {
        "verify:leak:notes": Detection.NEW, "verify:leak:calls": Detection.NEW,
    }
    store.apply_verify(info.id, verified(static, "notes"), run("c1"), "alice")
    snap = store.snapshot(info.id)
    detections = {f.anchor: f.detection for f in snap.findings if f.rule_id == "VER006"}
    assert detections == {"verify:leak:notes": Detection.UNCHANGED, "verify:leak:calls": Detection.ABSENT}


def test_reports_say_what_was_proven_on_which_postgres(store, saved):
    info, static = saved
    store.apply_verify(info.id, verified(static, "notes"), run("c1"), "alice")
    snap = store.snapshot(info.id)
    checklist = load_checklist("database")
    md = render("markdown", checklist, snap)
    assert "- **Proof on PostgreSQL:** upgrade head passes; 2 findings proven, 1 refuted (PostgreSQL 15.18, commit `c1`" in md
    assert "  - **Proven on PostgreSQL 15.18:** RLS is off at head" in md
    assert "  - **Refuted on PostgreSQL 15.18:** RLS is enabled at head" in md
    assert "## Proof on PostgreSQL\n\nit ran" in md
    sarif = json.loads(render("sarif", checklist, snap))["runs"][0]
    proofs = [r["properties"].get("proof") for r in sarif["results"]]
    assert {"status": "refuted", "evidence": "RLS is enabled at head", "commit": "c1", "postgres": "PostgreSQL 15.18"} in proofs
    assert sarif["properties"]["verification"]["outcome"].startswith("upgrade head passes")
    assert "VER006" in {rule["id"] for rule in sarif["tool"]["driver"]["rules"]}
    html = render("html", checklist, snap)
    assert "<dt>Proven on PostgreSQL 15.18</dt><dd>RLS is off at head</dd>" in html
    assert '<section id="proof-on-postgresql">' in html and "<b>Proof on PostgreSQL:</b> upgrade head passes" in html
    doc = json.loads(render("json", checklist, snap))
    assert doc["verification"]["result"] == {"commit": "c1"}
    assert sum(f["proof"] is not None for f in doc["findings"]) == 3


def test_exit_status_counts_open_findings_but_not_refuted_ones(store, saved):
    from tui.gate import Exit, exit_status
    from tui.proving import open_severities

    info, static = saved
    store.apply_verify(info.id, verified(static, "notes"), run("c1"), "alice")
    snap = store.snapshot(info.id)
    assert snap.proofs[static[1].fingerprint].status == REFUTED
    assert len(list(open_severities(snap))) == len(snap.findings) - 1
    assert len(list(open_severities(replace(snap, proofs={})))) == len(snap.findings)
    assert exit_status(open_severities(snap), fail_on="critical") == Exit.FINDINGS  # the proven leak
    assert exit_status(open_severities(snap), fail_on="never") == Exit.OK
