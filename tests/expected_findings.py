"""The check most rule tests make: the findings are exactly the expected places, each message holding its gist."""

from __future__ import annotations

from analyzers.findings import Finding


def place(f: Finding) -> tuple[str, str]:
    return f"{f.location.path}:{f.location.start_line}", f.anchor


def assert_exactly(findings: list[Finding], expected) -> None:
    """`expected` holds (path:line, anchor, gist) triples: each is found with its gist in the message, nothing else."""
    gists = {e[:2]: e[2] for e in expected}
    assert {place(f) for f in findings} == set(gists)
    for f in findings:
        assert gists[place(f)] in f.message, f.message
