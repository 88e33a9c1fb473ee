"""Only what is new, for CI: `scan --baseline FILE` and `scan --since REV`.

A baseline is an earlier JSON or SARIF report of dbreview. Its findings are matched to the scan's
exactly as a saved review matches them (tui/session/identity.py: same fingerprint, then same rule
and code, then same rule and anchor), so a finding that moved or whose code was edited is still
known; only findings the baseline does not have are left. One that the baseline lists as gone
from the code (absent) and that is back counts as new.

`--since REV` keeps the findings in files changed since REV (committed, staged, unstaged or new),
and always those about the schema as a whole, which a change anywhere can cause (WHOLE_SCHEMA).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from analyzers.findings import Finding, ScanResult, Severity
from tui.session.identity import match
from tui.session.state import Detection, Disposition, FindingState

# Anchors of findings that name no one place: the revision graph, the model against the migrations,
# the tenant settings and policies as a whole. Kept by --since whatever changed.
WHOLE_SCHEMA = ("tenancy:", "migration-heads:", "drift:", "rls-variable:", "policy:super-admin", "keys:", "metadata:", "billing:")


class BaselineError(Exception):
    """A baseline file that cannot be used: one line saying why (exit status 2)."""


# -- baseline -------------------------------------------------------------------------------------


def load_baseline(path: Path) -> list[FindingState]:
    """The findings of a dbreview JSON or SARIF report."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BaselineError(f"{path}: not a JSON or SARIF report of dbreview ({exc})") from None
    try:
        if isinstance(document, dict) and document.get("format") == "dbreview-review":
            return [_from_json(f) for f in document["findings"]]
        if isinstance(document, dict) and "runs" in document:
            runs = [r for r in document["runs"] if r.get("tool", {}).get("driver", {}).get("name") == "dbreview"]
            if runs:
                return [_from_sarif(r) for run in runs for r in run.get("results", [])]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BaselineError(f"{path}: a dbreview report with a finding this version cannot read ({type(exc).__name__}: {exc})") from None
    raise BaselineError(f"{path}: not a JSON or SARIF report of dbreview (`dbreview scan --format json` or `--format sarif` writes one)")


def _state(
    fingerprint: str, rule_id: str, item_id: str, severity: str, path: str, start_line: int, anchor: str, code_hash: str,
    detection: Detection, disposition: Disposition = Disposition.UNTRIAGED,
) -> FindingState:  # fmt: skip
    """A baseline finding: what matching reads, and neutral values for the rest."""
    level = Severity(severity)
    return FindingState(
        id=0, fingerprint=fingerprint, rule_id=rule_id, item_id=item_id, severity=level, original_severity=level, message="",
        path=path, start_line=start_line, end_line=start_line, anchor=anchor, evidence=(), code_hash=code_hash,
        detection=detection, disposition=disposition,
    )  # fmt: skip


def _from_json(f: dict[str, Any]) -> FindingState:
    return _state(
        fingerprint=str(f["fingerprint"]),
        rule_id=str(f["rule_id"]),
        item_id=str(f.get("item_id", "")),
        severity=f.get("severity", "info"),
        path=str(f["path"]),
        start_line=int(f.get("start_line", 0)),
        anchor=str(f["anchor"]),
        code_hash=str(f.get("code_hash", "")),
        detection=Detection(f.get("detection", "new")),
        disposition=Disposition(f.get("disposition", "untriaged")),
    )


_SARIF_SEVERITY = {"error": "critical", "warning": "warning", "note": "info", "none": "info"}


def _from_sarif(r: dict[str, Any]) -> FindingState:
    physical = r["locations"][0]["physicalLocation"]
    props = r.get("properties", {})
    prints = r.get("partialFingerprints", {})
    return _state(
        fingerprint=str(prints["dbreview/v1"]),
        rule_id=str(r["ruleId"]),
        item_id=str(props.get("itemId", "")),
        severity=props.get("severity") or _SARIF_SEVERITY.get(r.get("level", "warning"), "warning"),
        path=unquote(physical["artifactLocation"]["uri"]),
        start_line=int(physical.get("region", {}).get("startLine", 0)),
        anchor=str(props.get("anchor", "")),
        code_hash=str(prints.get("dbreview/codeHash", "")),
        detection=Detection.ABSENT if r.get("baselineState") == "absent" else Detection.NEW,
    )


def without_baseline(result: ScanResult, baseline: list[FindingState]) -> tuple[ScanResult, int]:
    """The scan without the findings the baseline already has; and how many were left out."""
    matching = match(result.findings, baseline)
    new = [m.finding for m in matching.matches if m.saved is None or m.saved.detection == Detection.ABSENT]
    return replace(result, findings=new), len(result.findings) - len(new)


# -- since a revision -----------------------------------------------------------------------------


def about_whole_schema(f: Finding) -> bool:
    return f.anchor.startswith(WHOLE_SCHEMA)


def since(result: ScanResult, changed: set[str]) -> tuple[ScanResult, int]:
    """The scan's findings in `changed` files (paths relative to the scanned folder), one of their
    related places included, and those about the whole schema; and how many were left out."""

    def touched(f: Finding) -> bool:
        places = [f.location.path, *(r.location.path for r in f.related)]
        return about_whole_schema(f) or any(p in changed for p in places)

    kept = [f for f in result.findings if touched(f)]
    return replace(result, findings=kept), len(result.findings) - len(kept)
