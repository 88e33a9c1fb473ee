"""`# dbreview: ignore[RULE] reason`: a decision written beside the code, honoured by scans, saved
reviews and every report, and never overriding a reviewer's own decision."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from analyzers.checklist import load_checklist
from analyzers.engine import scan
from analyzers.suppressions import suppressions
from tui.paths import session_db
from tui.reports import render
from tui.review import Review
from tui.session import ReviewStore
from tui.session.state import IN_SOURCE, Disposition, snapshot_from_scan

MODELS = '''
from sqlalchemy import Column, DateTime, Float, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Payment(Base):  # dbreview: ignore[INT001] accepted risk: ids never leave the service
    __tablename__ = "payments"
    id = Column(Integer, primary_key=True)
    # dbreview: ignore[BIL001] false positive: this is a ratio, not money
    amount = Column(
        Float,
    )
    paid_at = Column(DateTime)
'''


def test_comments_cover_their_statement_and_name_their_rules():
    found = suppressions(MODELS)
    assert [(sorted(s.rules), s.start, s.end) for s in found] == [(["INT001"], 8, 15), (["BIL001"], 12, 14)]
    assert found[1].reason == "false positive: this is a ratio, not money"
    assert suppressions("x = 1  # dbreview: ignore\n")[0].rules == frozenset()
    assert suppressions("def broken(:\n  # dbreview: ignore\n") == []


def test_a_scan_reports_suppressed_findings_as_dismissed_in_every_format(tmp_path):
    (tmp_path / "models.py").write_text(MODELS, encoding="utf-8")
    result = scan(tmp_path).result
    by_rule = {f.rule_id: f for f in result.findings}
    assert by_rule["BIL001"].suppressed.startswith("false positive")
    assert by_rule["INT001"].suppressed.startswith("accepted risk")
    assert by_rule["TZ001"].suppressed is None, "a comment covers only the rules it names"

    snap = snapshot_from_scan(result, "database", datetime(2026, 1, 1, tzinfo=timezone.utc))
    money = next(f for f in snap.findings if f.rule_id == "BIL001")
    assert (money.disposition, money.dismiss_reason) == (Disposition.DISMISSED, "false positive")
    checklist = load_checklist("database")
    sarif = json.loads(render("sarif", checklist, snap))
    (result_,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "BIL001"]
    assert result_["suppressions"][0]["kind"] == "inSource"
    assert "ratio" in result_["suppressions"][0]["justification"]
    assert "dismissed as false positive by a source comment: this is a ratio" in render("markdown", checklist, snap)


def test_a_saved_review_records_the_comment_and_keeps_reviewer_decisions(tmp_path, data_dir):
    (tmp_path / "models.py").write_text(MODELS.replace("  # dbreview: ignore[INT001] accepted risk: ids never leave the service", ""), encoding="utf-8")
    store = ReviewStore.open(session_db(data_dir))
    review = Review.open(store, tmp_path, "alice", load_checklist("database"))
    review.apply_scan(scan(tmp_path).result)
    review.reload()
    key = next(f.fingerprint for f in review.findings.values() if f.rule_id == "INT001")
    review.confirm(key)  # alice's own call

    (tmp_path / "models.py").write_text(MODELS, encoding="utf-8")  # later someone adds comments
    review.apply_scan(scan(tmp_path).result)
    review.reload()
    money = next(f for f in review.findings.values() if f.rule_id == "BIL001")
    assert money.disposition == Disposition.DISMISSED
    assert [e.reviewer for e in review.history(money.fingerprint) if e.kind == "disposition"] == [IN_SOURCE]
    assert review.findings[key].disposition == Disposition.CONFIRMED, "a comment never overrides a reviewer"
    store.close()
