"""`dbreview verify` as the command line and the app both run it: the proofs on a throwaway
PostgreSQL (analyzers.verify), merged with the static findings, recorded in the saved review."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Iterator
from typing import TYPE_CHECKING, Callable

from analyzers.findings import ScanResult, Severity
from analyzers.verify.proofs import REFUTED, Merged, merge
from analyzers.verify.result import VerifyResult
from tui.reports.verification import outcome, render_verification
from tui.session.state import ProofState, ReviewSnapshot, VerificationState

if TYPE_CHECKING:
    from analyzers.engine import Scan
    from tui.session import ReviewStore


@dataclass(slots=True)
class Verification:
    result: VerifyResult
    merged: Merged
    state: VerificationState

    def scan_result(self, static: ScanResult) -> ScanResult:
        """The static scan with the proofs' own findings added: what a report of the run lists."""
        return replace(static, findings=[*static.findings, *self.merged.findings])

    def onto(self, snapshot: ReviewSnapshot) -> ReviewSnapshot:
        """A review (not saved) with this run's proofs on its findings."""
        proofs = {
            fp: ProofState(p.status, p.evidence, self.state.commit, self.state.postgres, self.state.at)
            for fp, p in self.merged.proofs.items()
        }
        return replace(snapshot, proofs=proofs, verification=self.state)


def run_verification(
    repo: Path,
    found: Scan,
    *,
    reviewer: str,
    commit: str | None,
    postgres_bin: str | None = None,
    allow_imports: bool = False,
    progress: Callable[[str], None] | None = None,
    data_dir: Path | None = None,
    python: str | None = None,
) -> Verification:
    """Raises analyzers.verify.result.VerifyError for what the user must change."""
    from analyzers.verify.run import verify
    from tui.paths import postgres_template_dir

    result = verify(
        repo, found=found, postgres_bin=postgres_bin, allow_imports=allow_imports, commit=commit, progress=progress,
        template_dir=postgres_template_dir(data_dir) if data_dir else None, python=python,
    )
    merged = merge(result, found.result.findings, found.facts)
    state = VerificationState(
        at=datetime.now(UTC),
        reviewer=reviewer,
        commit=commit,
        postgres=result.postgres.split(" from ")[0] or "no PostgreSQL",  # "PostgreSQL 15.18": the report says where from
        outcome=outcome(result, merged),
        report=render_verification(result, merged),
        result=json.dumps(asdict(result), default=str),
    )
    return Verification(result, merged, state)


def record(store: ReviewStore, review_id: int, verification: Verification, reviewer: str) -> None:
    store.apply_verify(review_id, verification.merged, verification.state, reviewer)


def open_severities(snapshot: ReviewSnapshot) -> Iterator[Severity]:
    """What the exit status gates on (tui.gate): the open findings, less those the database refuted
    (they stay in the report, marked refuted, but no longer fail a run)."""
    for f in snapshot.findings:
        if f.is_open and getattr(snapshot.proofs.get(f.fingerprint), "status", None) != REFUTED:
            yield f.severity
