"""A file's syntax tree, parsed once a scan for every rule that reads statements again from the source.

The extraction keeps facts, not trees, so the rules parse again the files they read statements from: growth,
fk_reads, fixed_sets, start_up and insert_paths (`source_tree`: the running `ast.parse`'s tree, None where it
fails), TEN016/TEN017 (`python_tree`: newer_syntax's, in any Python syntax), the SQL strings' helper classes and
callers and the configuration's SET ... finally (`file_tree`: newer_syntax's of the file's text as read). Each
kept its own trees: polar's application modules were parsed three times over, and the 3.12 files among them
lexed and rewritten again by every reader in any syntax. Here each file is parsed once a scan, plainly first;
the rewrite runs only for a reader in any syntax, once. The trees are shared: a rule must not change one
(module_as_core copies).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.model import Facts, Span
from analyzers.facts.newer_syntax import NATIVE_PEP_695, normalised, parse_python, rewritten_or_raise

_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError)
# Where str.splitlines (the facts' lines) ends a line and Python does not: a text with one of these numbers its
# lines differently once joined, so it is parsed as it is. (\r and \r\n end a line for both.)
_ODD_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass(slots=True)
class _Parsed:
    plain: ast.Module | Exception  # ast.parse's tree of the facts' text, or what it raised
    full: ast.Module | Exception | None = None  # parse_python's, made when first asked for


def _text(facts: Facts, path: str) -> str:
    return "\n".join(facts.lines(Span(path, 1, 10**9)))


def _parsed(facts: Facts, path: str) -> _Parsed:
    trees: dict[str, _Parsed] | None = facts.derived.get("parsed_trees")  # type: ignore[assignment]
    if trees is None:
        trees = facts.derived["parsed_trees"] = {}
    entry = trees.get(path)
    if entry is None:
        try:
            plain: ast.Module | Exception = ast.parse(_text(facts, path), filename=path)
        except _PARSE_ERRORS as exc:
            plain = exc
        entry = trees[path] = _Parsed(plain)
    return entry


def source_tree(facts: Facts, path: str) -> ast.Module | None:
    """`path`'s text parsed by the running `ast.parse`; None where it does not parse."""
    plain = _parsed(facts, path).plain
    return None if isinstance(plain, Exception) else plain


def python_tree(facts: Facts, path: str) -> ast.Module:
    """`parse_python` of `path`'s text (the facts' lines): the same tree, made once a scan. Raises what it raises
    (SyntaxError, ValueError, RecursionError)."""
    entry = _parsed(facts, path)
    if entry.full is None:
        plain = entry.plain
        if not isinstance(plain, Exception) and not NATIVE_PEP_695:
            entry.full = plain
        else:
            text = _text(facts, path)
            try:
                if isinstance(plain, SyntaxError):  # the rewrite of a newer Python's file, as parse_python makes it
                    entry.full = parse_python(text, path) if normalised(text) else rewritten_or_raise(text, path, plain)  # type: ignore[assignment]
                elif isinstance(plain, Exception):
                    entry.full = plain
                else:  # 3.12+: normalised in place, so ast.parse's own tree stays as source_tree gave it
                    entry.full = parse_python(text, path) if normalised(text) else plain  # type: ignore[assignment]
            except _PARSE_ERRORS as exc:
                entry.full = exc
    if isinstance(entry.full, Exception):
        raise entry.full.with_traceback(None)
    return entry.full


def file_tree(facts: Facts, path: str, text: str) -> ast.Module:
    """`parse_python(text, path)` of the file's text as read (confine.read_text): python_tree's tree where the
    facts' lines are this text's, else its own, once a scan. Raises what parse_python raises."""
    if _ODD_BREAKS.search(text) is None and "\n".join(text.splitlines()) == _text(facts, path):
        entry = _parsed(facts, path)
        # A plain parse is the same with or without the last newline (and \r\n read as \n); the rewrite of a
        # 3.12 file is shared only where the texts are the same to the character.
        if not isinstance(entry.plain, SyntaxError) or text == _text(facts, path):
            return python_tree(facts, path)
    own: dict[str, tuple[str, ast.Module | Exception]] = facts.derived.setdefault("file_trees", {})  # type: ignore[assignment]
    kept = own.get(path)
    if kept is None or kept[0] != text:
        try:
            tree: ast.Module | Exception = parse_python(text, path)  # type: ignore[assignment]
        except _PARSE_ERRORS as exc:
            tree = exc
        kept = own[path] = (text, tree)
    if isinstance(kept[1], Exception):
        raise kept[1].with_traceback(None)
    return kept[1]
