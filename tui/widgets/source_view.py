"""The right pane's lower half: the source with line numbers, syntax colours and the evidence lines
marked; or, for a node that holds others, an overview of what it holds (one line each).

One widget draws either, so that going between a finding and its section repaints this pane: two
widgets that take turns (Textual's ContentSwitcher changes `display`) lay out the whole screen, and
so does a scrollbar that comes or goes, so the vertical one is always there and an overview keeps
the horizontal one as the code had it.

Only visible lines are drawn (render_line with a cache), and only they are made into Text: a file shows
at once in plain text (a 7,000-line file costs a split, not 7,000 Text objects) and gets its colours
from a worker, and the last files' colours are kept for going back.
Source under review is untrusted: every control character is shown as a visible placeholder."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

from rich.cells import cell_len
from rich.console import RenderableType
from rich.padding import Padding
from rich.segment import Segment
from rich.text import Text
from textual import work
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui import keymap
from tui.widgets.content_size import set_content_size
from tui.reports.sanitize import printable

MAX_HIGHLIGHT_BYTES = 1_000_000  # beyond this, plain text: highlighting a huge file would stall the UI
COLOUR_AFTER = 0.12  # seconds the cursor rests on a file before it is coloured (not while moving fast)


class SourceView(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"source--gutter", "source--evidence", "source--evidence-gutter", "source--empty"}
    BINDINGS = keymap.bindings(keymap.SOURCE)
    DEFAULT_CSS = """
    SourceView > .source--gutter { color: $text-muted; }
    SourceView > .source--evidence { background: $warning 25%; }
    SourceView > .source--evidence-gutter { color: $warning; text-style: bold; }
    SourceView > .source--empty { color: $text-muted; text-style: italic; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path: str | None = None
        self._lines = _Lines([])
        self._evidence = (0, -1)
        self._scroll_wanted: int | None = None  # the first line to show, until the screen is laid out
        self._message = "Select a finding to see its code."
        self._syntax_theme = "ansi_dark"
        self._colour_timer = None
        self.overview: RenderableType | None = None  # shown in place of the code, until show() or show_message()
        self._overview_strips: list[Strip] = []
        self._overview_width = 0
        self._ahead: tuple[str, str, int, int] | None = None  # what prefetch made last

    @property
    def showing(self) -> str:
        """"source" (the code, or a message in its place) or "overview"."""
        return "source" if self.overview is None else "overview"

    def show_overview(self, renderable: RenderableType) -> None:
        """An overview in place of the code; the code's file stays loaded for going back to it.
        Rows are rendered as they come into view; anything else whole, at once."""
        self.overview = renderable
        self._render_overview()
        self.scroll_to(0, 0, animate=False)

    def _render_overview(self) -> None:
        width = self.scrollable_content_region.width
        self._overview_width = width
        if not width:  # not laid out yet: on_resize renders it
            return
        self._row_strip.cache_clear()
        if isinstance(self.overview, Rows):
            self._overview_strips, height = [], len(self.overview.rows)
        else:
            self._overview_strips = [Strip(line, width) for line in self._render_lines(self.overview, width)]
            height = len(self._overview_strips)
        # The width as the code had it: its horizontal scrollbar neither comes nor goes (a layout).
        set_content_size(self, Size(self.virtual_size.width, height))
        self.refresh()

    def _render_lines(self, renderable: RenderableType, width: int, **options) -> list[list[Segment]]:
        console = self.app.console
        return console.render_lines(Padding(renderable, (0, 1)), console.options.update(width=width, **options), style=self.rich_style, pad=True)

    @lru_cache(maxsize=256)
    def _row_strip(self, number: int, width: int) -> Strip:
        row = self.overview.rows[number]
        return Strip(self._render_lines(row, width, no_wrap=True, overflow="ellipsis")[0], width)

    def show_message(self, message: str) -> None:
        self.path, self._lines, self._message, self.overview = None, _Lines([]), message, None
        self._evidence = (0, -1)
        set_content_size(self, Size(0, 1))
        self.refresh()

    def show(self, path: str, source: str, start: int = 0, end: int = -1) -> None:
        """Show `source` (the file at `path`) with lines start..end (1-based) marked and in view."""
        self.overview = None
        if path != self.path:
            self.path = path
            key = (path, hash(source))
            self._lines = _lines(key, source)
            if _HIGHLIGHTED.get(key) is None:  # plain at once; colours from a worker once the cursor rests
                if self._colour_timer is not None:
                    self._colour_timer.stop()
                self._colour_timer = self.set_timer(COLOUR_AFTER, lambda: self._colour(path, source, key))
        self._evidence = (start, end if end >= start else start)
        self.scroll_to(x=0, animate=False)  # each finding starts at the left edge, where its line starts
        set_content_size(self, Size(self._lines.width + self._gutter_width + 1, len(self._lines)))
        self.refresh()
        self._scroll_wanted = max(0, start - 4) if start else None
        self.scroll_to_evidence()  # the new size is in place: in this frame, not the next

    def prefetch(self, path: str, source: str, start: int, end: int = -1) -> None:
        """The lines `show` would draw for these arguments, made ahead (while the app is idle) so
        that the key that shows them draws them from the cache: ~0.2 ms a line, a pane a key."""
        width, height = self.scrollable_content_region.width, self.scrollable_content_region.height
        if not width:
            return
        self._ahead = (path, source, start, end)
        lines = _lines((path, hash(source)), source)
        evidence = (start, end if end >= start else start)
        top = min(max(0, start - 4), max(0, len(lines) - height))  # where show scrolls to
        for number in range(top + 1, min(len(lines), top + height) + 1):
            self._line_strip(lines, evidence, number, 0, width)

    def scroll_to_evidence(self) -> None:
        """The marked lines in view, once this view has a size: just shown in place of the overview,
        or under the palette that jumped here, it has none yet and scrolling would do nothing."""
        if self._scroll_wanted is not None and self.size.height:
            self.scroll_to(y=self._scroll_wanted, animate=False)
            self._scroll_wanted = None

    def on_resize(self) -> None:
        if self.overview is not None and self.scrollable_content_region.width != self._overview_width:
            self._render_overview()
        self.scroll_to_evidence()

    def action_scroll_left(self) -> None:
        self.scroll_relative(x=-self._sideways_step, animate=False)

    def action_scroll_right(self) -> None:
        self.scroll_relative(x=self._sideways_step, animate=False)

    @property
    def _sideways_step(self) -> int:
        """Half the code's width: two presses cross a long line, and half of what was in view stays."""
        return max(4, (self.scrollable_content_region.width - self._gutter_width) // 2)

    @work(thread=True, exclusive=True, group="highlight")
    def _colour(self, path: str, source: str, key: tuple[str, int]) -> None:
        lines = _HIGHLIGHTED.put(key, _highlight(path, source, self._syntax_theme))
        self.app.call_from_thread(self._coloured, path, lines)

    def _coloured(self, path: str, lines: _Lines) -> None:
        if path == self.path:
            self._lines = lines
            self.refresh()
            if self._ahead is not None and self._ahead[0] == path:  # made ahead in plain text: in colour now
                self.prefetch(*self._ahead)

    @property
    def _gutter_width(self) -> int:
        return _gutter_width(self._lines)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self.overview is not None:  # drawn at the pane's width, whatever the code's scroll
            number = int(self.scroll_offset.y) + y
            if isinstance(self.overview, Rows) and number < len(self.overview.rows):
                return self._row_strip(number, width)
            return self._overview_strips[number] if number < len(self._overview_strips) else Strip.blank(width, self.rich_style)
        if not len(self._lines):
            style = self.get_component_rich_style("source--empty")
            return Strip([Segment(f" {self._message}"[:width].ljust(width), style)]) if y == 0 else Strip.blank(width)
        number = int(self.scroll_offset.y) + y + 1
        if number > len(self._lines):
            return Strip.blank(width)
        return self._line_strip(self._lines, self._evidence, number, int(self.scroll_offset.x), width)

    @lru_cache(maxsize=512)
    def _line_strip(self, lines: _Lines, evidence: tuple[int, int], number: int, scroll_x: int, width: int) -> Strip:
        """A line as drawn; by file (its lines object: plain, then coloured) and evidence, so that
        lines made ahead (prefetch) or seen a moment ago are not made again."""
        start, end = evidence
        marked = start <= number <= end
        gutter_width = _gutter_width(lines)
        gutter_style = self.get_component_rich_style("source--evidence-gutter" if marked else "source--gutter")
        mark = "▸" if marked else " "
        gutter = Segment(f"{number:>{gutter_width - 3}} {mark} ", gutter_style)
        code = Strip(list(lines[number - 1].render(self.app.console)))
        code = code.crop(scroll_x, scroll_x + width - gutter_width)
        if marked:
            code = code.apply_style(self.get_component_rich_style("source--evidence"))
            code = code.extend_cell_length(width - gutter_width, self.get_component_rich_style("source--evidence"))
        return Strip([gutter, *code]).simplify()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_strip.cache_clear()
        if self.overview is not None and self.is_mounted:
            self._render_overview()


class Rows:
    """An overview of one line per row (a section's items, a fold's findings): the pane renders only
    the rows in view, each cut to its width with an ellipsis (a Table of 43 rows took ~40 ms to render
    whole before the frame); printed elsewhere, the rows whole."""

    def __init__(self, rows: list[Text]) -> None:
        self.rows = rows

    def __rich_console__(self, console, options):
        yield from self.rows


class _Cache:
    """The last few files' lines: going back to a file costs nothing."""

    def __init__(self, size: int = 16) -> None:
        self.size, self.items = size, OrderedDict()

    def get(self, key):
        if key in self.items:
            self.items.move_to_end(key)
        return self.items.get(key)

    def put(self, key, value):
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


_HIGHLIGHTED = _Cache()
_PLAIN = _Cache()  # the last files passed by without a rest: n across files splits each once


class _Lines:
    """A file's lines as the view draws them: plain until coloured, and a plain line's Text made only
    when it is drawn."""

    def __init__(self, plain: list[str], coloured: list[Text] | None = None) -> None:
        self.plain, self.coloured = plain, coloured
        self.width = max((len(line) if line.isascii() else cell_len(line) for line in plain), default=0)  # ASCII: a cell a character

    def __len__(self) -> int:
        return len(self.plain)

    def __getitem__(self, index: int) -> Text:
        return self.coloured[index] if self.coloured is not None else Text(self.plain[index])


def _lines(key: tuple[str, int], source: str) -> _Lines:
    """A file's lines, coloured if they were before, else plain (split once: _PLAIN)."""
    lines = _HIGHLIGHTED.get(key) or _PLAIN.get(key)
    return lines if lines is not None else _PLAIN.put(key, _Lines(_plain(source)))


def _gutter_width(lines: _Lines) -> int:
    return len(str(len(lines))) + 3


def _plain(source: str) -> list[str]:
    """The lines as _highlight colours them (no trailing empty line), control characters shown."""
    return printable(source.expandtabs(4)).rstrip().split("\n")


def _highlight(path: str, source: str, theme: str) -> _Lines:
    plain = _plain(source)
    if len(source) > MAX_HIGHLIGHT_BYTES:
        return _Lines(plain)
    from rich.syntax import Syntax  # pygments: loaded by the first colouring, in its worker

    shown = "\n".join(plain)
    text = Syntax(shown, _lexer(path), theme=theme, word_wrap=False).highlight(shown)
    text.rstrip()
    coloured = text.split("\n", allow_blank=True)
    return _Lines(plain, coloured if len(coloured) == len(plain) else None)


# The files a review shows; pygments' own lookup loads every lexer plugin first (~150 ms).
_LEXERS = {".py": "python", ".pyi": "python", ".sql": "postgresql", ".md": "markdown", ".toml": "toml",
           ".ini": "ini", ".cfg": "ini", ".mako": "mako", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def _lexer(path: str) -> str:
    """The lexer by file name; guessing from content tries every lexer and is slow."""
    suffix = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in _LEXERS:
        return _LEXERS[suffix]
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        return get_lexer_for_filename(path).aliases[0]
    except (ClassNotFound, IndexError):
        return "text"
