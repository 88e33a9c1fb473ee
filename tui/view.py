"""What the tree shows of the findings: a filter (state, severity, rule, file) and a grouping (by
checklist item, by rule, or by file), as SARIF viewers and GitHub's alert list offer. No Textual."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

from analyzers.findings import Severity
from tui.review import SEVERITY_ORDER, Review
from tui.session.state import Detection, Disposition, FindingState

GROUPINGS = ("item", "rule", "file")
OTHERS = "others:others"  # by item: the findings under no item of the checklist (unused suppressions)


@dataclass(frozen=True, slots=True)
class View:
    states: frozenset[str] = field(default_factory=frozenset)  # dispositions shown; empty: all
    severities: frozenset[str] = field(default_factory=frozenset)  # empty: all
    rule: str = ""  # a rule id or its start ("CFG", "cfg003"), any case
    file: str = ""  # a part of the path
    group_by: str = "item"

    @property
    def filtered(self) -> bool:
        return bool(self.states or self.severities or self.rule or self.file)

    def shows(self, f: FindingState) -> bool:
        return (
            (not self.states or f.disposition in self.states)
            and (not self.severities or f.severity in self.severities)
            and (not self.rule or f.rule_id.lower().startswith(self.rule.lower()))
            and (not self.file or self.file.lower() in f.path.lower())
        )

    def folds(self, f: FindingState) -> bool:
        """Dismissed and resolved findings fold away under their parent, unless asked for."""
        if f.detection == Detection.ABSENT:
            return True
        return f.disposition == Disposition.DISMISSED and Disposition.DISMISSED not in self.states

    def describe(self) -> str:
        """"critical untriaged · rule CFG · file models/ · by rule"; empty for the plain view."""
        words = [s for s in Severity if s in self.severities] + [d for d in Disposition if d in self.states]
        parts = [" ".join(str(w) for w in words)] if words else []
        if self.rule:
            parts.append(f"rule {self.rule}")
        if self.file:
            parts.append(f"file {self.file}")
        if self.group_by != "item":
            parts.append(f"by {self.group_by}")
        return " · ".join(parts)


def parent_key(f: FindingState, view: View, known: Container[str] = ()) -> str:
    """The id of the tree node a finding hangs under in this view (`known`: the checklist's item
    ids, when a finding may be under none of them)."""
    if view.group_by == "rule":
        return f"rule:{f.rule_id}"
    if view.group_by == "file":
        return f"file:{f.path}"
    return f"item:{f.item_id}" if not known or f.item_id in known else OTHERS


def _place(f: FindingState) -> tuple:
    return (f.path, f.start_line)


def _order(f: FindingState) -> tuple:
    return (f.detection == Detection.ABSENT, SEVERITY_ORDER[f.severity], f.path, f.start_line)


def buckets(review: Review, view: View) -> dict[str, list[FindingState]]:
    """parent node id -> its findings in this view, in the order the tree shows them: by item in
    checklist order; by rule, the worst rules first; by file, in path order."""
    out: dict[str, list[FindingState]] = {}
    if view.group_by == "item":
        for item in review.checklist.items:
            shown = [f for f in review.findings_of(item.id) if view.shows(f)]
            if shown:
                out[f"item:{item.id}"] = shown
        known = {item.id for item in review.checklist.items}
        strays = sorted((f for f in review.findings.values() if f.item_id not in known and view.shows(f)), key=_place)
        if strays:
            out[OTHERS] = strays
        return out
    for f in review.findings.values():
        if view.shows(f):
            out.setdefault(parent_key(f, view), []).append(f)
    for found in out.values():
        found.sort(key=_place if view.group_by == "file" else _order)
    if view.group_by == "rule":
        return dict(sorted(out.items(), key=lambda kv: (min(SEVERITY_ORDER[f.severity] for f in kv[1]), kv[0])))
    return dict(sorted(out.items()))
