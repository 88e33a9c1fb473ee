"""Matching a new scan's findings to the saved ones, so that decisions follow the code.

Pure functions over frozen values: no database here. The order of the passes is the order of trust:
every finding first looks for a saved one with its fingerprint; only those left over look for one
with the same rule and the same code (moved), and only those left over then for one with the same
rule and anchor (edited). Running a pass over all findings before the next pass starts keeps a
looser match from taking a saved finding that a later finding would have matched exactly. Between the
first pass and the looser ones, a finding that replaced others (one finding for a fact that was once reported table by table, an anchor
renamed: `Finding.covers`) takes every saved finding it covers that nothing else took (merged), so a
review saved by an older dbreview keeps its decisions instead of seeing them resolved and the
replacement new.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from analyzers.findings import Finding, code_hash, identity_key
from tui.session.state import Detection, Disposition, FindingState, ScanDiff

NO_EVIDENCE = code_hash(())  # every finding without evidence shares it: never a sign of a move


class How(StrEnum):
    """How a new finding was matched to a saved one."""

    SAME = "same"  # same fingerprint
    MOVED = "moved"  # same rule and code hash
    EDITED = "edited"  # same rule and anchor
    MERGED = "merged"  # it covers the saved finding(s): it replaced them
    NEW = "new"  # no saved finding


@dataclass(frozen=True, slots=True)
class Match:
    finding: Finding
    saved: FindingState | None
    how: How
    absorbed: tuple[FindingState, ...] = ()  # more saved findings it covers, folded into `saved`

    @property
    def code_changed(self) -> bool:
        return self.saved is not None and self.saved.code_hash != self.finding.code_hash

    @property
    def change(self) -> str:
        """The ScanDiff count this match adds to: new, unchanged, moved, edited or regressed."""
        if self.saved is None:
            return "new"
        if self.saved.detection == Detection.ABSENT:
            return "regressed"
        if self.how is How.SAME:
            return "edited" if self.code_changed else "unchanged"
        if self.how is How.MERGED:
            return "moved"
        return self.how.value

    @property
    def detection(self) -> Detection:
        """What the saved finding's detection becomes."""
        return {
            "new": Detection.NEW,
            "regressed": Detection.REGRESSED,
            "unchanged": Detection.UNCHANGED,
        }.get(self.change, Detection.UPDATED)

    @property
    def needs_second_look(self) -> bool:
        """A decision carried onto code that moved or changed wants a second look; a flag once set
        stays until a reviewer decides again."""
        if self.saved is None:
            return False
        if self.saved.needs_second_look:
            return True
        decided = self.saved.disposition != Disposition.UNTRIAGED
        return decided and (self.how is not How.SAME or self.code_changed)

    @property
    def agreed(self) -> bool:
        """Did every saved finding it takes over end with the same decision? Otherwise none is carried."""
        return all(_decision(s) == _decision(self.saved) for s in self.absorbed)


def _decision(s: FindingState | None) -> tuple:
    return (s.disposition, s.dismiss_reason, s.severity) if s else ()


@dataclass(frozen=True, slots=True)
class Matching:
    matches: tuple[Match, ...]  # one per new finding, in the scan's order
    unmatched: tuple[FindingState, ...]  # saved findings no new finding matched: now absent

    def diff(self) -> ScanDiff:
        counts: dict[str, int] = defaultdict(int)
        files: set[str] = set()
        for m in self.matches:
            counts[m.change] += 1
            if m.change != "unchanged":
                files.add(m.finding.location.path)
                if m.saved is not None:
                    files.add(m.saved.path)
        for s in self.unmatched:
            if s.detection != Detection.ABSENT:
                counts["resolved"] += 1
                files.add(s.path)
        counts["merged"] = sum(len(m.absorbed) for m in self.matches)
        first_scan = not self.unmatched and all(m.saved is None for m in self.matches)
        return ScanDiff(
            new=counts["new"],
            unchanged=counts["unchanged"],
            moved=counts["moved"],
            edited=counts["edited"],
            resolved=counts["resolved"],
            regressed=counts["regressed"],
            merged=counts["merged"],
            files_changed=None if first_scan else len(files),
        )


def match(findings: Sequence[Finding], saved: Sequence[FindingState]) -> Matching:
    """Pair each new finding with at most one saved finding (see the module docstring)."""
    found: list[Match | None] = [None] * len(findings)
    taken: set[int] = set()  # indexes into saved

    by_fingerprint = {s.fingerprint: i for i, s in enumerate(saved)}
    for n, f in enumerate(findings):
        i = by_fingerprint.get(f.fingerprint)
        if i is not None and i not in taken:
            taken.add(i)
            found[n] = Match(f, saved[i], How.SAME)

    _merge(findings, saved, found, taken)

    passes: tuple[tuple[How, Callable[[Finding | FindingState], Hashable | None]], ...] = (
        (How.MOVED, lambda x: None if x.code_hash in (NO_EVIDENCE, "") else (x.rule_id, x.code_hash)),
        (How.EDITED, lambda x: (x.rule_id, x.anchor)),
    )
    for how, key in passes:
        candidates: dict[Hashable, list[int]] = defaultdict(list)
        for i, s in enumerate(saved):
            k = key(s)
            if i not in taken and k is not None:
                candidates[k].append(i)
        for n, f in enumerate(findings):
            k = key(f)
            if found[n] is not None or k is None:
                continue
            free = [i for i in candidates.get(k, ()) if i not in taken]
            if free:
                i = min(free, key=lambda i: _distance(f, saved[i]))
                taken.add(i)
                found[n] = Match(f, saved[i], how)

    matches = tuple(m or Match(f, None, How.NEW) for f, m in zip(findings, found, strict=True))
    return Matching(matches, tuple(s for i, s in enumerate(saved) if i not in taken))


def _merge(findings: Sequence[Finding], saved: Sequence[FindingState], found: list, taken: set[int]) -> None:
    """Each finding that replaced others takes the saved ones it covers. Before the looser passes: a
    replacement often sits on the line of one of the findings it replaced, and matching that one alone
    by its code would leave the rest to be resolved. A saved finding whose rule and anchor some new
    finding still has is left to that finding."""
    current = {identity_key(f.rule_id, f.anchor) for f in findings}
    covered: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(saved):
        key = identity_key(s.rule_id, s.anchor)
        if i not in taken and key not in current:
            covered[key].append(i)
    for n, f in enumerate(findings):
        if found[n] is not None or not f.covers:
            continue
        free = sorted({i for key in f.covers for i in covered.get(key, ()) if i not in taken})
        if free:
            taken.update(free)
            found[n] = Match(f, saved[free[0]], How.MERGED, tuple(saved[i] for i in free[1:]))


def _distance(f: Finding, s: FindingState) -> tuple[bool, int]:
    """Among several candidates prefer the one in the same file, then the nearest line."""
    return (s.path != f.location.path, abs(s.start_line - f.location.start_line))
