"""`# dbreview: ignore[RULE, ...] reason`: a decision written in the source, next to the code.

A comment at the end of a statement's first line, or alone on the lines just above it, covers the
whole statement (for a class or a function, everything in it). Without `[...]` it covers every rule.
Read with libcst: comments are not in Python's ast, and libcst knows which statement a comment
belongs to. Only files that have findings and mention "dbreview:" are parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from analyzers.findings import Finding

MARKER = "dbreview:"
_COMMENT = re.compile(r"#\s*dbreview:\s*ignore(?:\[([^\]]*)\])?\s*(.*)$", re.I)


@dataclass(frozen=True, slots=True)
class Suppression:
    rules: frozenset[str]  # empty: every rule
    reason: str
    start: int  # the statement it covers, 1-based
    end: int

    def covers(self, finding: Finding) -> bool:
        overlaps = finding.location.start_line <= self.end and finding.location.end_line >= self.start
        return overlaps and (not self.rules or finding.rule_id in self.rules)


def suppressions(text: str) -> list[Suppression]:
    """Every suppression comment of a module; none when it does not parse (the scan reports that)."""
    if MARKER not in text:
        return []
    try:
        wrapper = MetadataWrapper(cst.parse_module(text))
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return []
    collector = _Collector()
    wrapper.visit(collector)
    return collector.found


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.found: list[Suppression] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        comments = [line.comment for line in getattr(node, "leading_lines", ()) if line.comment]
        trailing = getattr(node, "trailing_whitespace", None)  # a simple statement's own line
        header = getattr(getattr(node, "body", None), "header", None)  # a compound statement's first line
        for ws in (trailing, header):
            if isinstance(ws, cst.TrailingWhitespace) and ws.comment:
                comments.append(ws.comment)
        if comments:
            pos = self.get_metadata(PositionProvider, node, None)
            if pos is not None:
                for comment in comments:
                    match = _COMMENT.search(comment.value)
                    if match:
                        rules = frozenset(r.strip().upper() for r in (match.group(1) or "").split(",") if r.strip())
                        self.found.append(Suppression(rules, match.group(2).strip(), pos.start.line, pos.end.line))
        return True


def apply(findings: list[Finding], source_of) -> list[Finding]:
    """Mark the findings that a comment in their file suppresses; `source_of(path)` gives the text."""
    by_path: dict[str, list[Suppression]] = {}
    out = []
    for f in findings:
        path = f.location.path
        if path not in by_path:
            by_path[path] = suppressions(source_of(path))
        hit = next((s for s in by_path[path] if s.covers(f)), None)
        out.append(replace(f, suppressed=hit.reason or "no reason given") if hit else f)
    return out
