"""What every report agrees on: which findings are open, where they belong, and the status of each
item, section, compliance row and of the whole review. Derived from the snapshot, never stored.

Judgement and machine output are kept apart: a status comes from the reviewers' verdicts and the
findings they confirmed or downgraded; a finding nobody has looked at yet (untriaged) is reported as
such, never counted as an issue the review found."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, NamedTuple

from analyzers.advice import advice
from analyzers.findings import Severity
from analyzers.rules.base import RuleInfo
from tui.session.state import Detection, Disposition, FindingState, ReviewSnapshot, Verdict

if TYPE_CHECKING:
    from analyzers.checklist import Checklist, ComplianceRow, Section


class Status(StrEnum):
    PASS = "pass"
    WARNING = "warning"
    FAIL = "fail"
    NOT_REVIEWED = "not reviewed"


_BY_VERDICT = {
    Verdict.PASS: Status.PASS,
    Verdict.NA: Status.PASS,
    Verdict.WARNING: Status.WARNING,
    Verdict.FAIL: Status.FAIL,
}
_BY_SEVERITY = {Severity.CRITICAL: Status.FAIL, Severity.WARNING: Status.WARNING}


DECIDED = (Disposition.CONFIRMED, Disposition.DOWNGRADED)


def is_decided(f: FindingState) -> bool:
    """Open, and a reviewer (or the settings' severity, through a reviewer) stands behind it."""
    return f.is_open and f.disposition in DECIDED


def is_untriaged(f: FindingState) -> bool:
    """Open, and no reviewer has looked at it yet: the analyzers' word alone."""
    return f.is_open and f.disposition == Disposition.UNTRIAGED


def _from_findings(findings: Iterable[FindingState]) -> list[Status]:
    """FAIL for each decided critical finding, WARNING for each decided warning; info and untriaged
    findings count for nothing."""
    return [_BY_SEVERITY[f.severity] for f in findings if is_decided(f) and f.severity in _BY_SEVERITY]


class Decision(NamedTuple):
    """Who set a finding's disposition, when, and their note (without the dismissal reason)."""

    reviewer: str
    at: datetime
    note: str


def combine(statuses: Iterable[Status], *, require_all: bool) -> Status:
    """The worst of `statuses`; PASS when they pass (all of them, or any one with `require_all` off),
    NOT_REVIEWED otherwise."""
    seen = set(statuses)
    for worst in (Status.FAIL, Status.WARNING):
        if worst in seen:
            return worst
    if Status.PASS in seen and not (require_all and Status.NOT_REVIEWED in seen):
        return Status.PASS
    return Status.NOT_REVIEWED


def finding_order(f: FindingState) -> tuple:
    return (f.severity.rank, f.path, f.start_line, f.rule_id, f.fingerprint)


def section_of(checklist: Checklist, item_id: str) -> str:
    """The id of the section an item belongs to; by its id's prefix when the checklist does not know
    it (a finding from a rule written against another version of the checklist)."""
    try:
        item = checklist.item(item_id)
    except LookupError:
        item = None
    return item.section_id if item is not None else item_id.split(".", 1)[0]


def catalogue() -> list[tuple[str, RuleInfo]]:
    """(class name, documentation) of every rule the analyzers have, in rule id order."""
    from analyzers.rules import rule_infos  # loads every rule module: only when a report is made

    return sorted(rule_infos(), key=lambda pair: pair[1].id)


class Assessment:
    """The snapshot read against the checklist."""

    def __init__(self, checklist: Checklist, snapshot: ReviewSnapshot) -> None:
        self.checklist = checklist
        self.snapshot = snapshot
        self.findings = tuple(sorted(snapshot.findings, key=finding_order))
        self.open = tuple(f for f in self.findings if f.is_open)
        self.decided = tuple(f for f in self.open if is_decided(f))
        self.untriaged = tuple(f for f in self.open if is_untriaged(f))
        self.dismissed = tuple(f for f in self.findings if f.detection != Detection.ABSENT and not f.is_open)
        self.resolved = tuple(f for f in self.findings if f.detection == Detection.ABSENT)
        self._by_item: dict[str, list[FindingState]] = defaultdict(list)
        self._by_section: dict[str, list[FindingState]] = defaultdict(list)
        for f in self.findings:
            self._by_item[f.item_id].append(f)
            self._by_section[section_of(checklist, f.item_id)].append(f)
        self.events = tuple(sorted(snapshot.events, key=lambda e: (e.at, e.id)))
        self.scan_errors = tuple(sorted(snapshot.scan_errors, key=lambda e: (e.path, e.line or 0, e.message)))
        known = {s.id for s in checklist.sections}
        self.unplaced = tuple(f for f in self.findings if section_of(checklist, f.item_id) not in known)
        self.catalogue = catalogue()
        self._rules = {info.id: info for _, info in self.catalogue}

    def rule(self, rule_id: str) -> RuleInfo | None:
        """A rule's documentation; None for a rule this version no longer has (an older session)."""
        return self._rules.get(rule_id)

    # -- findings ---------------------------------------------------------------------------------

    def item_findings(self, item_id: str) -> tuple[FindingState, ...]:
        return tuple(self._by_item.get(item_id, ()))

    def section_findings(self, section_id: str) -> tuple[FindingState, ...]:
        return tuple(self._by_section.get(section_id, ()))

    def count(self, severity: Severity) -> int:
        """Decided findings of a severity: the issues the review found."""
        return sum(1 for f in self.decided if f.severity == severity)

    def untriaged_count(self, severity: Severity | None = None) -> int:
        return sum(1 for f in self.untriaged if severity is None or f.severity == severity)

    def recommendation(self, f: FindingState) -> str:
        """What to do about this finding, in its own names (analyzers/advice.py); for a rule the
        advice does not know, where to read the rule's general advice."""
        if text := advice(f.rule_id, f.anchor, f.message):
            return text
        if self.rule(f.rule_id) is None:
            return f"None: this version of dbreview no longer has rule {f.rule_id}."
        return f"See `dbreview rules {f.rule_id}`."

    def decision(self, f: FindingState) -> Decision | None:
        """From the latest event that set this finding's current disposition (or its severity, for a
        downgrade): who decided, and why. None when the history does not say (an event recorded under
        a fingerprint the finding had before it moved)."""
        wanted = {f.disposition.value}
        kinds = {"disposition"}
        if f.disposition == Disposition.DOWNGRADED:
            wanted.add(f.severity.value)
            kinds.add("severity")
        hits = [e for e in self.events if e.target == f.fingerprint and e.kind in kinds and e.new in wanted]
        if not hits:
            return None
        note = (hits[-1].note or "").strip()
        reason = f.dismiss_reason or ""
        if reason and note.startswith(reason):  # the store records a dismissal's note as "reason: note"
            note = note[len(reason) :].removeprefix(":").strip()
        return Decision(hits[-1].reviewer, hits[-1].at, note)

    # -- statuses ---------------------------------------------------------------------------------

    def item_status(self, item_id: str) -> Status:
        """The reviewer's verdict, made worse by any decided critical or warning finding on the item."""
        verdict = _BY_VERDICT.get(self.snapshot.item(item_id).verdict, Status.NOT_REVIEWED)
        return combine([verdict, *_from_findings(self.item_findings(item_id))], require_all=False)

    def suggested_na(self, item_id: str) -> str | None:
        """Why the scan finds the item not applicable, while no reviewer has given it a verdict."""
        if self.snapshot.item(item_id).verdict != Verdict.UNREVIEWED:
            return None
        return self.snapshot.not_applicable.get(item_id)

    def section_status(self, section: Section) -> Status:
        """Fail or warning from any item or decided finding; pass once any item is reviewed; else not
        reviewed."""
        statuses = [self.item_status(item.id) for item in section.items]
        return combine([*statuses, *_from_findings(self.section_findings(section.id))], require_all=False)

    def compliance_status(self, row: ComplianceRow) -> Status:
        """Pass only when every item the row lists passes."""
        return combine((self.item_status(item_id) for item_id in row.items), require_all=True)

    def overall(self) -> Status:
        """From the reviewers' judgement only: Fail on a failed item or a decided critical finding;
        Pass with Warnings on a warning verdict or a decided warning; Pass when anything was judged
        and nothing worse; Not reviewed when nothing was judged yet."""
        verdicts = [_BY_VERDICT[state.verdict] for state in self.snapshot.items.values() if state.verdict in _BY_VERDICT]
        judged = [Status.PASS] if self.decided else []
        return combine([*judged, *verdicts, *_from_findings(self.decided)], require_all=False)

    def unfinished(self) -> tuple[int, int]:
        """(checklist items without a verdict, findings nobody has triaged): (0, 0) when the review is
        finished and its assessment final."""
        done, total = self.reviewed_count()
        return total - done, len(self.untriaged)

    def reviewed_count(self) -> tuple[int, int]:
        """(items with a verdict, items in the checklist)."""
        items = self.checklist.items
        done = sum(1 for item in items if self.snapshot.item(item.id).verdict != Verdict.UNREVIEWED)
        return done, len(items)

    def compliance_areas(self) -> list[tuple[str, list[ComplianceRow]]]:
        areas: dict[str, list[ComplianceRow]] = {}
        for row in self.checklist.compliance:
            areas.setdefault(row.area, []).append(row)
        return list(areas.items())

    def performance_section(self) -> Section | None:
        for section in self.checklist.sections:
            if "performance" in section.title.lower():
                return section
        return None


def tool_version() -> str:
    try:
        return version("dbreview")
    except PackageNotFoundError:
        return "0.0.0+unknown"
