"""Comments with the statement each belongs to, read with libcst (Python's ast drops comments).
Imported only when a file mentions "dbreview:": libcst takes a good 0.1 s to import, more than a
warm scan's whole work."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


def statement_comments(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line of the statement, comment) for each comment on a statement's first
    line or alone on the lines just above it; none when the module does not parse."""
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
        self.found: list[tuple[int, int, str]] = []

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
                self.found.extend((pos.start.line, pos.end.line, c.value) for c in comments)
        return True
