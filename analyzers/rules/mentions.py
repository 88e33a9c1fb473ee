"""Where the application's code names a column: the lines of its Python files (not tests, scripts or
migrations) that mention an attribute by name, read as text. What rules weigh when the schema alone cannot
tell how a column is used: a value generated for it, another row's id written into it, a row loaded by it,
its text lowercased and searched."""

from __future__ import annotations

import re

from analyzers import confine
from analyzers.facts.model import Facts, Span
from analyzers.facts.paths import is_test_path, is_tooling_path
from analyzers.rules.schema import python_paths


def mentions(facts: Facts, names: set[str]) -> dict[str, list[tuple[Span, str]]]:
    """Every line of application code that names each of `names` as a word: (where, the line). Files are
    read once for all the names asked at one time; what was read is kept for later calls."""
    cache: dict[str, list[tuple[Span, str]]] = facts.derived.setdefault("mentions", {})  # type: ignore[assignment]
    missing = sorted(n for n in names if n not in cache)
    if missing:
        for name in missing:
            cache[name] = []
        word = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, missing)) + r")(?![\w])")
        for path in python_paths(facts):
            if is_test_path(path) or is_tooling_path(path):
                continue
            try:
                text = confine.read_text(facts.root, path)
            except OSError:
                continue
            if not word.search(text):
                continue
            for number, line in enumerate(text.splitlines(), 1):
                for name in set(word.findall(line)):
                    cache[name].append((Span(path, number, number), line))
    return {n: cache[n] for n in names}
