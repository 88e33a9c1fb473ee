"""The saved review as the rest of the program sees it: frozen values, never ORM rows.

Reports and screens read these; only the session repository writes the database behind them.
This module imports neither Textual nor SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from analyzers.findings import Finding, Related, ScanError, ScanResult, Severity


class Disposition(StrEnum):
    UNTRIAGED = "untriaged"
    CONFIRMED = "confirmed"
    DOWNGRADED = "downgraded"
    DISMISSED = "dismissed"


class Detection(StrEnum):
    NEW = "new"
    UNCHANGED = "unchanged"
    UPDATED = "updated"  # moved or edited since the last scan: a decision on it wants a second look
    ABSENT = "absent"  # gone from the code
    REGRESSED = "regressed"  # was absent, came back


class Verdict(StrEnum):
    UNREVIEWED = "unreviewed"
    PASS = "pass"
    WARNING = "warning"
    FAIL = "fail"
    NA = "n/a"


DISMISS_REASONS = ("false positive", "won't fix", "accepted risk")
IN_SOURCE = "source comment"  # who a `# dbreview: ignore` comment's dismissal is recorded as


def in_source_dismissal(text: str) -> tuple[str, str | None]:
    """A suppression comment's reason -> (dismiss reason, note): "false positive: indexed in 0004"
    gives ("false positive", "indexed in 0004"); anything else is an accepted risk."""
    lowered = text.lower()
    for reason in DISMISS_REASONS:
        if lowered.startswith(reason):
            return reason, text[len(reason) :].lstrip(" :-") or None
    return "accepted risk", text or None


@dataclass(frozen=True, slots=True)
class Note:
    reviewer: str
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class FindingState:
    id: int
    fingerprint: str
    rule_id: str
    item_id: str
    severity: Severity  # as the reviewer left it
    original_severity: Severity  # as the analyzer reported it
    message: str
    path: str
    start_line: int
    end_line: int
    anchor: str
    evidence: tuple[str, ...]
    code_hash: str
    detection: Detection = Detection.NEW
    disposition: Disposition = Disposition.UNTRIAGED
    dismiss_reason: str | None = None
    notes: tuple[Note, ...] = ()
    needs_second_look: bool = False
    version: int = 0
    related: tuple[Related, ...] = ()

    @property
    def location(self) -> str:
        return f"{self.path}:{self.start_line}" + (f"-{self.end_line}" if self.end_line > self.start_line else "")

    @property
    def is_open(self) -> bool:
        """Counts as an issue in a report: present in the code and not dismissed."""
        return self.detection != Detection.ABSENT and self.disposition != Disposition.DISMISSED


@dataclass(frozen=True, slots=True)
class ItemState:
    item_id: str
    verdict: Verdict = Verdict.UNREVIEWED
    notes: str = ""
    reviewer: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AnswerState:
    question_id: str
    text: str = ""  # the reviewer's answer; empty until answered
    drafted: str = ""  # what the analyzers drafted from the facts
    reviewer: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: datetime
    reviewer: str
    kind: str  # start | scan | disposition | severity | note | verdict | answer | doc_read
    target: str  # finding fingerprint, item id, question id or document path; the repository for start, scan
    old: str | None
    new: str | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    id: int
    repo_path: str
    checklist_id: str
    created_at: datetime
    updated_at: datetime
    commit: str | None = None
    reviewers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProofState:
    """What `dbreview verify` showed about a finding on a real PostgreSQL, at a commit."""

    status: str  # proven | refuted
    evidence: str
    commit: str | None
    postgres: str
    at: datetime

    def label(self, current_commit: str | None) -> str:
        """`proven`, or `proven at 1a2b3c4d` once the code has moved on from the commit it ran on."""
        if self.commit and current_commit and self.commit != current_commit:
            return f"{self.status} at {self.commit[:8]}"
        return self.status


@dataclass(frozen=True, slots=True)
class VerificationState:
    """The latest `dbreview verify` of a review: on which PostgreSQL, at which commit, what it said."""

    at: datetime
    reviewer: str
    commit: str | None
    postgres: str
    outcome: str  # one line: "proven: 3 findings, 2 refuted" or "unverifiable: needs postgis"
    report: str  # the run's own report, Markdown
    result: str  # the run, as JSON


@dataclass(frozen=True, slots=True)
class ReviewSnapshot:
    review: ReviewInfo
    findings: tuple[FindingState, ...] = ()
    items: dict[str, ItemState] = field(default_factory=dict)
    answers: dict[str, AnswerState] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    scan_errors: tuple[ScanError, ...] = ()
    not_applicable: dict[str, str] = field(default_factory=dict)  # item id -> why the scan says it does not apply
    proofs: dict[str, ProofState] = field(default_factory=dict)  # fingerprint -> the latest verify's proof
    verification: VerificationState | None = None

    def item(self, item_id: str) -> ItemState:
        return self.items.get(item_id) or ItemState(item_id)

    def answer(self, question_id: str) -> AnswerState:
        return self.answers.get(question_id) or AnswerState(question_id)


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    """One line of the list of saved reviews. Counts leave out findings gone from the code."""

    review: ReviewInfo
    findings: int
    triaged: int  # disposition is no longer untriaged
    items: int  # checklist items the review knows of: with a verdict or a finding
    items_done: int  # verdict is no longer unreviewed
    answered: int
    last_change: datetime
    last_reviewer: str | None = None


@dataclass(frozen=True, slots=True)
class ScanDiff:
    """What a new scan changed in a saved review."""

    new: int = 0
    unchanged: int = 0
    moved: int = 0  # same rule and code, other place
    edited: int = 0  # same rule and anchor (or fingerprint), other code
    resolved: int = 0  # gone from the code since the last scan
    regressed: int = 0  # was gone, came back
    merged: int = 0  # saved findings that a finding replacing several of them took over
    files_changed: int | None = None  # files whose findings changed; None on a first scan

    def __str__(self) -> str:
        counts = {
            "new": self.new,
            "unchanged": self.unchanged,
            "moved": self.moved,
            "edited": self.edited,
            "resolved": self.resolved,
            "regressed": self.regressed,
        }
        text = ", ".join(f"{n} {label}" for label, n in counts.items())
        return text + (f", {self.merged} merged into others" if self.merged else "")


def state_of(finding: Finding, id: int = 0) -> FindingState:
    """A fresh, untriaged state for a finding that no reviewer has seen."""
    return FindingState(
        id=id,
        fingerprint=finding.fingerprint,
        rule_id=finding.rule_id,
        item_id=finding.item_id,
        severity=finding.severity,
        original_severity=finding.severity,
        message=finding.message,
        path=finding.location.path,
        start_line=finding.location.start_line,
        end_line=finding.location.end_line,
        anchor=finding.anchor,
        evidence=finding.evidence,
        code_hash=finding.code_hash,
        related=finding.related,
    )


def snapshot_from_scan(result: ScanResult, checklist_id: str, now: datetime, commit: str | None = None) -> ReviewSnapshot:
    """A review nobody has touched yet: what `dbreview scan` reports."""
    info = ReviewInfo(id=0, repo_path=result.root, checklist_id=checklist_id, created_at=now, updated_at=now, commit=commit)
    states = []
    for i, f in enumerate(result.findings):
        state = state_of(f, i + 1)
        if f.suppressed:
            reason, note = in_source_dismissal(f.suppressed)
            notes = (Note(IN_SOURCE, now, note),) if note else ()
            state = replace(state, disposition=Disposition.DISMISSED, dismiss_reason=reason, notes=notes)
        states.append(state)
    return ReviewSnapshot(
        review=info,
        findings=tuple(states),
        answers={qid: AnswerState(qid, drafted=text) for qid, text in result.drafted_answers.items()},
        scan_errors=tuple(result.errors),
        not_applicable=dict(result.not_applicable),
    )
