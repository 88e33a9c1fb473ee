"""Which files of a target are the application: tests, scripts, examples and docs are never evidence of
what the application does in production (its tables, its queries, its engines)."""

from __future__ import annotations

NOT_APP_DIRS = ("tests", "test", "testing", "scripts", "examples", "docs", "benchmarks", "fixtures")


def is_test_path(path: str) -> bool:
    """Tests, scripts and examples: their tables, engines and queries are not the service's."""
    parts = path.split("/")
    return any(p in NOT_APP_DIRS for p in parts[:-1]) or parts[-1].startswith(("test_", "conftest", "seed"))
