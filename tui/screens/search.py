"""`/`: one search over the checklist, the findings, and every text file of the repository within
the scan's own limits (its excludes and skipped folders, its size limit, no binary file, no link
that leads out of the repository). Files are read in a worker, once, as the search needs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from tui import keymap, untrusted
from tui.labels import plain
from tui.review import Review

MAX_RESULTS = 60
SNIFF_BYTES = 8192  # a NUL byte in the first 8 KiB: a binary file, not searched
TYPING_PAUSE = 0.15  # seconds after the last key before a search starts


@dataclass(frozen=True, slots=True)
class Hit:
    target: str  # a tree node id, or "source:<path>:<line>"
    text: str


class RepositoryText:
    """The repository's text files as the search sees them: listed by the scan's own walk, each
    read once (None: binary, too big, unreadable, or a link out of the repository)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._files: list[str] | None = None
        self._lines: dict[str, list[str] | None] = {}

    def files(self, first: list[str]) -> list[str]:
        """Every file, those in `first` (the findings' files) first."""
        if self._files is None:
            from analyzers.discover import TargetError, discover
            from analyzers.settings import Settings, SettingsError

            try:
                try:
                    self._files = discover(self.root).files
                except SettingsError:  # the app has said so already; search as the scan did
                    self._files = discover(self.root, Settings()).files
            except TargetError:
                self._files = []
        ahead = [p for p in dict.fromkeys(first) if p in set(self._files)]
        return ahead + [p for p in self._files if p not in set(ahead)]

    def lines(self, rel: str) -> list[str] | None:
        if rel not in self._lines:
            self._lines[rel] = self._read(rel)
        return self._lines[rel]

    def _read(self, rel: str) -> list[str] | None:
        from analyzers import confine
        from analyzers.discover import MAX_FILE_BYTES, decode

        try:  # through the one reader: a link swapped in since the walk cannot lead out, a FIFO cannot block
            data = confine.read_bytes(str(self.root), rel, limit=MAX_FILE_BYTES)
        except OSError:
            return None
        if b"\0" in data[:SNIFF_BYTES]:
            return None
        return decode(data).splitlines()


def search(review: Review, query: str, text: RepositoryText, is_cancelled: Callable[[], bool] = lambda: False) -> tuple[list[Hit], int]:
    """Case-insensitive substring search: items and questions, findings, then the repository's
    text files (the findings' files first). Returns the hits and how many files were searched."""
    q = query.lower().strip()
    if len(q) < 2:
        return [], 0
    hits: list[Hit] = []
    for item in review.checklist.items:
        if q in item.text.lower() or q == item.id:
            hits.append(Hit(f"item:{item.id}", f"item {item.id} {plain(item.text)}"))
    for question in review.checklist.questions:
        if q in question.text.lower():
            hits.append(Hit(f"question:{question.id}", f"{question.id} {plain(question.text)}"))
    for f in review.findings.values():
        if q in f.message.lower() or q in f.location.lower() or q == f.rule_id.lower():
            hits.append(Hit(f"finding:{f.fingerprint}", f"{f.rule_id} {f.location} {f.message}"))
    searched = 0
    for path in text.files(sorted({f.path for f in review.findings.values()})):
        if len(hits) >= MAX_RESULTS or is_cancelled():
            break
        lines = text.lines(path)
        if lines is None:
            continue
        searched += 1
        for number, line in enumerate(lines, 1):
            if q in line.lower():
                hits.append(Hit(f"source:{path}:{number}", f"{path}:{number}  {line.strip()}"))
                if len(hits) >= MAX_RESULTS:
                    break
    return hits[:MAX_RESULTS], searched


class SearchScreen(ModalScreen[str | None]):
    BINDINGS = keymap.bindings(keymap.SEARCH)

    def __init__(self, review: Review, text: RepositoryText, mask: Callable[[str], str] | None = None) -> None:
        """`mask`: what hides secrets in the results while someone else is in the review."""
        super().__init__()
        self.review, self.text = review, text
        self.mask = mask or (lambda shown: shown)
        self._timer = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide tall"):
            yield Label("Search the checklist, the findings and the repository's files", classes="dialog-title")
            keys = self.app.keys
            yield Input(placeholder=f"type at least 2 characters, {keymap.hint('search.results', keys)} to the results, enter to go", id="query")
            yield OptionList(id="results")

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(TYPING_PAUSE, lambda: self._search(event.value))

    @work(thread=True, exclusive=True, group="search")
    def _search(self, query: str) -> None:
        worker = get_current_worker()
        hits, searched = search(self.review, query, self.text, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, query, hits, searched)

    def _show(self, query: str, hits: list[Hit], searched: int) -> None:
        try:
            results = self.query_one(OptionList)
        except NoMatches:  # closed while the search ran
            return
        results.clear_options()
        if hits:
            results.add_options(Option(untrusted.line(self.mask(h.text)[:200]), id=h.target) for h in hits)
        elif len(query.strip()) >= 2:
            said = f"Nothing matches {query.strip()!r} in the checklist, the findings or the {searched} files searched."
            results.add_option(Option(untrusted.line(said), disabled=True))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        results = self.query_one(OptionList)
        option = results.get_option_at_index(results.highlighted or 0) if results.option_count else None
        if option is not None and not option.disabled:
            self.dismiss(option.id)

    def action_results(self) -> None:
        results = self.query_one(OptionList)
        results.focus()
        if results.highlighted is None and results.option_count:
            results.highlighted = 0  # on the first result, as enter in the query would take it

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
