"""A review saved by an older dbreview reopens with every decision on the finding it was about (issue 7).

tests/fixtures/saved_review/review.sqlite3 was saved by dbreview 0.1.0 (make_review.py says how), before
findings were merged (one per fact instead of one per table), re-graded and re-scoped. Reopened and
re-scanned with today's analyzers, no decision may turn into "resolved" plus a new untriaged finding:
each lands on the finding that now stands for what it was about, flagged for a second look where the
finding changed. Only findings that are gone because they were wrong are resolved, their decisions kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from analyzers.engine import scan
from tui.session import ReviewStore
from tui.session.state import Detection, Disposition, Severity, Verdict

FIXTURE = Path(__file__).parent / "fixtures" / "saved_review"


def test_decisions_follow_findings_that_were_merged_regraded_and_rescoped(tmp_path):
    shutil.copy(FIXTURE / "review.sqlite3", tmp_path / "review.sqlite3")
    repo = shutil.copytree(FIXTURE / "repo", tmp_path / "repo")
    with ReviewStore.open(tmp_path / "review.sqlite3") as store:  # migrates the old schema, after a backup
        (summary,) = store.list_reviews()
        review = summary.review.id
        diff = store.apply_scan(review, scan(repo).result, "alice")
        snap = store.snapshot(review)

    by = {(f.rule_id, f.anchor): f for f in snap.findings}

    def state(rule: str, anchor: str):
        f = by[(rule, anchor)]
        return f.detection, f.disposition, f.dismiss_reason, f.severity

    # Three per-table findings, all confirmed, are now one finding for the design: still confirmed.
    merged = by[("TEN001", "tenancy:no-rls")]
    assert (merged.disposition, merged.needs_second_look) == (Disposition.CONFIRMED, True)
    # Three integer-key warnings dismissed in bulk: one convention finding (info), still dismissed.
    keys = by[("INT001", "keys:sequential-convention")]
    assert (keys.disposition, keys.dismiss_reason, keys.severity) == (Disposition.DISMISSED, "accepted risk", Severity.INFO)
    # One finding per variable, both dismissed: one for "no RLS policy reads a setting".
    assert state("CFG001", "rls-variables:none")[1:3] == (Disposition.DISMISSED, "won't fix")
    # Unchanged findings keep decision, downgrade and notes.
    assert state("PERF001", "table:tickets.project_id")[1] == Disposition.CONFIRMED
    assert [n.text for n in by[("PERF001", "table:tickets.project_id")].notes] == ["tickets are listed by project on every page"]
    assert state("PERF001", "table:comments.ticket_id")[1:] == (Disposition.DOWNGRADED, None, Severity.INFO)
    assert state("TZ001", "table:tickets.opened_at")[1] == Disposition.CONFIRMED
    # Gone (a revision titled as a backfill needs no downgrade): the dismissal stays with it.
    assert state("MIG001", "migration:0002:downgrade")[:3] == (Detection.ABSENT, Disposition.DISMISSED, "false positive")

    # Gone because it was wrong (an int in SET LOCAL statement_timeout is no injection): resolved, decision kept.
    assert state("CFG003", "listener:limit_statements:formatted")[:3] == (Detection.ABSENT, Disposition.DISMISSED, "false positive")
    decided_and_gone = [f for f in snap.findings if f.detection == Detection.ABSENT and f.disposition != Disposition.UNTRIAGED]
    assert sorted((f.rule_id, f.anchor) for f in decided_and_gone) == [
        ("CFG003", "listener:limit_statements:formatted"), ("MIG001", "migration:0002:downgrade")]
    new_and_untriaged = [f for f in snap.findings if f.detection == Detection.NEW and f.disposition == Disposition.UNTRIAGED]
    assert not [f for f in new_and_untriaged if f.rule_id in ("TEN001", "INT001", "CFG001")]
    assert diff.merged == 2 + 2 + 1  # TEN001 3 -> 1, INT001 3 -> 1, CFG001 2 -> 1

    assert snap.item("1.1").verdict == Verdict.PASS and snap.item("6.2").verdict == Verdict.FAIL
    assert snap.answer("q6.1").text == "Only through the repository layer's filters; no RLS."
    assert "10.1" in snap.not_applicable  # a ticketing service that now books patients, and bills nothing
