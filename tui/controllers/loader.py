"""What the first screen is drawn without, loaded right after it in a worker thread while the
reviewer already reads and moves around the review (read through tui.session.reading):

- the store: SQLAlchemy and its engine, ~150-200 ms; for a new review, or a file an older dbreview
  wrote, Alembic and the migrations too. A write asked for before then waits for it, then lands
  where it was aimed; nothing is written through anything else but the cursor (tui.session.reading).
- the rules' documentation (title, why, instead), which imports every rule and the facts they
  read, ~100 ms: the finding's detail shows it once it is there.
- the dialogs (Textual's TextArea and Input), so that the first note or dismissal does not wait for
  their import.

Then the screen freezes what is alive out of the garbage collector's reach (`Loaded`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message
from textual.screen import Screen

if TYPE_CHECKING:
    from tui.session import ReviewStore


class Loader:
    @dataclass
    class StoreOpened(Message):
        """The store is open, or could not be opened: store() says which."""

    @dataclass
    class RulesRead(Message):
        """rule_info() answers at once from now on."""

    @dataclass
    class Loaded(Message):
        """All of it is loaded: what is alive now lives as long as the app."""

    def __init__(self, screen: Screen, db_path: Path, clock: Callable[[], datetime] | None) -> None:
        self.screen, self.db_path, self.clock = screen, db_path, clock
        self._store: Future[ReviewStore] = Future()
        self._opening = threading.Lock()  # whoever takes it first opens the store: the worker, or a write

    def start(self) -> None:
        self.screen.run_worker(self._run, thread=True, exclusive=True, group="load", exit_on_error=False, name="load")

    def _run(self) -> None:
        if self._open():
            self.screen.post_message(self.StoreOpened())
        from analyzers.rules import rule_infos

        rule_infos()
        self.screen.post_message(self.RulesRead())
        import tui.screens.dialogs  # noqa: F401

        self.screen.post_message(self.Loaded())

    def _open(self) -> bool:
        """Open the store here, unless it is being opened (or was) elsewhere: False then."""
        if not self._opening.acquire(blocking=False):
            return False
        try:
            from tui.session import ReviewStore

            self._store.set_result(ReviewStore.open(self.db_path, clock=self.clock))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits, in the app's thread
            self._store.set_exception(exc)
        return True

    def store(self) -> ReviewStore:
        """The store, waited for while the worker opens it, or opened here if the worker has not
        started yet (a write, or the app closing, before the first frame was drawn): never a wait
        for a worker that may not run. SessionStoreError when it cannot be opened."""
        self._open()
        return self._store.result()
