"""A context document, rendered, with the lines a checklist item cites marked and in view."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown

from tui.reports.sanitize import printable


class MarkdownView(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    MarkdownView Markdown { padding: 0 1; }
    MarkdownView .-cited { background: $warning 15%; border-left: thick $warning; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path: str | None = None
        self.cited: tuple[int, int] | None = None

    def compose(self):
        yield Markdown()

    async def show(self, path: str, text: str, cited: tuple[int, int] | None = None) -> None:
        """Render `text`; blocks overlapping the 1-based `cited` lines get the -cited class."""
        self.path, self.cited = path, cited
        markdown = self.query_one(Markdown)
        await markdown.update(printable(text))
        first = None
        if cited:
            start, end = cited[0] - 1, cited[1]  # markdown-it counts from 0, end exclusive
            for block in markdown.children:
                b_start, b_end = getattr(block, "source_range", (0, 0))
                if b_start < end and b_end > start:
                    block.add_class("-cited")
                    first = first or block
        if first is not None:
            self.call_after_refresh(self.scroll_to_widget, first, top=True, animate=False)
        else:
            self.scroll_home(animate=False)
