"""Reports of a review: Markdown for people (the seed prompt's Output Format) and HTML (the same,
with pictures), SARIF 2.1.0 for code-scanning tools, JSON for the whole session, and one line a
finding for CI (GitHub workflow commands, a GitLab Code Quality report). Pure functions of a
checklist and a snapshot; no Textual, no clock, the same text for the same review. Every format
masks secrets (tui/reports/secrets.py)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from tui.reports.sanitize import printable

if TYPE_CHECKING:
    from analyzers.checklist import Checklist
    from tui.session.state import ReviewSnapshot

FORMATS = ("markdown", "html", "sarif", "json", "github", "gitlab")
EXTENSIONS = {"markdown": ".md", "html": ".html", "sarif": ".sarif", "json": ".json", "github": ".txt", "gitlab": ".json"}

# Loaded on first use: the app imports this package for printable() and must start fast.
_RENDERERS = {
    "markdown": ("tui.reports.markdown", "render_markdown"),
    "html": ("tui.reports.html", "render_html"),
    "sarif": ("tui.reports.sarif", "render_sarif"),
    "json": ("tui.reports.json_report", "render_json"),
    "github": ("tui.reports.github", "render_github"),
    "gitlab": ("tui.reports.gitlab", "render_gitlab"),
}
_WITH_PATH_PREFIX = {"github", "gitlab"}  # formats whose paths are the repository's, not the scanned folder's


def __getattr__(name: str):
    for module, function in _RENDERERS.values():
        if name == function:
            return getattr(importlib.import_module(module), function)
    raise AttributeError(name)


def render(fmt: str, checklist: Checklist, snapshot: ReviewSnapshot, *, path_prefix: str = "") -> str:
    """The review in one of FORMATS, secrets masked; ValueError for any other format. `path_prefix`
    (the scanned folder within its repository, "apps/backend/") goes before each path in the
    formats that CI matches against the repository's files."""
    from tui.reports.secrets import masked

    try:
        module, function = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}") from None
    renderer = getattr(importlib.import_module(module), function)
    options = {"path_prefix": path_prefix} if fmt in _WITH_PATH_PREFIX else {}
    return renderer(checklist, masked(snapshot), **options)


__all__ = ["EXTENSIONS", "FORMATS", "printable", "render", "render_json", "render_markdown", "render_sarif"]
