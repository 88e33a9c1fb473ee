"""Reports: the Markdown of the seed's Output Format, SARIF 2.1.0 and the JSON session dump, made from
a hand-built review of the real database checklist, plus `printable` against hostile source."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import fields, replace
from datetime import datetime, timedelta, timezone

import pytest

import analyzers.rules
from analyzers.checklist import load_checklist
from analyzers.findings import ScanError, ScanResult, Severity
from analyzers.rules.base import Rule
from tui.reports import FORMATS, render, render_json, render_markdown, render_sarif
from tui.reports.mdtext import block, code_block, code_span, inline
from tui.reports.sanitize import printable
from tui.session.state import (
    AnswerState,
    Detection,
    Disposition,
    Event,
    FindingState,
    ItemState,
    Note,
    ReviewInfo,
    ReviewSnapshot,
    Verdict,
    snapshot_from_scan,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = "op.execute('\x1b[2J\x1b]52;c;ZXZpbA==\x07 \x9b31m red \u202e')"


# -- rules the review's findings come from ---------------------------------------------------------


class RlsVariableFString(Rule):
    """RLS session variable set from an f-string

    What it checks:
        `SET app.current_tenant_id` built with string formatting.
    Why it matters:
        A crafted tenant id can switch tenants.
    Example:
        conn.execute(f"SET app.current_tenant_id = '{tenant}'")
    Instead:
        Call set_config() with bound parameters.
    """

    ID, ITEM, SEVERITY = "TST103", "1.3", Severity.CRITICAL


class HardDelete(Rule):
    """Clinical rows deleted outright

    What it checks:
        DELETE on a clinical table.
    Why it matters:
        HIPAA requires clinical data to be kept.
    Instead:
        Set deleted_at.
    """

    ID, ITEM, SEVERITY = "TST401", "4.1", Severity.CRITICAL


class RlsNotEnabled(Rule):
    """Tenant table without RLS

    Why it matters:
        Any tenant reads every tenant's rows.
    """

    ID, ITEM, SEVERITY = "TST602", "6.2", Severity.WARNING


class NaiveDateTime(Rule):
    """Naive DateTime column

    Why it matters:
        Times shift with the server's zone.
    """

    ID, ITEM, SEVERITY = "TST901", "9.1", Severity.WARNING


class UnindexedForeignKey(Rule):
    """Foreign key without an index

    Why it matters:
        Joins and cascades scan the whole table.
    Instead:
        CREATE INDEX CONCURRENTLY on the column.
    """

    ID, ITEM, SEVERITY = "TST801", "8.1", Severity.INFO


RULES = [UnindexedForeignKey, HardDelete, RlsVariableFString, NaiveDateTime, RlsNotEnabled]


@pytest.fixture
def rules(monkeypatch):
    monkeypatch.setattr(analyzers.rules, "all_rules", lambda: list(RULES), raising=False)
    monkeypatch.setattr(analyzers.rules, "proof_rules", lambda: (), raising=False)


@pytest.fixture(scope="module")
def checklist():
    return load_checklist("database")


# -- the review -----------------------------------------------------------------------------------


def finding(id: int, rule: str, item: str, severity: Severity, path: str, lines: tuple[int, int], evidence, **kw):
    return FindingState(
        id=id,
        fingerprint=f"fp{id:02d}",
        rule_id=rule,
        item_id=item,
        severity=kw.pop("current", severity),
        original_severity=severity,
        message=kw.pop("message", f"finding {id}"),
        path=path,
        start_line=lines[0],
        end_line=lines[1],
        anchor=f"anchor:{id}",
        evidence=tuple(evidence),
        code_hash=f"hash{id:02d}",
        **kw,
    )


CONFIRMED = finding(
    1, "TST103", "1.3", Severity.CRITICAL, "apps/backend/src/database.py", (42, 43),
    ['    conn.execute(f"SET app.current_tenant_id = \'{tenant}\'")  # ```', "    return conn"],
    message="Tenant id formatted into SET",
    disposition=Disposition.CONFIRMED,
    detection=Detection.UNCHANGED,
    notes=(Note("alice", T0 + timedelta(hours=1), "Seen in prod.\n# not a heading\n<!-- hide the rest\n```sql\nSELECT 1;"),),
)  # fmt: skip
DOWNGRADED = finding(
    2, "TST401", "4.1", Severity.CRITICAL, "apps/backend/src/schemas/patients.py", (10, 10),
    ["session.delete(patient)"], message="Patient hard-deleted", current=Severity.WARNING,
    disposition=Disposition.DOWNGRADED,
)  # fmt: skip
DISMISSED = finding(
    3, "TST602", "6.2", Severity.WARNING, "migrations/versions/0003_rls.py", (5, 5), ["op.create_table('visits')"],
    message="visits has no RLS", disposition=Disposition.DISMISSED, dismiss_reason="false positive",
)  # fmt: skip
ABSENT = finding(
    4, "TST901", "9.1", Severity.WARNING, "apps/backend/src/schemas/appointments.py", (7, 7), ["at = Column(DateTime)"],
    message="appointments.at is naive", detection=Detection.ABSENT,
)  # fmt: skip
HOSTILE_FINDING = finding(
    5, "TST801", "8.1", Severity.INFO, "migrations/versions/0004 index.sql", (3, 4), [HOSTILE, "\x1b[0m"],
    message="index missing \x1b[31mred\x1b[0m", detection=Detection.UPDATED, needs_second_look=True,
)  # fmt: skip
OLD_RULE = finding(
    6, "OLD999", "5.4", Severity.WARNING, "apps/backend/src/schemas/care.py", (0, 0), [],
    message="rule gone", detection=Detection.REGRESSED,
)  # fmt: skip
FINDINGS = (CONFIRMED, DOWNGRADED, DISMISSED, ABSENT, HOSTILE_FINDING, OLD_RULE)
CONFIRMED_INFO = replace(HOSTILE_FINDING, disposition=Disposition.CONFIRMED)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


EVENTS = (
    Event(1, at(0), "system", "scan", "/work/repos/acme-backend", None, "6 new"),
    Event(2, at(5), "alice", "disposition", "fp01", "untriaged", "confirmed"),
    Event(3, at(6), "bob", "severity", "fp02", "critical", "warning", "only reachable from tests"),
    Event(4, at(6), "bob", "disposition", "fp02", "untriaged", "downgraded", "only reachable from tests"),
    Event(5, at(7), "carol", "disposition", "fp03", "untriaged", "dismissed", "false positive: policy lives in 0005"),
    Event(6, at(8), "alice", "verdict", "1.3", "unreviewed", "fail", "f-string SET"),
    Event(7, at(9), "alice", "answer", "q1.1", "", "Only per connection, not per transaction.\x07"),
)


def review() -> ReviewSnapshot:
    items = {
        "1.3": ItemState("1.3", Verdict.FAIL, "Uses an f-string.\n# not a heading either", "alice", at(8)),
        "4.5": ItemState("4.5", Verdict.WARNING, "30 min timeout, no idle timeout", "bob", at(10)),
        "5.1": ItemState("5.1", Verdict.PASS, "ULIDs everywhere", "bob", at(11)),
        "2.mixins.1": ItemState("2.mixins.1", Verdict.PASS, "", "bob", at(11)),
        "9.1": ItemState("9.1", Verdict.PASS, "All DateTime(timezone=True)", "carol", at(12)),
        "9.2": ItemState("9.2", Verdict.PASS, "", "carol", at(12)),
        "10.1": ItemState("10.1", Verdict.NA, "no patient billing yet", "carol", at(13)),
    }
    answers = {
        "q1.1": AnswerState("q1.1", "Only per connection, not per transaction.\x07", "drafted one", "alice", at(9)),
        "q1.2": AnswerState("q1.2", "", "Pool has pool_pre_ping and DISCARD ALL on checkin."),
    }
    info = ReviewInfo(7, "/work/repos/acme-backend", "database", T0, at(60 * 26), "0123abc", ("alice", "bob", "carol"))
    errors = (ScanError("apps/backend/src/broken.py", "invalid syntax \x1b[1m", 3), ScanError("alembic.ini", "unreadable"))
    return ReviewSnapshot(info, FINDINGS, items, answers, EVENTS, errors)


@pytest.fixture
def snapshot() -> ReviewSnapshot:
    return review()


@pytest.fixture
def outputs(rules, checklist, snapshot) -> dict[str, str]:
    return {fmt: render(fmt, checklist, snapshot) for fmt in FORMATS}


def between(text: str, start: str, end: str) -> str:
    """The part of text from the line `start` to the line `end`."""
    lines = text.split("\n")
    i = lines.index(start)
    j = lines.index(end, i + 1) if end else len(lines)
    return "\n".join(lines[i:j])


def section(md: str, number: int) -> str:
    """The part of the Markdown report under "### Section <number>: ...", up to the next heading."""
    start = md.index(f"\n### Section {number}: ")
    end = re.search(r"\n##", md[start + 1 :])
    return md[start + 1 : start + 1 + end.start()] if end else md[start + 1 :]


# -- printable ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("\x1b[2J", "␛[2J"),  # clear screen
        ("\x1b]52;c;ZXZpbA==\x07", "␛]52;c;ZXZpbA==␇"),  # OSC 52: write the clipboard
        ("ding\x07", "ding␇"),
        ("\x9b31m", "<U+009B>31m"),  # one-byte CSI
        ("\x00\x7f\x85", "␀␡<U+0085>"),
        ("a\u202eb\u2066c", "a<U+202E>b<U+2066>c"),  # Trojan Source
        ("a\r\nb\rc", "a\nb␍c"),
        ("\tcol = Column(Text)  # naïve ✅\n", "\tcol = Column(Text)  # naïve ✅\n"),
    ],
)
def test_printable_shows_control_characters(raw, shown):
    assert printable(raw) == shown
    assert not RAW_CONTROL.search(printable(raw))


def test_markdown_pieces_cannot_break_the_structure():
    note = "fine\n# heading\n===\n<!-- comment\n&#x1b;[2J and `<b>` kept\n```python\nx = 1"
    lines = block(note, "  ")
    assert lines[:4] == ["  fine", "  \\# heading", "  \\===", "  \\<!-- comment"]
    assert lines[4] == "  \\&#x1b;[2J and `<b>` kept"
    assert lines[-1] == "  ```"  # the fence the note left open is closed
    assert inline("a\nb <i>") == "a b \\<i>"
    assert code_span("x `y` z") == "``x `y` z``"
    assert code_block(["s = '````'"], "python")[0] == "`````python"


# -- Markdown -------------------------------------------------------------------------------------


def test_markdown_follows_the_output_format(outputs, checklist):
    md = outputs["markdown"]
    headings = [line for line in md.split("\n") if line.startswith("#")]
    assert headings == [
        "# Database Code Review: acme-backend",
        "## Executive Summary",
        "## Detailed Findings",
        *(f"### Section {s.number}: {s.title}" for s in checklist.sections),
        "## Compliance Assessment",
        "## Recommendations",
        "## Positive Observations",
        "## Scan Errors",
    ]
    assert [s.number for s in checklist.sections] == list(range(1, 11))
    assert "- **Commit:** `0123abc`" in md
    assert "- **Reviewers:** alice, bob, carol" in md
    assert "- **Date:** 2025-03-02 (review started 2025-03-01)" in md
    for number in range(1, 11):
        part = section(md, number)
        labels = ["**Status:**", "**Checklist Results:**", "**Key Question Answers:**", "**Issues Found:**", "**Critical**", "**Warning**", "**Info**"]
        positions = [part.find(label) for label in labels]
        assert -1 not in positions and positions == sorted(positions), number
    recommendations = between(md, "## Recommendations", "## Positive Observations")
    groups = ["1. **Critical (Must Fix):**", "2. **High Priority (Should Fix):**", "3. **Medium Priority (Nice to Have):**", "4. **Performance Optimizations:**"]
    assert [line for line in recommendations.split("\n") if re.match(r"\d\. ", line)] == groups
    compliance = between(md, "## Compliance Assessment", "## Recommendations")
    assert [line for line in compliance.split("\n") if line.endswith(":**")] == [
        "**HIPAA Compliance:**",
        "**Data Integrity:**",
        "**Multi-Tenancy:**",
    ]


def test_markdown_summary_counts_decided_issues_and_untriaged_findings_apart(outputs, checklist):
    summary = between(outputs["markdown"], "## Executive Summary", "## Detailed Findings")
    left = len(checklist.items) - 7
    assert f"- **Overall assessment:** ❌ Fail (not final: {left} of {len(checklist.items)} checklist items without a verdict, 2 findings untriaged)" in summary
    assert "- **Critical issues:** 1\n" in summary  # the confirmed one; the downgraded one is a warning now
    assert "- **Warning issues:** 1\n" in summary  # the downgraded one; dismissed and absent are not issues
    assert "- **Info:** 0\n" in summary  # the info finding is untriaged: not an issue the review found
    assert "- **Untriaged findings:** 2 (1 warning, 1 info): reported by the analyzers, not yet looked at" in summary
    assert "- **Checklist items reviewed:** 7 of 97 (4 pass, 1 n/a, 1 warning, 1 fail)" in summary
    assert "- **Dismissed findings:** 1" in summary
    assert "- **Resolved since the review began:** 1" in summary
    assert "  - Section 9: Timezone Handling (FR-07): every reviewed item passes, no issue open" in summary
    assert "Section 5: Data Integrity" not in summary, "an untriaged warning is open there: no strength to claim"
    assert "  - 4 checklist items marked pass (see Positive Observations)" in summary
    assert "Section 10" not in summary  # passes, but only with an n/a item: no strength


@pytest.mark.parametrize(
    "change, expected",
    [
        ({}, "❌ Fail"),
        ({"findings": (DOWNGRADED, HOSTILE_FINDING), "items": {}}, "⚠️ Pass with Warnings"),
        ({"findings": (HOSTILE_FINDING, DISMISSED, ABSENT), "items": {"4.5": ItemState("4.5", Verdict.WARNING)}}, "⚠️ Pass with Warnings"),
        ({"findings": (CONFIRMED_INFO, DISMISSED, ABSENT), "items": {}}, "✅ Pass"),
        ({"findings": (HOSTILE_FINDING, replace(CONFIRMED, disposition=Disposition.UNTRIAGED)), "items": {}}, "Not assessed yet"),
        ({"findings": (), "items": {"1.1": ItemState("1.1", Verdict.FAIL)}}, "❌ Fail"),
    ],
)
def test_overall_assessment(rules, checklist, snapshot, change, expected):
    md = render_markdown(checklist, replace(snapshot, **change))
    assert f"- **Overall assessment:** {expected}" in md


def test_markdown_section_statuses(outputs):
    md = outputs["markdown"]
    status = {n: section(md, n).split("**Status:** ", 1)[1].split("\n")[0] for n in range(1, 11)}
    assert status[1] == "❌ Fail (1 of 6 items reviewed)"
    assert status[2] == "✅ Pass (1 of 43 items reviewed)"
    assert status[4].startswith("⚠️ Pass with Warnings")  # a downgraded finding and a warning verdict
    assert status[5] == "✅ Pass (1 of 7 items reviewed; 1 finding untriaged)"  # an untriaged warning judges nothing
    assert status[6] == "Not reviewed"  # its one finding is dismissed
    assert status[8] == "Not reviewed (1 finding untriaged)"
    assert status[9] == "✅ Pass (2 of 5 items reviewed)"
    assert status[10] == "✅ Pass (1 of 5 items reviewed)"  # n/a counts as reviewed
    assert status[3] == "Not reviewed"


def test_markdown_issue_carries_location_impact_recommendation_and_code(outputs):
    part = section(outputs["markdown"], 1)
    critical = between(part, "**Critical**", "**Warning**")
    assert "- Tenant id formatted into SET" in critical
    assert "  - **Location:** `apps/backend/src/database.py:42-43` (rule `TST103`, item 1.3)" in critical
    assert "  - **Impact:** A crafted tenant id can switch tenants." in critical
    assert "  - **Recommendation:** See `dbreview rules TST103`." in critical  # no advice known for a test rule
    assert "  - **Triage:** confirmed by alice" in critical
    # the evidence has a run of three backticks: the fence is longer
    assert "    ````python\n" + '        conn.execute(f"SET app.current_tenant_id = \'{tenant}\'")  # ```\n' in critical
    assert "        return conn\n    ````" in critical
    # reviewer notes stay inside the issue: no heading, no HTML comment, the open fence closed
    assert "      \\# not a heading" in critical and "      \\<!-- hide the rest" in critical
    assert "      ```sql\n      SELECT 1;\n      ```" in critical
    results = between(part, "**Checklist Results:**", "**Key Question Answers:**")
    assert "- ❌ **1.3** Session variables set correctly" in results and ": fail (alice)" in results
    assert "  - Decided issues open: 1 critical" in results
    assert "    \\# not a heading either" in results


def test_markdown_downgraded_shows_both_severities(outputs):
    part = section(outputs["markdown"], 4)
    warning = between(part, "**Warning**", "**Info**")
    assert "- Patient hard-deleted" in warning
    assert "  - **Severity:** warning, downgraded from critical by bob: only reachable from tests" in warning
    assert "`apps/backend/src/schemas/patients.py:10`" in warning
    assert "Patient hard-deleted" not in between(part, "**Critical**", "**Warning**")


def test_markdown_dismissed_and_resolved_are_not_issues(outputs):
    md = outputs["markdown"]
    part = section(md, 6)
    issues = between(part, "**Issues Found:**", "**Dismissed**")
    assert "visits has no RLS" not in issues
    assert issues.count("- None.") == 3
    dismissed = between(part, "**Dismissed**", "")
    assert (
        "- `migrations/versions/0003_rls.py:5`: visits has no RLS (`TST602`): "
        "dismissed as false positive by carol: policy lives in 0005"
    ) in dismissed
    section9 = section(md, 9)
    assert "appointments.at is naive" not in between(section9, "**Issues Found:**", "**Resolved since the review began**")
    resolved = between(section9, "**Resolved since the review began**", "")
    assert "- `apps/backend/src/schemas/appointments.py:7`: appointments.at is naive (`TST901`, was warning, untriaged)" in resolved
    recommendations = between(md, "## Recommendations", "## Positive Observations")
    assert "visits has no RLS" not in recommendations and "appointments.at is naive" not in recommendations


def test_markdown_answers_compliance_recommendations_and_strengths(outputs):
    md = outputs["markdown"]
    section1 = section(md, 1)
    answers = between(section1, "**Key Question Answers:**", "**Issues Found:**")
    assert "- **Are RLS session variables being set on every database connection?**\n\n  Only per connection, not per transaction.␇\n  — alice" in answers
    assert "drafted one" not in answers  # the reviewer's answer wins over the draft
    assert "  *(drafted, not yet confirmed)*\n\n  Pool has pool_pre_ping and DISCARD ALL on checkin." in answers
    assert answers.count("  Unanswered.") == 1
    assert "- No questions for this section." in section(md, 2)

    compliance = between(md, "## Compliance Assessment", "## Recommendations")
    assert "- Data segregation (RLS): ❌ (items 4.3, 1.2, 1.3, 1.4, 3.7, 6.2)" in compliance
    assert "- Soft deletes: ⚠️ (items 4.1, 2.mixins.3, 5.3)" in compliance  # the downgraded finding on 4.1
    assert "- Primary keys (ULID): ✅ (items 5.1, 2.mixins.1)" in compliance
    assert "- Cross-org access: Not reviewed (items" in compliance

    recommendations = between(md, "## Recommendations", "## Positive Observations")
    must = between(recommendations, "1. **Critical (Must Fix):**", "2. **High Priority (Should Fix):**")
    assert "   - `apps/backend/src/database.py:42-43`: Tenant id formatted into SET (`TST103`). Recommendation: See `dbreview rules TST103`." in must
    assert "   - Checklist item **1.3** (Session variables set correctly" in must
    should = between(recommendations, "2. **High Priority (Should Fix):**", "3. **Medium Priority (Nice to Have):**")
    assert "`apps/backend/src/schemas/patients.py:10`" in should and "`apps/backend/src/schemas/care.py:0`" not in should
    assert "marked warning (bob): 30 min timeout, no idle timeout" in should
    medium = between(recommendations, "3. **Medium Priority (Nice to Have):**", "4. **Performance Optimizations:**")
    performance = between(recommendations, "4. **Performance Optimizations:**", "**Awaiting triage** (what the analyzers advise for the findings no reviewer has decided on yet):")
    for part in (medium, performance):
        assert "   - None." in part, "the info finding is untriaged: not a recommendation of the review"
    waiting = between(recommendations, "**Awaiting triage** (what the analyzers advise for the findings no reviewer has decided on yet):", "")
    assert "- Warning:\n  - `apps/backend/src/schemas/care.py:0`: rule gone (`OLD999`). Recommendation: None: this version of dbreview no longer has rule OLD999." in waiting
    assert "- Info:\n  - `migrations/versions/0004 index.sql:3-4`: index missing ␛[31mred␛[0m (`TST801`)" in waiting

    positive = between(md, "## Positive Observations", "## Scan Errors")
    assert "- **Section 9: Timezone Handling (FR-07)**: every reviewed item passes and no issue is open." in positive
    assert "- ✅ **2.mixins.1** " in positive and "- ✅ **5.1** " in positive and "- ✅ **9.2** " in positive
    assert "- ✅ **9.1** All datetime fields use timezone-aware types (`DateTime(timezone=True)`) (carol)\n\n  All DateTime(timezone=True)" in positive
    assert "**10.1**" not in positive  # n/a is not a strength
    errors = between(md, "## Scan Errors", "")
    assert "- `alembic.ini: unreadable`" in errors
    assert "- `apps/backend/src/broken.py:3: invalid syntax ␛[1m`" in errors


def test_markdown_shows_hostile_code_as_text(outputs):
    md = outputs["markdown"]
    section8 = section(md, 8)
    assert "    ```sql\n    " + printable(HOSTILE) + "\n    ␛[0m\n    ```" in section8
    assert "  - **Triage:** untriaged; moved or edited since the last scan; the decision wants a second look" in section8


# -- SARIF ----------------------------------------------------------------------------------------

LEVELS = {"none", "note", "warning", "error"}
BASELINE_STATES = {"new", "unchanged", "updated", "absent"}


def check_sarif(doc: dict) -> None:
    """The parts of the SARIF 2.1.0 schema that code-scanning tools insist on."""
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-schema-2.1.0.json")
    assert isinstance(doc["runs"], list) and len(doc["runs"]) == 1
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dbreview" and isinstance(driver["version"], str)
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == sorted(set(ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"].strip()
        assert rule["defaultConfiguration"]["level"] in LEVELS
        assert all(isinstance(tag, str) for tag in rule["properties"]["tags"])
        for key in ("fullDescription", "help"):
            if key in rule:
                assert isinstance(rule[key]["text"], str)
    base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in LEVELS and result["message"]["text"]
        assert result["baselineState"] in BASELINE_STATES
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "SRCROOT"
        assert not physical["artifactLocation"]["uri"].startswith("/") and " " not in physical["artifactLocation"]["uri"]
        region = physical["region"]
        assert isinstance(region["startLine"], int) and 1 <= region["startLine"] <= region["endLine"]
        assert set(result["partialFingerprints"]) == {"dbreview/v1", "dbreview/codeHash"}
        for suppression in result["suppressions"]:
            assert suppression["kind"] in {"inSource", "external"}
            assert suppression["status"] in {"accepted", "underReview", "rejected"}
    (invocation,) = run["invocations"]
    assert isinstance(invocation["executionSuccessful"], bool)
    for notification in invocation["toolExecutionNotifications"]:
        assert notification["level"] in LEVELS and notification["message"]["text"]


def test_sarif(outputs):
    doc = json.loads(outputs["sarif"])
    check_sarif(doc)
    run = doc["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///work/repos/acme-backend/"
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"OLD999", "SUP001", "TST103", "TST401", "TST602", "TST801", "TST901"}
    tst103 = rules["TST103"]
    assert tst103["name"] == "RlsVariableFString"
    assert tst103["shortDescription"]["text"] == "RLS session variable set from an f-string"
    assert tst103["fullDescription"]["text"] == "`SET app.current_tenant_id` built with string formatting."
    assert "Why it matters: A crafted tenant id can switch tenants." in tst103["help"]["text"]
    assert "```python\nconn.execute(" in tst103["help"]["markdown"]
    assert tst103["defaultConfiguration"]["level"] == "error"
    assert tst103["properties"]["tags"] == ["1.3", "Database Configuration"]
    assert rules["TST801"]["defaultConfiguration"]["level"] == "note"

    results = {r["partialFingerprints"]["dbreview/v1"]: r for r in run["results"]}
    assert len(results) == len(FINDINGS)
    confirmed = results["fp01"]
    assert confirmed["level"] == "error" and confirmed["baselineState"] == "unchanged" and confirmed["suppressions"] == []
    region = confirmed["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["endLine"]) == (42, 43)
    assert region["snippet"]["text"].endswith("\n    return conn")
    assert confirmed["partialFingerprints"]["dbreview/codeHash"] == "hash01"
    assert confirmed["properties"]["notes"][0]["reviewer"] == "alice"

    downgraded = results["fp02"]
    assert downgraded["level"] == "warning"
    assert downgraded["properties"]["originalSeverity"] == "critical" and downgraded["properties"]["disposition"] == "downgraded"
    dismissed = results["fp03"]
    assert dismissed["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "false positive: policy lives in 0005",
            "properties": {"reviewer": "carol", "at": at(7).isoformat()},
        }
    ]
    assert results["fp04"]["baselineState"] == "absent"
    assert results["fp05"]["baselineState"] == "updated"
    assert results["fp06"]["baselineState"] == "new"  # regressed
    assert results["fp06"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 1  # line 0 clamped
    hostile = results["fp05"]
    assert hostile["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "migrations/versions/0004%20index.sql"
    assert hostile["message"]["text"] == "index missing ␛[31mred␛[0m"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == ["unreadable", "invalid syntax ␛[1m"]
    assert notes[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}


def test_sarif_lists_every_rule_of_the_analyzers(checklist, snapshot):
    """With the real rule catalogue: each rule described, each result resolvable (the findings' test
    rules are unknown to it and get bare descriptors)."""
    doc = json.loads(render_sarif(checklist, snapshot))
    check_sarif(doc)
    described = {rule["id"] for rule in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {rule.ID for rule in analyzers.rules.all_rules()} <= described


# -- JSON -----------------------------------------------------------------------------------------


def test_json_carries_the_whole_session(outputs, checklist, snapshot):
    doc = json.loads(outputs["json"])
    assert list(doc) == ["format", "format_version", "tool", "review", "summary", "findings", "items", "answers", "events", "scan_errors", "verification"]
    assert doc["review"]["repo_path"] == "/work/repos/acme-backend"
    assert datetime.fromisoformat(doc["review"]["updated_at"]) == snapshot.review.updated_at
    assert doc["format_version"] == 2
    assert doc["summary"] == {
        "assessment": "fail", "final": False, "critical": 1, "warning": 1, "info": 0,
        "untriaged": {"critical": 0, "warning": 1, "info": 1}, "dismissed": 1, "resolved": 1,
        "items_reviewed": 7, "items_total": len(checklist.items),
    }  # fmt: skip
    by_fp = {f["fingerprint"]: f for f in doc["findings"]}
    assert set(by_fp) == {f.fingerprint for f in FINDINGS}
    for name in (f.name for f in fields(FindingState)):
        assert name in by_fp["fp01"], name
    assert by_fp["fp02"]["severity"] == "warning" and by_fp["fp02"]["original_severity"] == "critical"
    assert by_fp["fp03"]["dismiss_reason"] == "false positive" and by_fp["fp03"]["is_open"] is False
    assert by_fp["fp05"]["evidence"] == [HOSTILE, "\x1b[0m"]  # stored as found; escaped in the text
    assert by_fp["fp01"]["notes"][0] == {"reviewer": "alice", "at": at(60).isoformat(), "text": CONFIRMED.notes[0].text}
    assert by_fp["fp01"]["location"] == "apps/backend/src/database.py:42-43"

    assert [i["item_id"] for i in doc["items"]] == [i.id for i in checklist.items]
    items = {i["item_id"]: i for i in doc["items"]}
    assert items["1.3"]["verdict"] == "fail" and items["1.3"]["reviewer"] == "alice"
    assert items["1.1"]["verdict"] == "unreviewed" and items["1.1"]["at"] is None
    assert items["4.1"]["status"] == "warning"  # from the downgraded finding
    answers = {a["question_id"]: a for a in doc["answers"]}
    assert len(answers) == len(checklist.questions)
    assert answers["q1.2"] == {
        "question_id": "q1.2",
        "section_id": "1",
        "question": checklist.question("q1.2").text,
        "text": "",
        "drafted": "Pool has pool_pre_ping and DISCARD ALL on checkin.",
        "reviewer": None,
        "at": None,
    }
    assert [e["id"] for e in doc["events"]] == [e.id for e in EVENTS]
    assert doc["events"][2] == {
        "id": 3, "at": at(6).isoformat(), "reviewer": "bob", "kind": "severity", "target": "fp02",
        "old": "critical", "new": "warning", "note": "only reachable from tests",
    }  # fmt: skip
    assert doc["scan_errors"][1] == {"path": "apps/backend/src/broken.py", "message": "invalid syntax \x1b[1m", "line": 3}


# -- every format ---------------------------------------------------------------------------------


def test_no_raw_control_character_in_any_output(outputs):
    for fmt, text in outputs.items():
        assert not RAW_CONTROL.search(text), fmt


def test_outputs_are_deterministic(rules, checklist, snapshot, outputs):
    shuffled = replace(
        snapshot,
        findings=tuple(reversed(snapshot.findings)),
        events=tuple(reversed(snapshot.events)),
        items=dict(reversed(list(snapshot.items.items()))),
        scan_errors=tuple(reversed(snapshot.scan_errors)),
    )
    for fmt in FORMATS:
        assert render(fmt, checklist, shuffled) == outputs[fmt], fmt


def test_a_scan_nobody_reviewed_yet(rules, checklist):
    """What `dbreview scan` writes: every finding untriaged, nothing reviewed."""
    result = ScanResult(root="/srv/app", errors=[], drafted_answers={"q3.1": "Every migration has a downgrade."})
    snapshot = snapshot_from_scan(result, "database", T0)
    md = render_markdown(checklist, snapshot)
    assert "- **Overall assessment:** Not assessed yet: no verdict and no decided finding (not final: " in md
    assert md.count("**Status:** Not reviewed") == 10
    assert "## Scan Errors" not in md
    assert "- **Reviewers:** none yet" in md and "- **Commit:** none: not a git checkout" in md
    doc = json.loads(render_sarif(checklist, snapshot))
    check_sarif(doc)
    assert doc["runs"][0]["results"] == []
    answers = {a["question_id"]: a for a in json.loads(render_json(checklist, snapshot))["answers"]}
    assert answers["q3.1"]["drafted"] == "Every migration has a downgrade."


def test_render_rejects_an_unknown_format(checklist, snapshot):
    assert FORMATS == ("markdown", "html", "sarif", "json", "github", "gitlab")
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        render("pdf", checklist, snapshot)


def test_reports_do_not_import_textual():
    code = "import sys, tui.reports; sys.exit('textual' in sys.modules or 'tui.app' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
