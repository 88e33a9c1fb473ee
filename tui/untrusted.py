"""The one way text from the repository, the session file or a reviewer reaches the screen: as Rich
Text or Textual Content, never parsed as markup (a file named `d[x/m=alert(1)>.py` is a name, not a
style), with every control, bidirectional and zero-width character shown as a visible placeholder
(tui.reports.sanitize), so nothing in it can act on the terminal or pass for something else."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.fuzzy import Matcher

from tui.reports.sanitize import one_line, printable


def text(value: str, style: str = "") -> Text:
    """Untrusted text, line breaks kept."""
    return Text(printable(value), style)


def line(value: str, style: str = "") -> Text:
    """Untrusted text on one line: a name, a path, a message in a label."""
    return Text(one_line(value), style)


def highlighted(matcher: Matcher, value: str) -> Content:
    """A command palette entry with the letters that match the query marked (Matcher.highlight
    would read `value` as markup)."""
    shown = one_line(value)
    content = Content(shown)
    score, offsets = matcher.fuzzy_search.match(matcher.query, shown)
    if score:
        for offset in offsets:
            if not shown[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
