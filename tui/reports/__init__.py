"""Reports of a review: Markdown for people (the seed prompt's Output Format), SARIF 2.1.0 for
code-scanning tools, JSON for the whole session. Pure functions of a checklist and a snapshot; no
Textual, no clock, the same text for the same review."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from tui.reports.sanitize import printable

if TYPE_CHECKING:
    from analyzers.checklist import Checklist
    from tui.session.state import ReviewSnapshot

FORMATS = ("markdown", "sarif", "json")
EXTENSIONS = {"markdown": ".md", "sarif": ".sarif", "json": ".json"}

# Loaded on first use: the app imports this package for printable() and must start fast.
_RENDERERS = {
    "markdown": ("tui.reports.markdown", "render_markdown"),
    "sarif": ("tui.reports.sarif", "render_sarif"),
    "json": ("tui.reports.json_report", "render_json"),
}


def __getattr__(name: str):
    for module, function in _RENDERERS.values():
        if name == function:
            return getattr(importlib.import_module(module), function)
    raise AttributeError(name)


def render(fmt: str, checklist: Checklist, snapshot: ReviewSnapshot) -> str:
    """The review in one of FORMATS; ValueError for any other."""
    try:
        module, function = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}") from None
    return getattr(importlib.import_module(module), function)(checklist, snapshot)


__all__ = ["EXTENSIONS", "FORMATS", "printable", "render", "render_json", "render_markdown", "render_sarif"]
