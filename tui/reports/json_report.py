"""The whole review as JSON: what it is, every finding with every field, every checklist item and
question (unreviewed and unanswered ones too), the full event history and the scan errors.

Values are as stored (source and notes are not rewritten, but for secrets, which every export masks);
the text carries no raw control character all the same, since JSON escapes them. Datetimes are ISO
8601; keys keep a fixed order.

The format is published as a JSON Schema in docs/report.schema.json; FORMAT_VERSION grows by one
whenever a field changes meaning or goes away (docs/json-report.md keeps the history), never
for a field added."""

from __future__ import annotations

import json

from collections.abc import Callable, Iterable
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from analyzers.findings import Severity
from tui.reports.assess import Assessment, section_of, tool_version
from tui.reports.sanitize import json_text
from tui.session.state import ReviewSnapshot

if TYPE_CHECKING:
    from analyzers.checklist import Checklist, Item, Question

FORMAT = "dbreview-review"
FORMAT_VERSION = 2


def plain(value: Any) -> Any:
    """Dataclasses, enums, datetimes and tuples as JSON values, in field order."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def render_json(checklist: Checklist, snapshot: ReviewSnapshot) -> str:
    a = Assessment(checklist, snapshot)
    done, total = a.reviewed_count()
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tool": {"name": "dbreview", "version": tool_version()},
        "review": {
            **plain(snapshot.review),
            "checklist": {"id": checklist.id, "version": checklist.version, "title": checklist.title},
        },
        "summary": {
            "assessment": a.overall().value,
            "final": a.unfinished() == (0, 0),
            **{sev.value: a.count(sev) for sev in Severity},
            "untriaged": {sev.value: a.untriaged_count(sev) for sev in Severity},
            "dismissed": len(a.dismissed),
            "resolved": len(a.resolved),
            "items_reviewed": done,
            "items_total": total,
        },
        "findings": [
            {
                **plain(f),
                "location": f.location,
                "section_id": section_of(checklist, f.item_id),
                "is_open": f.is_open,
                "recommendation": a.recommendation(f),
                "proof": plain(snapshot.proofs.get(f.fingerprint)),
            }
            for f in a.findings
        ],
        "items": _items(a),
        "answers": _answers(a),
        "events": [plain(e) for e in a.events],
        "scan_errors": [plain(e) for e in a.scan_errors],
        "verification": None if snapshot.verification is None else {
            **{k: v for k, v in plain(snapshot.verification).items() if k not in ("report", "result")},
            "result": json.loads(snapshot.verification.result),
        },
    }
    return json_text(document)


def _rows(key: str, listed: dict[str, Any], stored: Iterable[str], head: Callable, state: Callable) -> list[dict[str, Any]]:
    """One row per id the checklist lists, in its order, then one per id that only the review holds
    (the checklist no longer lists it): `key`, what `head` says of the entry, then its stored state."""
    rows = []
    for ident in [*listed, *sorted(set(stored) - set(listed))]:
        row = {key: ident, **head(ident, listed.get(ident))}
        row.update((k, v) for k, v in plain(state(ident)).items() if k != key)
        rows.append(row)
    return rows


def _items(a: Assessment) -> list[dict[str, Any]]:
    def head(item_id: str, item: Item | None) -> dict[str, Any]:
        return {
            "section_id": section_of(a.checklist, item_id),
            "group": item.group if item else None,
            "text": item.text if item else None,
        }

    rows = _rows("item_id", {i.id: i for i in a.checklist.items}, a.snapshot.items, head, a.snapshot.item)
    for row in rows:
        row["status"] = a.item_status(row["item_id"]).value
        row["scan_not_applicable"] = a.snapshot.not_applicable.get(row["item_id"])
    return rows


def _answers(a: Assessment) -> list[dict[str, Any]]:
    def head(question_id: str, question: Question | None) -> dict[str, Any]:
        return {"section_id": question.section_id if question else None, "question": question.text if question else None}

    return _rows("question_id", {q.id: q for q in a.checklist.questions}, a.snapshot.answers, head, a.snapshot.answer)
