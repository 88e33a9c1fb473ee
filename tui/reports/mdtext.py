"""Markdown pieces that untrusted text cannot break out of.

Reviewer notes may be Markdown and are kept as such, but a note must not end the report's structure:
no headings, no unclosed code fences, no raw HTML (`<!--` would hide the rest of the report) and no
character references (`&#x1b;` decodes to ESC in a terminal renderer). Source code goes in fences
longer than any backtick run inside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from tui.reports.sanitize import one_line, printable

_LANGUAGES = {".py": "python", ".pyi": "python", ".sql": "sql"}
_TICKS = re.compile(r"`+")
_FENCE = re.compile(r"^ {0,3}(`{3,}(?!.*`)|~{3,})")  # a backtick fence's info string has no backtick
_MARKUP = re.compile(r"<[A-Za-z/!?]|&#?[0-9A-Za-z]+;")  # an HTML tag, comment or autolink; a reference
_HEADING_LIKE = re.compile(r"^( {0,3})(#|=+\s*$|-+\s*$)")


def _longest_tick_run(text: str) -> int:
    return max((len(m) for m in _TICKS.findall(text)), default=0)


def code_span(text: str) -> str:
    """`text` as inline code, whatever backticks it holds."""
    text = one_line(text)
    ticks = "`" * (_longest_tick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def language(path: str) -> str:
    return _LANGUAGES.get(PurePosixPath(path).suffix.lower(), "")


def code_block(lines: Sequence[str], lang: str = "", indent: str = "") -> list[str]:
    """A fenced block of `lines`, each made printable, fenced by more backticks than any run inside."""
    body = [printable(line) for line in lines]
    fence = "`" * max(3, _longest_tick_run("\n".join(body)) + 1)
    return [f"{indent}{fence}{lang}", *(f"{indent}{line}" if line else "" for line in body), f"{indent}{fence}"]


def _escape_inline(line: str) -> str:
    """Backslash-escape the `<` of HTML and the `&` of a character reference outside code spans
    (inside them nothing is interpreted); a `<` or `&` that starts neither stays as it is."""
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if char == "\\" and i + 1 < n:
            out.append(line[i : i + 2])
            i += 2
            continue
        if char == "`":
            run = _TICKS.match(line, i).group()
            close = re.compile(rf"(?<!`){run}(?!`)").search(line, i + len(run))
            end = close.end() if close else i + len(run)
            out.append(line[i:end])
            i = end
            continue
        out.append("\\" + char if _MARKUP.match(line, i) else char)
        i += 1
    return "".join(out)


def inline(text: str) -> str:
    """One line of untrusted text, safe in running Markdown."""
    return _escape_inline(one_line(text))


def _closes(opener: re.Match[str], fence: str) -> bool:
    """Whether a fence line closes `fence`: same character, at least as long, nothing after it."""
    run = opener.group(1)
    return run[0] == fence[0] and len(run) >= len(fence) and not opener.string[opener.end() :].strip()


def block(text: str, indent: str = "") -> list[str]:
    """Untrusted multi-line Markdown as lines indented by `indent`: headings and setext underlines
    escaped, HTML and references escaped outside code, an unclosed fence closed."""
    out: list[str] = []
    fence: str | None = None
    for line in printable(text).strip("\n").split("\n"):
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and _closes(opener, fence):
                fence = None
        elif opener:
            fence = opener.group(1)
        else:
            line = _escape_inline(_HEADING_LIKE.sub(r"\1\\\2", line))
        out.append(f"{indent}{line}" if line.strip() else "")
    if fence is not None:
        out.append(f"{indent}{fence}")
    return out
