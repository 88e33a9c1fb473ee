"""`dbreview verify` from the app, in a worker thread: a scan of the code as it is now, the proofs on a
throwaway PostgreSQL, both recorded in the review. The thread only posts messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message
from textual.screen import Screen

from tui.review import Review, git_commit


class VerifyController:
    @dataclass
    class Progressed(Message):
        what: str  # "roundtrip 3/20: 5059b27c2936"

    @dataclass
    class Finished(Message):
        outcome: str  # "upgrade head passes; 12 findings proven, 1 refuted"

    @dataclass
    class Refused(Message):
        reason: str  # what the user must change: no PostgreSQL, imports not allowed

    def __init__(self, screen: Screen, review: Review, data_dir: Path) -> None:
        self.screen, self.review, self.data_dir = screen, review, data_dir

    def start(self) -> None:
        self.screen.run_worker(self._run, thread=True, exclusive=True, group="verify", exit_on_error=False, name="verify")

    def _run(self) -> None:
        from analyzers.engine import scan
        from analyzers.settings import SettingsError, load_settings
        from analyzers.verify.result import VerifyError
        from tui.paths import scan_cache_dir
        from tui.proving import record, run_verification

        post = self.screen.post_message
        repo = self.review.repo
        try:
            settings = load_settings(repo)
        except SettingsError:
            settings = None  # the scan controller has said so already
        post(self.Progressed("verify: reading the code"))
        found = scan(repo, settings=settings, cache_dir=scan_cache_dir())
        try:
            done = run_verification(
                repo, found, reviewer=self.review.reviewer, commit=git_commit(repo),
                progress=lambda what: post(self.Progressed(f"verify: {what}")), data_dir=self.data_dir,
            )
        except VerifyError as exc:
            post(self.Refused(str(exc)))
            return
        self.review.apply_scan(found.result)
        record(self.review.store, self.review.info.id, done, self.review.reviewer)
        post(self.Finished(done.state.outcome))
