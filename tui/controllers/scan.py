"""The scan in a worker thread: progress, findings as the rules produce them, then the review
matched to the new scan. The thread only posts messages, and asks the screen for the review to
match to (review_to_match: a scan started before the store has made the review waits for it there);
the screen decides what they show.

While the new scan is matched to the saved findings (a finding whose code moved gets a new
fingerprint), and until the screen has the matched review, `matching` is set: a decision taken then
would aim at a fingerprint that is about to change, so the screen holds it (holding `lock` while it
checks and writes, so that matching cannot start under a write) and makes it once matched."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from analyzers.findings import Finding
from tui.about import Place, about
from tui.reports.sanitize import one_line
from tui.review import Review, files_changed_since, git_refusal


class ScanController:
    @dataclass
    class Progressed(Message):
        done: int
        total: int

    @dataclass
    class FindingsFound(Message):
        findings: list[Finding]

    @dataclass
    class Matching(Message):
        """The scan is done; its findings are being matched to the saved ones."""

    @dataclass
    class Finished(Message):
        summary: str  # "scanned 41 files: 80 new, ..." for the status line
        docs: list[str]  # the documents the scan found, relative to the repository
        changed: str | None  # what moved since the review was last saved, when anything did
        about: dict[str, list[Place]]  # item id -> the code it is about, as this scan located it
        git_refused: str | None = None  # why git would not read the checkout (another account's)

    def __init__(self, screen: Screen, review: Review, cache_dir: Path | None) -> None:
        self.screen, self.review, self.cache_dir = screen, review, cache_dir
        self.lock = threading.Lock()
        self.matching = False  # set here, cleared by the screen once it has reloaded the matched review

    def start(self) -> None:
        self.screen.run_worker(self._run, thread=True, exclusive=True, group="scan", exit_on_error=False, name="scan")

    def _run(self) -> None:
        from analyzers.engine import scan
        from analyzers.settings import Settings, SettingsError, load_settings

        worker = get_current_worker()
        post = self.screen.post_message
        try:
            settings = load_settings(self.review.repo)
        except SettingsError as exc:  # someone else's typo must not block a review: say so, use the defaults
            settings = Settings()
            message = f"{one_line(str(exc))}. Scanning with the default settings."
            self.screen.app.call_from_thread(
                self.screen.notify, message, title="Settings not used", severity="warning", timeout=15, markup=False
            )
        result = scan(
            self.review.repo,
            settings=settings,
            cache_dir=self.cache_dir,
            progress=lambda _stage, done, total: post(self.Progressed(done, total)),
            on_findings=lambda found: post(self.FindingsFound(found)),
            is_cancelled=lambda: worker.is_cancelled,
        )
        if worker.is_cancelled:
            return
        self.review = self.screen.app.call_from_thread(self.screen.review_to_match)
        before = self.review.info.commit
        had_findings = bool(self.review.findings)
        with self.lock:
            self.matching = True
        post(self.Matching())
        diff = self.review.apply_scan(result.result)
        errors = len(result.result.errors)
        summary = f"scanned {result.result.files_scanned} files: {diff}"
        if errors:
            summary += f" · {errors} scan error(s)"
        changed = None
        if had_findings and (diff.moved or diff.edited or diff.resolved or diff.new or diff.regressed):
            files = files_changed_since(self.review.repo, before)
            lead = f"{files} files changed since this review was last saved; " if files is not None else ""
            changed = f"{lead}{diff.moved + diff.edited} findings moved, {diff.resolved} resolved, {diff.new + diff.regressed} new"
        located = about(self.review.checklist, result.facts)
        refused = git_refusal(self.review.repo)  # this account's git, whatever commit a colleague's recorded
        post(self.Finished(summary, [d.path for d in result.facts.docs], changed, located, refused))
