"""Python source -> ast, whatever Python runs dbreview (3.11 up), for code written in newer Python.

The running interpreter's `ast.parse` reads most files (the fast path). A file it rejects may be written
for a newer Python: PEP 695 (`type X = ...`, `class Box[T]:`, `def first[T](...)`), PEP 701 f-strings
(the same quotes nested, expressions over several lines, backslashes or comments inside), PEP 758
(`except A, B:`). Such a file is lexed once by a small lexer that knows those forms, the constructs the
running `ast` lacks are rewritten into equivalents it has (a type alias into an assignment, type
parameters dropped, the except tuple parenthesized, the expressions of an f-string parsed on their own),
and the rewritten text is parsed. Every line stays where it was; columns on rewritten lines are mapped
back, so every node carries the position it has in the file.

The tree is the same whichever interpreter reads the file: where 3.12+ parses a type alias or type
parameters natively, they are normalised to the same shape (an assignment; no type parameters).

libcst parses all of these natively, but measured on the 37 such files of a real backend (965 KB) it
took 9-13 s to parse and 16 s more for positions, where this lexer and `ast` take well under a second.
"""

from __future__ import annotations

import ast
import bisect
import re
import sys
from dataclasses import dataclass, field

NATIVE_PEP_695 = sys.version_info >= (3, 12)  # type aliases and type parameters
NATIVE_PEP_701 = sys.version_info >= (3, 12)  # f-strings as the tokenizer's own grammar

# Statements that 3.12+ parses natively and normalises: worth a walk only when the text has one.
_NEWER_SHAPES = re.compile(r"(?m)^[ \t]*(?:type[ \t]+[^\W\d]|(?:async[ \t]+)?(?:def|class)[ \t]+\w+[ \t]*\[)")


def parse_python(text: str, path: str = "<unknown>", mode: str = "exec") -> ast.AST:
    """The syntax tree of `text`. Raises the interpreter's SyntaxError when the file is not Python of
    any version we know (the rewrite does not parse either)."""
    try:
        tree = ast.parse(text, filename=path, mode=mode)
    except SyntaxError as exc:
        tree = rewritten_or_raise(text, path, exc, mode)
    if NATIVE_PEP_695 and _NEWER_SHAPES.search(text):
        _normalise(tree)
    return tree


def rewritten_or_raise(text: str, path: str, exc: SyntaxError, mode: str = "exec") -> ast.AST:
    """parse_python's tree of a text the running `ast.parse` rejected with `exc` (before any normalising), for a
    caller that parsed it plainly first; raises `exc` when the rewrite does not parse either."""
    try:
        return _rewritten(text, path, mode)
    except (SyntaxError, _LexError):
        raise exc from None


def normalised(text: str) -> bool:
    """Whether parse_python changes the running `ast.parse`'s tree of `text` in place (3.12+: newer forms normalised)."""
    return NATIVE_PEP_695 and _NEWER_SHAPES.search(text) is not None


# -- the lexer ------------------------------------------------------------------------------------


class _LexError(Exception):
    pass


@dataclass(slots=True)
class _FString:
    start: int
    end: int
    quote: str  # ' " ''' """
    body: int  # offset just after the opening quote
    fields: list[tuple[int, int]] = field(default_factory=list)  # expression (start, end) of each field
    odd: bool = False  # what 3.11 rejects may be inside: a quote, backslash, comment or newline in a field


_TOKEN = re.compile(
    r"(?P<space>(?:[ \t\f]+|\\(?:\r\n|\r|\n))+)|(?P<comment>#[^\r\n]*)|(?P<newline>\r\n|\r|\n)"
    r"|(?P<name>[^\W\d]\w*)|(?P<quote>['\"])|(?P<number>(?:\d\w*(?:\.\w*)?|\.\d\w*)(?:(?<=[eE])[+-]\w+)?)"
    r"|(?P<op>\*\*=?|//=?|<<=?|>>=?|->|:=|\.\.\.|[-+*/%@&|^<>!=:]=?|[\[\](){},;.~])"
)
_NEWLINE = re.compile(r"\r\n|\r|\n")
_NAME = re.compile(r"[^\W\d]\w*")
_PREFIXES = {"", "r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"}
_OPEN, _CLOSE = "([{", ")]}"
# The rest of a plain string once its opening quote is read, per quote.
_STRING_REST = {
    "'": re.compile(r"(?:[^'\\\r\n]|\\[\s\S])*'"),
    '"': re.compile(r'(?:[^"\\\r\n]|\\[\s\S])*"'),
    "'''": re.compile(r"(?:[^'\\]|\\[\s\S]|'(?!''))*'''"),
    '"""': re.compile(r'(?:[^"\\]|\\[\s\S]|"(?!""))*"""'),
}
_FSTRING_TEXT = {q: re.compile(r"[^{}\\\r\n" + q[0] + "]+") for q in _STRING_REST}


class _Lexer:
    """Tokens of Python 3.14 as far as a rewrite needs them: names, operators, strings (f-strings with
    their fields), and the end of each logical line. Offsets are into the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, int, int]] = []  # (kind, start, end): name op string fstring newline
        self.fstrings: dict[int, _FString] = {}  # by start offset: the top-level f-strings

    def run(self) -> _Lexer:
        depth = 0
        i, n = 0, len(self.text)
        while i < n:
            i, kind, start = self._token(i)
            if kind == "newline":
                if depth == 0 and self.tokens and self.tokens[-1][0] != "newline":
                    self.tokens.append(("newline", start, i))
                continue
            if kind is None:
                continue
            if kind == "op":
                char = self.text[start]
                depth += (char in _OPEN) - (char in _CLOSE)
                depth = max(depth, 0)
            self.tokens.append((kind, start, i))
        self.tokens.append(("newline", n, n))
        return self

    def _token(self, i: int, fstring: _FString | None = None) -> tuple[int, str | None, int]:
        """One token at i: (its end, its kind or None for space and comments, its start)."""
        text = self.text
        m = _TOKEN.match(text, i)
        if m is None:
            if text[i] == "\\":
                raise _LexError(f"stray backslash at {i}")
            return i + 1, "op", i  # `$`, `?` ...: not Python; the parse of the rewrite will say so
        kind = m.lastgroup
        if kind == "name":
            end = m.end()
            if end < len(text) and text[end] in "'\"" and m.group().lower() in _PREFIXES:
                return self._string(i, end, m.group().lower(), fstring), "string", i
            return end, kind, i
        if kind == "quote":
            return self._string(i, i, "", fstring), "string", i
        if fstring is not None and (kind in ("comment", "newline") or (kind == "space" and "\\" in m.group())):
            fstring.odd = True  # 3.11 allows none of these in a field
        return m.end(), None if kind in ("space", "comment") else kind, i

    def _string(self, start: int, quote_at: int, prefix: str, outer: _FString | None) -> int:
        text = self.text
        quote = text[quote_at : quote_at + 3] if text.startswith(text[quote_at] * 3, quote_at) else text[quote_at]
        body = quote_at + len(quote)
        if outer is not None and (text[quote_at] in outer.quote or "\\" in text[start:body]):
            outer.odd = True
        if "f" not in prefix and "t" not in prefix:
            m = _STRING_REST[quote].match(text, body)
            if not m:
                raise _LexError(f"unterminated string at {start}")
            if outer is not None and ("\\" in m.group() or "\n" in m.group() or "\r" in m.group()):
                outer.odd = True
            return m.end()
        fs = _FString(start, -1, quote, body)
        end = self._fstring_body(fs, body, raw="r" in prefix, spec=False)
        fs.end = end
        if outer is None:
            self.fstrings[start] = fs
        else:
            outer.odd = outer.odd or fs.odd or "\\" in text[start:end] or "\n" in text[start:end]
        return end

    def _fstring_body(self, fs: _FString, i: int, raw: bool, spec: bool) -> int:
        """Literal text and fields up to the closing quote (or, in a format spec, the closing brace)."""
        text, quote = self.text, fs.quote
        literal = _FSTRING_TEXT[quote]
        while True:
            m = literal.match(text, i)
            if m:
                i = m.end()
            if i >= len(text):
                raise _LexError(f"unterminated f-string at {fs.start}")
            char = text[i]
            if spec and char == "}":
                return i
            if text.startswith(quote, i):
                if spec:
                    raise _LexError(f"quote in a format spec at {i}")
                return i + len(quote)
            if char == quote[0] or (char in "\r\n" and len(quote) == 3):
                i += 1
            elif char in "\r\n":
                raise _LexError(f"newline in a one-line f-string at {i}")
            elif char == "\\":
                if not raw and text.startswith("\\N{", i):
                    i = text.index("}", i) + 1
                else:
                    i += 2
            elif char == "{" and text.startswith("{{", i) and not spec:
                i += 2
            elif char == "}" and text.startswith("}}", i):
                i += 2
            elif char == "{":
                i = self._field(fs, i + 1, raw)
            else:  # a lone `}`: not valid, the parse will say so
                i += 1

    def _field(self, fs: _FString, i: int, raw: bool) -> int:
        """A replacement field from just after its `{`: expression, `=`, `!conversion`, `:spec`, `}`."""
        text = self.text
        start, depth = i, 0
        while True:
            if i >= len(text):
                raise _LexError(f"unterminated field at {start}")
            end, kind, at = self._token(i, fs)
            word = text[at:end] if kind == "op" else ""
            if depth == 0 and word in ("}", ":", "!", "="):
                break
            depth += (word in _OPEN) - (word in _CLOSE) if word else 0
            i = end
        fs.fields.append((start, at))
        if text[at:end] == "=":  # self-documenting: `{x=}`
            at = end
            while text[at] in " \t":
                at += 1
        if text[at] == "!":
            at = _NAME.match(text, at + 1).end() if _NAME.match(text, at + 1) else at + 1
        if text[at] == ":":
            at = self._fstring_body(fs, at + 1, raw, spec=True)
        if text[at] != "}":
            raise _LexError(f"field not closed at {at}")
        return at + 1


# -- the rewrite ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Edit:
    start: int
    end: int
    text: str  # what replaces text[start:end] on its first line; newlines inside are kept
    continued: bool = True  # lines emptied by the edit end in `\` (outside brackets a newline ends a statement)


def _rewritten(text: str, path: str, mode: str) -> ast.AST:
    lexer = _Lexer(text).run()
    edits = _statement_edits(text, lexer.tokens)
    hoisted: dict[str, tuple[int, int]] = {}  # placeholder -> the expression's (start, end) in text
    if not NATIVE_PEP_701:
        edits += _fstring_edits(text, lexer, hoisted)
    if not edits:
        raise _LexError("nothing newer to rewrite")
    new_text, columns = _apply(text, edits)
    tree = ast.parse(new_text, filename=path, mode=mode)
    columns.restore(tree)
    if hoisted:
        _graft(tree, text, hoisted, path, columns.old_lines)
    return tree


def _statement_edits(text: str, tokens: list[tuple[str, int, int]]) -> list[_Edit]:
    """PEP 695 and PEP 758 forms, each at the start of a logical line."""
    edits: list[_Edit] = []
    line_start = 0
    for index, (kind, start, end) in enumerate(tokens):
        if kind != "newline":
            continue
        line = tokens[line_start:index]
        line_start = index + 1
        words = [text[s:e] if k in ("name", "op") else k for k, s, e in line[:4]]
        if words[:1] == ["async"]:
            line, words = line[1:], words[1:]
        if len(line) >= 3 and words[0] == "type" and line[1][0] == "name" and words[2] in ("=", "["):
            edits.append(_Edit(line[0][1], line[1][1], "", continued=False))  # `type X = v` -> `X = v`
            if words[2] == "[":
                edits.append(_bracket_group(text, line, 2))
        elif len(line) >= 3 and words[0] in ("def", "class") and line[1][0] == "name" and words[2] == "[":
            edits.append(_bracket_group(text, line, 2))  # `def first[T](xs)` -> `def first(xs)`
        elif words[:1] == ["except"]:
            edits.extend(_except_tuple(text, line))
    return edits


def _bracket_group(text: str, line: list[tuple[str, int, int]], opening: int) -> _Edit:
    depth = 0
    for kind, start, end in line[opening:]:
        if kind == "op" and text[start] in _OPEN:
            depth += 1
        elif kind == "op" and text[start] in _CLOSE:
            depth -= 1
            if depth == 0:
                return _Edit(line[opening][1], end, "")
    raise _LexError("type parameters not closed")


def _except_tuple(text: str, line: list[tuple[str, int, int]]) -> list[_Edit]:
    """`except A, B:` (PEP 758) -> `except (A, B):`."""
    first = 2 if len(line) > 1 and text[line[1][1] : line[1][2]] == "*" else 1
    depth, comma, last = 0, False, None
    for kind, start, end in line[first:]:
        word = text[start:end]
        if depth == 0 and (word == ":" or (kind == "name" and word == "as")):
            break
        if kind == "op" and word in _OPEN:
            depth += 1
        elif kind == "op" and word in _CLOSE:
            depth -= 1
        comma = comma or (depth == 0 and word == ",")
        last = end
    if not comma or last is None:
        return []
    return [_Edit(line[first][1], line[first][1], "("), _Edit(last, last, ")")]


def _fstring_edits(text: str, lexer: _Lexer, hoisted: dict[str, tuple[int, int]]) -> list[_Edit]:
    """PEP 701 f-strings that 3.11 cannot read: each field's expression is swapped for a placeholder
    name (parsed on its own later), and a one-quote string over several lines gets three quotes."""
    edits: list[_Edit] = []
    stem = "_dbreview_field"
    while stem in text:
        stem += "_"
    for fs in lexer.fstrings.values():
        if not fs.odd:
            continue
        if len(fs.quote) == 1 and _NEWLINE.search(text, fs.start, fs.end):
            edits.append(_Edit(fs.body, fs.body, fs.quote * 2))
            edits.append(_Edit(fs.end - 1, fs.end - 1, fs.quote * 2))
        for start, end in fs.fields:
            name = f"{stem}{len(hoisted)}"
            hoisted[name] = (start, end)
            edits.append(_Edit(start, end, name, continued=False))
    return edits


class _Columns:
    """Where each column of a rewritten line was in the original: lines never move, columns may."""

    def __init__(self, old_lines: list[str], new_lines: list[str]) -> None:
        self.old_lines, self.new_lines = old_lines, new_lines
        self.breaks: dict[int, tuple[list[int], list[tuple[int, bool]]]] = {}  # line -> new cols, (old col, copied)

    def add(self, line: int, new_col: int, old_col: int, copied: bool) -> None:
        cols, targets = self.breaks.setdefault(line, ([], []))
        if cols and cols[-1] == new_col:
            cols.pop()
            targets.pop()
        cols.append(new_col)
        targets.append((old_col, copied))

    def old(self, line: int, byte_col: int) -> int:
        cols, targets = self.breaks[line]
        new_line, old_line = self.new_lines[line - 1], self.old_lines[line - 1]
        col = byte_col if new_line.isascii() else len(new_line.encode()[:byte_col].decode("utf-8", "ignore"))
        k = bisect.bisect_right(cols, col) - 1
        old_col, copied = targets[max(k, 0)]
        if copied and k >= 0:
            old_col += col - cols[k]
        return old_col if old_line.isascii() else len(old_line[:old_col].encode())

    def restore(self, tree: ast.AST) -> None:
        """Map the columns of every node on a rewritten line; a node whose lines hold none is skipped
        with everything under it (a walk of the whole tree costs more than the rest of the rewrite)."""
        lines = sorted(self.breaks)
        todo = [tree]
        while todo:
            node = todo.pop()
            first = getattr(node, "lineno", None)
            if first is not None:
                last = node.end_lineno or first
                k = bisect.bisect_left(lines, first)
                if k == len(lines) or lines[k] > last:
                    continue
                if first in self.breaks:
                    node.col_offset = self.old(first, node.col_offset)
                if last in self.breaks and node.end_col_offset is not None:
                    node.end_col_offset = self.old(last, node.end_col_offset)
            todo.extend(ast.iter_child_nodes(node))


def _apply(text: str, edits: list[_Edit]) -> tuple[str, _Columns]:
    """The rewritten text, and the map of its columns back to the original's."""
    out: list[str] = []
    line, new_col, old_col = 1, 0, 0
    columns_breaks: list[tuple[int, int, int, bool]] = []  # (line, new col, old col, copied)
    touched: set[int] = set()

    def copy(piece: str) -> None:
        nonlocal line, new_col, old_col
        parts = _NEWLINE.split(piece)
        newlines = _NEWLINE.findall(piece)
        for k, part in enumerate(parts):
            if part:
                columns_breaks.append((line, new_col, old_col, True))
                new_col += len(part)
                old_col += len(part)
            if k < len(newlines):
                line, new_col, old_col = line + 1, 0, 0
        out.append(piece)

    def insert(piece: str) -> None:
        nonlocal new_col
        if piece:
            touched.add(line)
            columns_breaks.append((line, new_col, old_col, False))
            new_col += len(piece)
            out.append(piece)

    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < pos:
            continue  # overlaps an edit already made
        copy(text[pos : edit.start])
        removed = text[edit.start : edit.end]
        parts, newlines = _NEWLINE.split(removed), _NEWLINE.findall(removed)
        insert(edit.text)
        for k, part in enumerate(parts):
            if part:
                touched.add(line)
                old_col += len(part)
            if k < len(newlines):
                insert("\\" if edit.continued else "")
                out.append(newlines[k])
                line, new_col, old_col = line + 1, 0, 0
        pos = edit.end
    copy(text[pos:])
    new_text = "".join(out)
    columns = _Columns(_NEWLINE.split(text), _NEWLINE.split(new_text))
    for ln, new, old, copied in columns_breaks:
        if ln in touched:
            columns.add(ln, new, old, copied)
    return new_text, columns


def _graft(tree: ast.AST, text: str, hoisted: dict[str, tuple[int, int]], path: str, old_lines: list[str]) -> None:
    """Put each f-string field's own expression, parsed alone, where its placeholder is."""
    starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str) and "_dbreview_field" in part.value:
                for name, (s, e) in hoisted.items():  # `{x=}`: the expression's text is part of the string
                    part.value = part.value.replace(name, text[s:e])
            if isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name) and part.value.id in hoisted:
                start, end = hoisted[part.value.id]
                part.value = _expression(text, start, end, path, starts, old_lines)


def _expression(text: str, start: int, end: int, path: str, starts: list[int], old_lines: list[str]) -> ast.expr:
    """The expression text[start:end], parsed alone (newer syntax inside too) at its place in the file."""
    body = parse_python(f"({text[start:end]})", path, mode="eval").body  # type: ignore[attr-defined]
    line = bisect.bisect_right(starts, start)
    first = old_lines[line - 1]
    base = len(first[: start - starts[line - 1]].encode()) - 1  # the `(` added in front
    for node in ast.walk(body):
        if hasattr(node, "lineno"):
            if node.lineno == 1:
                node.col_offset += base
            if node.end_lineno == 1:
                node.end_col_offset += base
            node.lineno += line - 1
            node.end_lineno += line - 1
    return body


# -- 3.12+ reads these natively: the same tree as the rewrite gives -----------------------------


def _normalise(tree: ast.AST) -> None:
    """A type alias becomes the assignment it is to the facts; type parameters go (they bind no value
    a fact reads, and 3.11 has no place for them)."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, name, None)
            if not isinstance(block, list):
                continue
            for k, stmt in enumerate(block):
                if type(stmt).__name__ == "TypeAlias":
                    target = ast.Name(stmt.name.id, ast.Store())
                    ast.copy_location(target, stmt.name)
                    block[k] = stmt = ast.copy_location(ast.Assign([target], stmt.value), stmt.name)
                    stmt.end_lineno, stmt.end_col_offset = block[k].value.end_lineno, block[k].value.end_col_offset
                if getattr(stmt, "type_params", None):
                    stmt.type_params = []
                todo.append(stmt)
