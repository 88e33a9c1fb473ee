"""A context document, rendered, with the lines a checklist item cites marked and in view.

Rendered by Rich as three blocks (before, cited, after), not by Textual's Markdown widget: that one
makes a widget per paragraph, row and cell, and a document of a few tables took seconds to show,
while the keys a reviewer typed waited. The cut is at blank lines around the cited lines, so no
paragraph, list or table is split."""

from __future__ import annotations

from rich.markdown import Markdown
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.reports.sanitize import printable


class MarkdownView(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    MarkdownView > Static { padding: 0 1; }
    MarkdownView > .-cited { background: $warning 15%; border-left: thick $warning; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path: str | None = None
        self.cited: tuple[int, int] | None = None
        self._shown: tuple[str, int] | None = None  # (path, hash of its text): nothing to do again

    def compose(self):
        yield Static(id="before")
        yield Static(id="cited")
        yield Static(id="after")

    async def show(self, path: str, text: str, cited: tuple[int, int] | None = None) -> None:
        """Render `text`, the 1-based `cited` lines (widened to whole blocks) marked and in view."""
        self.path, self.cited = path, cited
        if self._shown != (path, hash(text)):
            self._shown = (path, hash(text))
            lines = printable(text).split("\n")
            start, end = _blocks(lines, cited) if cited else (len(lines), len(lines))
            for name, part in (("before", lines[:start]), ("cited", lines[start:end]), ("after", lines[end:])):
                block = self.query_one(f"#{name}", Static)
                block.update(Markdown("\n".join(part)) if part else "")
                block.display = bool(part)
            self.query_one("#cited").set_class(bool(cited), "-cited")
        if cited:
            self.call_after_refresh(self.scroll_to_widget, self.query_one("#cited"), top=True, animate=False)
        else:
            self.scroll_home(animate=False)


def _blocks(lines: list[str], cited: tuple[int, int]) -> tuple[int, int]:
    """0-based [start, end) of the cited lines, widened out to the blank lines around them."""
    start, end = max(0, cited[0] - 1), min(len(lines), cited[1])
    while start < end - 1 and not lines[start].strip():  # a citation that starts on a blank line
        start += 1
    while start > 0 and lines[start - 1].strip():
        start -= 1
    while end < len(lines) and lines[end].strip():
        end += 1
    return start, end
