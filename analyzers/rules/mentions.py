"""Where the application's code names a column: the lines of its Python files (not tests, scripts or
migrations) that mention an attribute by name, read as text. What rules weigh when the schema alone cannot
tell how a column is used: a value generated for it, another row's id written into it, a row loaded by it,
its text lowercased and searched."""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field

from analyzers import confine
from analyzers.facts.model import Facts, Span
from analyzers.facts.paths import is_test_path, is_tooling_path
from analyzers.rules.schema import python_paths

_WORD = re.compile(r"\w+")


def mentions(facts: Facts, names: set[str]) -> dict[str, list[tuple[Span, str]]]:
    """Every line of application code that names each of `names` as a word: (where, the line). Each file
    is read once per scan and its words indexed, so a name is searched for only in the files that have it;
    what was found is kept for later calls."""
    cache: dict[str, list[tuple[Span, str]]] = facts.derived.setdefault("mentions", {})  # type: ignore[assignment]
    missing = sorted(n for n in names if n not in cache)
    if not missing:
        return {n: cache[n] for n in names}
    for name in missing:
        cache[name] = []
    sources: dict[str, _Source | None] = facts.derived.setdefault("mention_sources", {})  # type: ignore[assignment]
    # A name of word characters is in a file only if the file has it as a word (the index), and is found
    # alone. Any other name (a column called "my-col") may overlap another: all are searched together,
    # line by line.
    words_only = all(_WORD.fullmatch(n) for n in missing)
    alone = {n: _alone(n) for n in missing} if words_only else {}
    together = None if words_only else re.compile(r"(?<![\w])(" + "|".join(map(re.escape, missing)) + r")(?![\w])")
    for path in python_paths(facts):
        if path not in sources:
            sources[path] = _source(facts, path)
        source = sources[path]
        if source is None:
            continue
        if words_only:
            for name in source.words.intersection(missing):
                cache[name] += [(Span(path, n, n), source.line(n)) for n in source.line_numbers(alone[name])]
        elif together is not None and any(n in source.text for n in missing):
            for number in source.line_numbers(together):
                line = source.line(number)
                for name in set(together.findall(line)):
                    cache[name].append((Span(path, number, number), line))
    return {n: cache[n] for n in names}


def _alone(name: str) -> re.Pattern[str]:
    r"""`name` as a word: what `(?<!\w)name(?!\w)` matches, with the look-behind after the name, so that the
    search looks for the name's letters first (25 times faster on a file without it)."""
    escaped = re.escape(name)
    return re.compile(escaped + r"(?![\w])(?<![\w]" + escaped + ")")


@dataclass(slots=True)
class _Source:
    """One file's text as mentions() searches it: its words, and its lines once a search finds something."""

    text: str
    words: frozenset[str]
    lines: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # where each line begins in `text`

    def line_numbers(self, word: re.Pattern[str]) -> list[int]:
        """The lines where `word` matches in the whole text, each once, in order: every line whose own
        search matches is among them, as a line break is a non-word character."""
        if not self.starts:
            self.lines = self.text.splitlines()
            self.starts = [0, *itertools.accumulate(map(len, self.text.splitlines(keepends=True)))]
        last = len(self.lines)
        if not last:
            return []
        return list(dict.fromkeys(min(bisect.bisect_right(self.starts, m.start()), last) for m in word.finditer(self.text)))

    def line(self, number: int) -> str:
        return self.lines[number - 1]


def _source(facts: Facts, path: str) -> _Source | None:
    """The file at `path`, if it is application code (not a test or tooling) and can be read (the lines
    already held first: a rule's examples are scanned from memory)."""
    if is_test_path(path) or is_tooling_path(path):
        return None
    try:
        text = "\n".join(facts.sources[path]) if path in facts.sources else confine.read_text(facts.root, path)
    except OSError:
        return None
    return _Source(text, frozenset(_WORD.findall(text)))
