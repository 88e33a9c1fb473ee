"""`/`: one search over the checklist, the findings and the source they point at."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui import keymap, untrusted
from tui.labels import plain
from tui.review import Review

MAX_RESULTS = 60


@dataclass(frozen=True, slots=True)
class Hit:
    target: str  # a tree node id, or "source:<path>:<line>"
    text: str


def search(review: Review, query: str, sources: dict[str, list[str]]) -> list[Hit]:
    """Case-insensitive substring search: items and questions, findings, then source lines."""
    q = query.lower().strip()
    if len(q) < 2:
        return []
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
    for path, lines in sources.items():
        for number, line in enumerate(lines, 1):
            if q in line.lower():
                hits.append(Hit(f"source:{path}:{number}", f"{path}:{number}  {line.strip()}"))
                if len(hits) >= MAX_RESULTS:
                    return hits
    return hits[:MAX_RESULTS]


def searchable_sources(review: Review, read: Callable[[str], str]) -> dict[str, list[str]]:
    """The files the findings point at: what a reviewer searches in (read through the app's cache)."""
    out: dict[str, list[str]] = {}
    for path in sorted({f.path for f in review.findings.values()}):
        try:
            out[path] = read(path).splitlines()
        except OSError:
            continue
    return out


class SearchScreen(ModalScreen[str | None]):
    BINDINGS = keymap.bindings(keymap.SEARCH)

    def __init__(self, review: Review, read: Callable[[str], str]) -> None:
        super().__init__()
        self.review = review
        self.sources = searchable_sources(review, read)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide tall"):
            yield Label("Search the checklist, the findings and their source", classes="dialog-title")
            yield Input(placeholder="type at least 2 characters, ↓ to the results, enter to go", id="query")
            yield OptionList(id="results")

    def on_input_changed(self, event: Input.Changed) -> None:
        results = self.query_one(OptionList)
        results.clear_options()
        results.add_options(Option(untrusted.line(h.text[:200]), id=h.target) for h in search(self.review, event.value, self.sources))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        results = self.query_one(OptionList)
        if results.option_count:
            self.dismiss(results.get_option_at_index(results.highlighted or 0).id)

    def on_key(self, event) -> None:
        if event.key == "down" and self.query_one(Input).has_focus:
            self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
