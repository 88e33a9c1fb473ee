"""PERF001's fixtures of reads: their tables grow with use. PERF001 warns only where the application both scans a
table by the key and adds rows to it (analyzers/rules/growth.py); the tests of how dbreview weighs the reads give
each fixture an application module that adds a row to every table its files declare, so that what they pin is the
reads. tests/test_perf001_growth.py pins the growth signal itself."""

from __future__ import annotations

import re
from pathlib import Path

from analyzers.findings import Finding

_CLASS = re.compile(r"^class (\w+)\(", re.M)
_TABLE = re.compile(r"^(\w+)\s*=\s*(?:\w+\.)?Table\(", re.M)


def rows_added(files: dict[str, str]) -> dict[str, str]:
    """An application module that adds a row of each class and Core table that `files` declare."""
    text = "\n".join(t for path, t in files.items() if path.endswith(".py"))
    body = "".join(f"    session.add({c}())\n" for c in dict.fromkeys(_CLASS.findall(text)))
    body += "".join(f"    session.execute({t}.insert())\n" for t in dict.fromkeys(_TABLE.findall(text)))
    return {"app/rows_added.py": "def add_rows(session):\n" + (body or "    pass\n")}


def found_growing(tmp_path: Path, files: dict[str, str], rule: str | None = None) -> list[Finding]:
    """found(), on the fixture's files and a module that adds rows to each of its tables."""
    from tests.test_precision import found  # test_precision uses this too
    return found(tmp_path, {**files, **rows_added(files)}, rule)
