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
    __tablename__ = "patient_payments"
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


# -- SQL strings, whole files, and comments that suppress nothing ----------------------------------

MIGRATION = '''
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.execute("""
        ALTER TABLE visits ENABLE ROW LEVEL SECURITY;
        -- dbreview: ignore[TEN002] accepted risk: the app connects as a non-owner role
        ALTER TABLE notes
            ENABLE ROW LEVEL SECURITY;
        ALTER TABLE labs ENABLE ROW LEVEL SECURITY;  -- dbreview: ignore[TEN005] false positive: policies in 0002
    """)
    op.execute("CREATE INDEX ix ON labs (x)  -- dbreview: ignore[PERF001]")


def downgrade():
    pass
'''


def test_sql_comments_cover_the_statement_they_end_or_precede():
    found = [(sorted(s.rules), s.start, s.end, s.reason) for s in suppressions(MIGRATION)]
    assert found == [
        (["TEN002"], 12, 13, "accepted risk: the app connects as a non-owner role"),
        (["TEN005"], 14, 14, "false positive: policies in 0002"),
        (["PERF001"], 16, 16, ""),
    ]


def test_a_file_level_comment_covers_the_file_and_unused_ones_are_reported(tmp_path):
    models = MODELS.replace(
        "Base = declarative_base()",
        "Base = declarative_base()\n# dbreview: ignore-file[TZ001] accepted risk: times are UTC by contract",
    )
    (tmp_path / "models.py").write_text(models + "\n\nNOTHING = 1  # dbreview: ignore[PERF001, NOPE042] stale\n", encoding="utf-8")
    (tmp_path / "other.py").write_text("import sqlalchemy\n# dbreview: ignore-file\n", encoding="utf-8")
    result = scan(tmp_path).result
    tz = next(f for f in result.findings if f.rule_id == "TZ001")
    assert tz.suppressed == "accepted risk: times are UTC by contract"
    unused = sorted((f.location.path, f.location.start_line, f.item_id, f.message) for f in result.findings if f.rule_id == "SUP001")
    assert unused == [
        ("models.py", 19, "", "`dbreview: ignore[NOPE042]` names NOPE042, which is no rule of dbreview: correct it or remove it"),
        ("models.py", 19, "8.1", "`dbreview: ignore[PERF001]` suppresses nothing: no PERF001 finding on the lines it covers; remove it"),
        ("other.py", 2, "", "`dbreview: ignore-file` covers no finding: remove it"),
    ]
    assert all(f.severity == "info" and f.evidence for f in result.findings if f.rule_id == "SUP001")
    assert not any(f.rule_id == "SUP001" and "TZ001" in f.message for f in result.findings), "it suppressed something"


def test_unused_suppressions_follow_the_settings(tmp_path):
    (tmp_path / "models.py").write_text("import sqlalchemy\nX = 1  # dbreview: ignore[PERF001] stale\n", encoding="utf-8")
    assert [f.rule_id for f in scan(tmp_path).result.findings] == ["SUP001"]
    (tmp_path / ".dbreview.toml").write_text('disable = ["PERF001"]\n', encoding="utf-8")
    assert scan(tmp_path).result.findings == [], "the rule is off: its comment is not to blame"
    (tmp_path / ".dbreview.toml").write_text('disable = ["SUP001"]\n', encoding="utf-8")
    assert scan(tmp_path).result.findings == []


async def test_the_app_shows_findings_under_no_item_and_triages_them(tmp_path, data_dir):
    from tui.app import ReviewApp
    from tui.widgets.checklist_tree import ChecklistTree

    (tmp_path / "models.py").write_text("import sqlalchemy\nX = 1  # dbreview: ignore stale\n", encoding="utf-8")
    app = ReviewApp(tmp_path, data_dir, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.query_one(ChecklistTree)
        (unused,) = [f for f in app.review.findings.values() if f.rule_id == "SUP001"]
        assert "others:others" in tree.by_id and tree.select_id(f"finding:{unused.fingerprint}")
        await pilot.pause()
        await pilot.press("p")  # an item verdict: there is no item, and nothing breaks
        await pilot.press("c")
        await pilot.pause()
        assert app.review.findings[unused.fingerprint].disposition == Disposition.CONFIRMED
