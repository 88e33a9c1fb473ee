"""The review as SARIF 2.1.0, for code-scanning tools: every rule, every finding with its 1-based
region and code, its identity (partialFingerprints), its state against the previous scan
(baselineState) and, for a dismissed finding, a suppression with the reviewer's justification."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from analyzers.findings import Severity
from tui.reports.assess import Assessment, section_of, tool_version
from tui.reports.mdtext import code_block
from tui.reports.sanitize import json_text, one_line, printable
from tui.session.state import IN_SOURCE, Detection, Disposition, FindingState, ReviewSnapshot

if TYPE_CHECKING:
    from analyzers.checklist import Checklist
    from analyzers.rules.base import RuleInfo

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {Severity.CRITICAL: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
BASELINE = {
    Detection.NEW: "new",
    Detection.UNCHANGED: "unchanged",
    Detection.UPDATED: "updated",
    Detection.ABSENT: "absent",
    Detection.REGRESSED: "new",
}
ROOT = "SRCROOT"


def render_sarif(checklist: Checklist, snapshot: ReviewSnapshot) -> str:
    a = Assessment(checklist, snapshot)
    rules = _rules(a)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    review = snapshot.review
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "dbreview", "version": tool_version(), "rules": rules}},
        "originalUriBaseIds": {ROOT: {"uri": _root_uri(review.repo_path)}},
        "invocations": [_invocation(a)],
        "results": [_result(a, f, index[f.rule_id]) for f in a.findings],
        "properties": {
            "reviewId": review.id,
            "checklist": {"id": checklist.id, "version": checklist.version, "title": checklist.title},
            "commit": review.commit,
            "reviewers": [one_line(name) for name in review.reviewers],
            "createdAt": review.created_at.isoformat(),
            "updatedAt": review.updated_at.isoformat(),
            **_verification(snapshot),
        },
    }
    return json_text({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]})


def _root_uri(repo_path: str) -> str:
    path = PurePath(repo_path)
    uri = path.as_uri() if path.is_absolute() else quote(path.as_posix())
    return uri.rstrip("/") + "/"


def _artifact(path: str) -> dict[str, str]:
    return {"uri": quote(path, safe="/"), "uriBaseId": ROOT}


# -- rules ----------------------------------------------------------------------------------------


def _rules(a: Assessment) -> list[dict[str, Any]]:
    """Every rule dbreview has, and a bare descriptor for any rule a finding names that this version
    no longer has (a session from an older version), so that each result's ruleIndex holds."""
    known = {info.id: _rule(a, name, info) for name, info in a.catalogue}
    for f in a.findings:
        if f.rule_id not in known:
            known[f.rule_id] = {
                "id": f.rule_id,
                "name": f.rule_id,
                "shortDescription": {"text": f"{f.rule_id} (a rule this version of dbreview no longer has)"},
                "defaultConfiguration": {"level": LEVEL[f.original_severity]},
                "properties": {"tags": _tags(a, f.item_id)},
            }
    return [known[rule_id] for rule_id in sorted(known)]


def _tags(a: Assessment, item_id: str) -> list[str]:
    section_id = section_of(a.checklist, item_id)
    section = next((s for s in a.checklist.sections if s.id == section_id), None)
    return [item_id, section.title] if section else [item_id]


def _rule(a: Assessment, name: str, info: RuleInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": name,
        "shortDescription": {"text": one_line(info.title or info.id)},
        "fullDescription": {"text": printable(info.what or info.title or info.id)},
        "help": {"text": printable(info.help_text or info.title or info.id), "markdown": _help_markdown(info)},
        "defaultConfiguration": {"level": LEVEL[info.severity]},
        "properties": {"tags": _tags(a, info.item_id)},
    }


def _help_markdown(info: RuleInfo) -> str:
    heads = (("What it checks", info.what), ("Why it matters", info.why))
    parts = [f"**{head}:** {printable(body)}" for head, body in heads if body]
    if info.example:
        parts.append("**Example:**\n\n" + "\n".join(code_block(info.example.splitlines(), "python")))
    if info.instead:
        parts.append(f"**Instead:** {printable(info.instead)}")
    return "\n\n".join(parts) or printable(info.title or info.id)


# -- results --------------------------------------------------------------------------------------


def _result(a: Assessment, f: FindingState, rule_index: int) -> dict[str, Any]:
    start = max(1, f.start_line)
    region: dict[str, Any] = {"startLine": start, "endLine": max(start, f.end_line)}
    if f.evidence:
        region["snippet"] = {"text": printable("\n".join(f.evidence))}
    return {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": printable(f.message)},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(f.path), "region": region}}],
        **_related(f),
        "partialFingerprints": {"dbreview/v1": f.fingerprint, "dbreview/codeHash": f.code_hash},
        "baselineState": BASELINE[f.detection],
        "suppressions": _suppressions(a, f),
        "properties": {
            "itemId": f.item_id,
            "anchor": printable(f.anchor),
            "severity": f.severity.value,
            "originalSeverity": f.original_severity.value,
            "disposition": f.disposition.value,
            "detection": f.detection.value,
            "needsSecondLook": f.needs_second_look,
            **_proof(a, f),
            "notes": [
                {"reviewer": one_line(note.reviewer), "at": note.at.isoformat(), "text": printable(note.text)}
                for note in f.notes
            ],
        },
    }


def _related(f: FindingState) -> dict[str, Any]:
    if not f.related:
        return {}
    return {
        "relatedLocations": [
            {
                "id": n,
                "physicalLocation": {
                    "artifactLocation": _artifact(r.location.path),
                    "region": {"startLine": max(1, r.location.start_line), "endLine": max(1, r.location.end_line)},
                },
                **({"message": {"text": printable(r.note)}} if r.note else {}),
            }
            for n, r in enumerate(f.related)
        ]
    }


def _proof(a: Assessment, f: FindingState) -> dict[str, Any]:
    proof = a.snapshot.proofs.get(f.fingerprint)
    if proof is None:
        return {}
    return {"proof": {"status": proof.status, "evidence": printable(proof.evidence), "commit": proof.commit, "postgres": proof.postgres}}


def _verification(snapshot: ReviewSnapshot) -> dict[str, Any]:
    run = snapshot.verification
    if run is None:
        return {}
    return {"verification": {"outcome": run.outcome, "postgres": run.postgres, "commit": run.commit, "at": run.at.isoformat()}}


def _suppressions(a: Assessment, f: FindingState) -> list[dict[str, Any]]:
    """Empty (known not to be suppressed) unless a reviewer dismissed the finding."""
    if f.disposition != Disposition.DISMISSED:
        return []
    decision = a.decision(f)
    justification = f.dismiss_reason or "dismissed"
    source_notes = [n.text for n in f.notes if n.reviewer == IN_SOURCE]  # a headless scan has no events
    if decision is not None and decision.note:
        justification += f": {decision.note}"
    elif source_notes:
        justification += f": {source_notes[0]}"
    in_source = (decision is not None and decision.reviewer == IN_SOURCE) or bool(source_notes)
    suppression: dict[str, Any] = {
        "kind": "inSource" if in_source else "external",
        "status": "accepted",
        "justification": printable(justification),
    }
    if decision is not None:
        suppression["properties"] = {"reviewer": one_line(decision.reviewer), "at": decision.at.isoformat()}
    return [suppression]


def _invocation(a: Assessment) -> dict[str, Any]:
    """The scan errors, as notifications of a run that completed."""
    notifications = []
    for error in a.scan_errors:
        physical: dict[str, Any] = {"artifactLocation": _artifact(error.path)}
        if error.line:
            physical["region"] = {"startLine": max(1, error.line)}
        message = {"text": printable(error.message)}
        notifications.append({"level": "error", "message": message, "locations": [{"physicalLocation": physical}]})
    return {"executionSuccessful": True, "toolExecutionNotifications": notifications}
