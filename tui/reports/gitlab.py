"""The findings as a GitLab Code Quality report (the Code Climate issue format GitLab reads from a
job's `codequality` artifact): one entry per open finding, with a fingerprint that stays the same
while the finding does, so merge requests show what is new."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analyzers.findings import Severity
from tui.reports.assess import Assessment
from tui.reports.sanitize import json_text, one_line, printable

if TYPE_CHECKING:
    from analyzers.checklist import Checklist
    from tui.session.state import ReviewSnapshot

SEVERITY = {Severity.CRITICAL: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def render_gitlab(checklist: Checklist, snapshot: ReviewSnapshot, *, path_prefix: str = "") -> str:
    a = Assessment(checklist, snapshot)
    issues: list[dict[str, Any]] = []
    for f in a.open:
        start = max(1, f.start_line)
        issues.append(
            {
                "type": "issue",
                "check_name": f.rule_id,
                "description": one_line(f"{f.rule_id}: {f.message}"),
                "content": {"body": printable(f"Recommendation: {a.recommendation(f)}")},
                "categories": ["Bug Risk"],
                "severity": SEVERITY[f.severity],
                "fingerprint": f.fingerprint,
                "location": {"path": path_prefix + f.path, "lines": {"begin": start, "end": max(start, f.end_line)}},
                "engine_name": "dbreview",
            }
        )
    return json_text(issues)
