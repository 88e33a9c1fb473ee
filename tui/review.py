"""One reviewer's handle on one saved review: current state in memory, every action written
through the store at once. No Textual here: screens call this, tests drive it directly."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from analyzers.checklist import Checklist
from tui.session.reading import SavedReview
from tui.session.state import (
    AnswerState,
    Detection,
    Disposition,
    FindingState,
    ItemState,
    ReviewInfo,
    ScanDiff,
    Verdict,
)

if TYPE_CHECKING:
    from analyzers.findings import ScanResult
    from tui.session import ReviewStore


@dataclass(frozen=True, slots=True)
class Progress:
    findings: int
    triaged: int
    items: int
    items_done: int
    questions: int
    answered: int

    def __str__(self) -> str:
        return f"{self.triaged}/{self.findings} triaged · {self.items_done}/{self.items} items · {self.answered}/{self.questions} answers"


SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _item_order(f: FindingState) -> tuple:
    """Present findings first, worst first, then by place; resolved ones last."""
    return (f.detection == Detection.ABSENT, SEVERITY_ORDER[f.severity], f.path, f.start_line)


class Review:
    """`store` is the ReviewStore; or, from Review.read until attach(), a SavedReview that only reads
    (and writes where the reviewer is)."""

    def __init__(self, store: ReviewStore | SavedReview, info: ReviewInfo, reviewer: str, checklist: Checklist, repo: Path) -> None:
        self.store, self.info, self.reviewer, self.checklist, self.repo = store, info, reviewer, checklist, repo
        self.marked: set[str] = set()  # fingerprints picked for bulk triage
        self.reload()

    @classmethod
    def open(cls, store: ReviewStore, repo: Path, reviewer: str, checklist: Checklist) -> Review:
        """The saved review of this repository and checklist, or a new one."""
        repo = repo.resolve()
        info = store.find_review(str(repo), checklist.id) or store.start_review(
            str(repo), checklist.id, reviewer, commit=git_commit(repo)
        )
        return cls(store, info, reviewer, checklist, repo)

    @classmethod
    def read(cls, saved: SavedReview, repo: Path, reviewer: str, checklist: Checklist) -> Review | None:
        """The saved review of this repository and checklist read without the store (None when there
        is none yet): it shows, and it writes nothing until attach() gives it the store."""
        repo = repo.resolve()
        info = saved.find_review(str(repo), checklist.id)
        return None if info is None else cls(saved, info, reviewer, checklist, repo)

    def attach(self, store: ReviewStore) -> None:
        """The store, opened after the first screen: from now on every action is written."""
        reader, self.store = self.store, store
        if reader is not store:
            reader.close()

    # -- reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        snap = self.store.snapshot(self.info.id)
        self.info = snap.review
        self.findings: dict[str, FindingState] = {f.fingerprint: f for f in snap.findings}
        self.items: dict[str, ItemState] = dict(snap.items)
        self.answers: dict[str, AnswerState] = dict(snap.answers)
        self.scan_errors = snap.scan_errors
        self.not_applicable: dict[str, str] = dict(snap.not_applicable)  # the scan's suggestion: item -> why
        self.proofs = snap.proofs  # fingerprint -> what the latest `verify` showed on PostgreSQL
        self.verification = snap.verification
        self.last_event = max((e.id for e in snap.events), default=0)
        self.docs_read: set[str] = self.store.docs_read(self.info.id)
        self.rescanned = sum(1 for e in snap.events if e.kind == "scan") > 1  # "new" means something now
        self._by_item: dict[str, list[FindingState]] | None = None
        self.present = self.untriaged = 0  # findings in the code, and of them untriaged: kept by keep()
        for f in self.findings.values():
            self._tally(f, 1)

    def _tally(self, f: FindingState, sign: int) -> None:
        if f.detection != Detection.ABSENT:
            self.present += sign
            self.untriaged += sign * (f.disposition == Disposition.UNTRIAGED)

    def snapshot(self):
        return self.store.snapshot(self.info.id)

    def proof_label(self, fingerprint: str) -> str | None:
        """`proven`, `refuted`, or `proven at <commit>` once the code has moved on; None unproven."""
        proof = self.proofs.get(fingerprint)
        return proof.label(self.info.commit) if proof else None

    def findings_of(self, item_id: str) -> list[FindingState]:
        """Present findings first, worst first, then by place; resolved ones last."""
        if self._by_item is None:
            by_item: dict[str, list[FindingState]] = {}
            for f in self.findings.values():
                by_item.setdefault(f.item_id, []).append(f)
            for found in by_item.values():
                found.sort(key=_item_order)
            self._by_item = by_item
        return self._by_item.get(item_id, [])

    def item(self, item_id: str) -> ItemState:
        return self.items.get(item_id) or ItemState(item_id)

    def answer(self, question_id: str) -> AnswerState:
        return self.answers.get(question_id) or AnswerState(question_id)

    def progress(self) -> Progress:
        return Progress(
            findings=self.present,
            triaged=self.present - self.untriaged,
            items=len(self.checklist.items),
            items_done=sum(1 for i in self.items.values() if i.verdict != Verdict.UNREVIEWED),
            questions=len(self.checklist.questions),
            answered=sum(1 for a in self.answers.values() if a.text.strip()),
        )

    def history(self, target: str):
        return self.store.events(self.info.id, target)

    # -- acting: each call is one committed transaction ------------------------------------

    def keep(self, state: FindingState) -> FindingState:
        """A finding's new state (written, or a colleague's read back): the counts and its item's
        order follow it, without going over all findings (a key press pays for one)."""
        old = self.findings.get(state.fingerprint)
        if old is not None:
            self._tally(old, -1)
        self._tally(state, 1)
        self.findings[state.fingerprint] = state
        if self._by_item is not None:
            found = [f for f in self._by_item.get(state.item_id, []) if f.fingerprint != state.fingerprint]
            found.append(state)
            found.sort(key=_item_order)  # severity and state decide the order
            self._by_item[state.item_id] = found
        return state

    def decided(self, fingerprint: str, disposition: Disposition, reason: str | None = None) -> FindingState | None:
        """The finding as confirm(), dismiss() or downgrade() leave it (confirmed or dismissed at the
        reported severity, downgraded one step below the present one; no second look wanted), to
        show before the store has written it. None when the store will refuse it (a downgrade of
        an info): the refusal is then said at once."""
        f = self.findings[fingerprint]
        severity = f.original_severity
        if disposition == Disposition.DOWNGRADED:
            severity = f.severity.lower()
            if severity == f.severity:
                return None
        return replace(f, disposition=disposition, severity=severity, dismiss_reason=reason, needs_second_look=False)

    def confirm(self, fingerprint: str, note: str | None = None) -> FindingState:
        return self.keep(self.store.set_disposition(
            self.info.id, fingerprint, Disposition.CONFIRMED, self.reviewer, note=note,
            expected_version=self.findings[fingerprint].version,
        ))

    def downgrade(self, fingerprint: str, note: str | None = None) -> FindingState:
        return self.keep(self.store.downgrade(
            self.info.id, fingerprint, self.reviewer, note=note, expected_version=self.findings[fingerprint].version
        ))

    def dismiss(self, fingerprint: str, reason: str, note: str | None = None) -> FindingState:
        return self.keep(self.store.set_disposition(
            self.info.id, fingerprint, Disposition.DISMISSED, self.reviewer, reason=reason, note=note,
            expected_version=self.findings[fingerprint].version,
        ))

    def reopen(self, fingerprint: str) -> FindingState:
        """Back to untriaged (severity as reported), as an event in the history."""
        return self.keep(self.store.set_disposition(
            self.info.id, fingerprint, Disposition.UNTRIAGED, self.reviewer,
            expected_version=self.findings[fingerprint].version,
        ))

    def undo(self) -> str:
        """Undo this reviewer's last action (UndoError says why not); what was undone, in words."""
        said = self.store.undo(self.info.id, self.reviewer)
        self.reload()
        return said

    def annotate(self, fingerprint: str, text: str) -> FindingState:
        return self.keep(self.store.annotate(self.info.id, fingerprint, self.reviewer, text))

    def set_verdict(self, item_id: str, verdict: Verdict, notes: str | None = None) -> ItemState:
        state = self.store.set_verdict(self.info.id, item_id, verdict, self.reviewer, notes)
        self.items[item_id] = state
        return state

    def set_verdicts(self, item_ids: list[str], verdict: Verdict, notes: str | None = None) -> list[ItemState]:
        """One verdict and one note for several items: one action."""
        states = self.store.set_verdicts(self.info.id, item_ids, verdict, self.reviewer, notes)
        self.items.update((state.item_id, state) for state in states)
        return states

    def set_answer(self, question_id: str, text: str) -> AnswerState:
        state = self.store.set_answer(self.info.id, question_id, text, self.reviewer)
        self.answers[question_id] = state
        return state

    def mark_read(self, path: str) -> None:
        if path not in self.docs_read:
            self.store.mark_doc_read(self.info.id, path, self.reviewer)
            self.docs_read.add(path)

    def bulk(self, fingerprints: list[str], disposition: Disposition, reason: str | None = None, note: str | None = None):
        """One decision and one note for several findings, in one transaction."""
        for state in self.store.bulk_set_disposition(self.info.id, fingerprints, disposition, self.reviewer, reason=reason, note=note):
            self.keep(state)

    # -- the selection for bulk triage ----------------------------------------------------------

    def toggle_mark(self, fingerprint: str) -> None:
        self.marked.symmetric_difference_update({fingerprint})

    def mark_rule(self, rule_id: str) -> None:
        """Every open finding of a rule."""
        self.marked.update(f.fingerprint for f in self.findings.values() if f.rule_id == rule_id and f.is_open)

    def targets(self, selected: str | None) -> list[str]:
        """What a decision applies to: the marked findings, else the selected one."""
        if self.marked:
            return sorted(self.marked)
        return [selected] if selected in self.findings else []

    def changes(self):
        """Events written since this handle last looked (by anyone, in any process)."""
        events = self.store.changes_since(self.info.id, self.last_event)
        if events:
            self.last_event = events[-1].id
        return events

    def save_cursor(self, cursor: str) -> None:
        self.store.set_cursor(self.info.id, self.reviewer, cursor)

    def leave(self) -> None:
        self.store.leave(self.info.id, self.reviewer)

    def saved_cursor(self) -> str | None:
        mine = self.store.cursors(self.info.id).get(self.reviewer)
        return mine[0] if mine else None

    def apply_scan(self, result: ScanResult) -> ScanDiff:
        """Match a new scan to the saved findings (safe to call from a worker thread: store only)."""
        return self.store.apply_scan(self.info.id, result, self.reviewer, commit=git_commit(self.repo))


# git on a repository under review runs nothing of the repository's: not its fsmonitor, hooks, pager,
# external diff, textconv or filter commands (set in its .git/config), nor the machine's or user's config.
_GIT_SAFE = ("-c", "core.fsmonitor=", "-c", "core.hooksPath=/dev/null", "-c", "core.pager=cat", "--no-pager")
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0", "GIT_PAGER": "cat", "PAGER": "cat",
}
_DIFFS = {"diff", "log", "show"}  # commands that would run an external diff or a textconv


def _git(repo: Path, *args: str) -> str | None:
    """What a git command prints in the repository; None when it is no git work tree (never fatal)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | _GIT_ENV
    base = ["git", *_GIT_SAFE, "-C", str(repo)]
    if args[0] in _DIFFS:
        args = (args[0], "--no-ext-diff", "--no-textconv", *args[1:])
    try:
        # Filter drivers are named by the repository: each one found is emptied for the real call.
        found = subprocess.run([*base, "config", "--name-only", "--get-regexp", r"^filter\."], capture_output=True,
                               text=True, timeout=10, check=False, env=env)
        unset = [arg for key in sorted(set(found.stdout.split())) for arg in ("-c", f"{key}=")]
        out = subprocess.run([*base[:1], *unset, *base[1:], *args], capture_output=True, text=True, timeout=10,
                             check=False, env=env, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_refusal(repo: Path) -> str | None:
    """Why git refuses to read a checkout it can see, in words; None when it reads it, or when the
    folder is simply no git checkout. (git refuses a checkout that belongs to another account.)"""
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode == 0 or "dubious ownership" not in out.stderr:
        return None
    return (
        f"git refuses to read {repo}: it belongs to another account (git calls it \"dubious ownership\"), so "
        "the review cannot record its commit or count the files changed since. The owner's review is not "
        f"affected; to let git read it for you: git config --global --add safe.directory {repo}"
    )


def git_commit(repo: Path) -> str | None:
    """The commit the repository is at."""
    return (_git(repo, "rev-parse", "HEAD") or "").strip() or None


def files_changed_since(repo: Path, commit: str | None) -> int | None:
    """Files that differ from `commit` (None when unknowable, or when `commit`, read back from the
    session file, is not a commit id)."""
    if not commit or not re.fullmatch(r"[0-9a-f]{7,64}", commit):
        return None
    out = _git(repo, "diff", "--name-only", commit, "--")
    return None if out is None else len(out.splitlines())


class RevisionError(Exception):
    """A revision that cannot be compared with: one line saying why."""


def changed_since(repo: Path, rev: str) -> set[str]:
    """The files of `repo` (paths relative to it) that differ from the commit `rev`: committed since,
    staged, unstaged, or new and not ignored. RevisionError when `repo` is no git checkout or has
    no such commit (a shallow clone lacks older ones)."""
    if _git(repo, "rev-parse", "--show-toplevel") is None:
        raise RevisionError(f"--since {rev}: {repo} is not in a git checkout")
    if _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}") is None:
        raise RevisionError(
            f"--since {rev}: no such commit in this clone (a shallow CI checkout has only the last commit: fetch more "
            "history, e.g. actions/checkout with fetch-depth: 0)"
        )
    diff = _git(repo, "diff", "--name-only", "--relative", "--end-of-options", rev, "--")
    new = _git(repo, "ls-files", "--others", "--exclude-standard")
    if diff is None or new is None:
        raise RevisionError(f"--since {rev}: git could not list the files changed since it")
    return {line for line in (diff + new).splitlines() if line}

