"""What a scan produces: findings with stable identity, and scan errors.

Lines are 1-based everywhere. A finding's identity is its fingerprint (rule, path, anchor, repeat
number), never its line, so a reviewer's decision follows the code when it moves.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def lower(self) -> Severity:
        """One step down: critical -> warning -> info (info stays info)."""
        return _ORDER[min(self.rank + 1, len(_ORDER) - 1)]


_ORDER = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)
_RANK = {sev: i for i, sev in enumerate(_ORDER)}


@dataclass(frozen=True, slots=True)
class Location:
    path: str  # relative to the scanned root, POSIX separators
    start_line: int
    end_line: int

    def __str__(self) -> str:
        if self.end_line > self.start_line:
            return f"{self.path}:{self.start_line}-{self.end_line}"
        return f"{self.path}:{self.start_line}"


@dataclass(frozen=True, slots=True)
class Related:
    """Another place a finding is about: a table of one fact seen in many, the drop that undoes a create."""

    location: Location
    note: str = ""


def identity_key(rule_id: str, anchor: str) -> str:
    """What a finding is about, whatever its file: the key `Finding.covers` lists."""
    return f"{rule_id} {anchor}"


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    item_id: str
    severity: Severity
    message: str
    location: Location
    anchor: str  # what the finding is about, e.g. "table:patients.dob" or "migration:abc123:downgrade"
    evidence: tuple[str, ...] = ()  # the source lines of location, as written
    fingerprint: str = ""
    code_hash: str = ""
    suppressed: str | None = None  # the reason of a `# dbreview: ignore` comment that covers it
    related: tuple[Related, ...] = ()
    # identity_key()s of the findings this one stands for since it replaced them (one finding for a fact
    # once reported per table, a rule's anchor renamed): a saved review's decisions on those follow it.
    covers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanError:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


_SPACE = re.compile(r"\s+")


def code_hash(lines: tuple[str, ...] | list[str]) -> str:
    """Hash of the evidence with all whitespace removed: survives re-indenting and moving."""
    return hashlib.sha256(_SPACE.sub("", "".join(lines)).encode()).hexdigest()[:16]


def fingerprint(rule_id: str, path: str, anchor: str, n: int) -> str:
    return hashlib.sha256(f"{rule_id}\0{path}\0{anchor}\0{n}".encode()).hexdigest()[:20]


def with_identity(findings: list[Finding]) -> list[Finding]:
    """Give each finding its fingerprint and code hash; repeats of (rule, path, anchor) are numbered
    in line order so that two identical findings in one file keep distinct identities."""
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for f in sorted(findings, key=lambda f: (f.location.path, f.location.start_line, f.rule_id, f.anchor)):
        key = (f.rule_id, f.location.path, f.anchor)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(replace(f, fingerprint=fingerprint(f.rule_id, f.location.path, f.anchor, n), code_hash=code_hash(f.evidence)))
    return out


@dataclass(slots=True)
class ScanResult:
    root: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    files_scanned: int = 0
    drafted_answers: dict[str, str] = field(default_factory=dict)  # question id -> drafted answer
    not_applicable: dict[str, str] = field(default_factory=dict)  # item id -> the evidence it does not apply
