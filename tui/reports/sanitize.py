"""Make untrusted text safe to show: the code under review and what reviewers type.

A control character in a source file (ESC starting a CSI or OSC sequence, BEL, the one-byte CSI
U+009B) must never reach a terminal or a Markdown viewer as something it acts on. `printable` turns
each one into a visible placeholder, so the reader sees that it is there and what it is.
"""

from __future__ import annotations

import json
import re

_TAB, _NEWLINE, _DEL = 0x09, 0x0A, 0x7F

# Bidirectional formatting characters reorder what a reader sees against what the compiler reads
# ("Trojan Source", CVE-2021-42574), and invisible ones make two different names look the same:
# a reviewer must see them, not be fooled by them.
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
_INVISIBLE = (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)


def _table() -> dict[int, str]:
    table: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20) if code not in (_TAB, _NEWLINE)}
    table[_DEL] = "\u2421"
    for code in (*range(0x80, 0xA0), *_BIDI, *_INVISIBLE):
        table[code] = f"<U+{code:04X}>"
    return table


_PLACEHOLDERS = _table()
_SHOWN = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_PLACEHOLDERS)) + "]")


def printable(text: str) -> str:
    """`text` with every control character but tab and newline shown as a visible placeholder:
    C0 as its Unicode control picture (ESC -> ␛, BEL -> ␇), DEL as ␡, C1, bidirectional controls
    and zero-width characters as `<U+202E>`. Windows line ends become plain newlines; a lone CR
    stays visible (␍)."""
    # A search, not str.translate: a source file has none of them, and translate looks up every
    # character (~50 ms for a 7,000-line file, before the code pane's first frame).
    return _SHOWN.sub(_placeholder, text.replace("\r\n", "\n"))


def _placeholder(match: re.Match[str]) -> str:
    return _PLACEHOLDERS[ord(match.group())]


def one_line(text: str) -> str:
    """`printable`, with line breaks and tabs folded to single spaces: for a name, a reason, a title."""
    return " ".join(printable(text).split())


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a reviewer's name, or None: a name is one line of printable characters
    (no control, bidirectional or zero-width ones), so that it shows as itself everywhere."""
    if not name.strip():
        return "it is empty"
    bad = next((i for i, ch in enumerate(name) if not ch.isprintable() or ord(ch) in _PLACEHOLDERS), None)
    if bad is None:
        return None
    return f"it holds U+{ord(name[bad]):04X} ({_PLACEHOLDERS.get(ord(name[bad]), 'not printable')}) at character {bad + 1}"


_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in _PLACEHOLDERS if code >= _DEL}


def json_text(value: object) -> str:
    """`value` as indented JSON, readable (non-ASCII kept) yet with no raw control character: JSON
    escapes C0 itself; DEL, C1, bidirectional and zero-width ones (only ever inside strings) are escaped here
    too, so the text is safe to print and still decodes to exactly what was stored."""
    return json.dumps(value, ensure_ascii=False, indent=2).translate(_JSON_ESCAPES) + "\n"
