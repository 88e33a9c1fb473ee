"""Reports of a review: Markdown for people (the seed prompt's Output Format), SARIF 2.1.0 for
code-scanning tools, JSON for the whole session. Pure functions of a checklist and a snapshot; no
Textual, no clock, the same text for the same review."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.reports.json_report import render_json
from tui.reports.markdown import render_markdown
from tui.reports.sanitize import printable
from tui.reports.sarif import render_sarif

if TYPE_CHECKING:
    from analyzers.checklist import Checklist
    from tui.session.state import ReviewSnapshot

FORMATS = ("markdown", "sarif", "json")
EXTENSIONS = {"markdown": ".md", "sarif": ".sarif", "json": ".json"}

_RENDERERS: dict[str, Callable[[Checklist, ReviewSnapshot], str]] = {
    "markdown": render_markdown,
    "sarif": render_sarif,
    "json": render_json,
}


def render(fmt: str, checklist: Checklist, snapshot: ReviewSnapshot) -> str:
    """The review in one of FORMATS; ValueError for any other."""
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}") from None
    return renderer(checklist, snapshot)


__all__ = ["EXTENSIONS", "FORMATS", "printable", "render", "render_json", "render_markdown", "render_sarif"]
