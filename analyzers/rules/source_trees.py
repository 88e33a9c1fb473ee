"""A file's syntax tree as the facts hold its text, parsed once a scan for every rule that reads statements
again from the source: growth, fk_reads and start_up each parsed the same files on their own (fides: 444
application files twice over). The trees are shared: a rule must not change one (module_as_core copies)."""

from __future__ import annotations

import ast

from analyzers.facts.model import Facts, Span


def source_tree(facts: Facts, path: str) -> ast.Module | None:
    """`path`'s text parsed; None where it does not parse."""
    trees: dict[str, ast.Module | None] = facts.derived.setdefault("source_trees", {})  # type: ignore[assignment]
    if path not in trees:
        try:
            trees[path] = ast.parse("\n".join(facts.lines(Span(path, 1, 10**9))))
        except (SyntaxError, ValueError, RecursionError):
            trees[path] = None
    return trees[path]
