"""The one exit-status decision every command that reports findings shares."""

from __future__ import annotations

import pytest

from analyzers.findings import Severity
from tui.gate import Exit, exit_status

C, W, I = Severity.CRITICAL, Severity.WARNING, Severity.INFO


@pytest.mark.parametrize(
    ("fail_on", "open_", "expected"),
    [
        ("critical", [W, I], Exit.OK),
        ("critical", [I, C], Exit.FINDINGS),
        ("warning", [I], Exit.OK),
        ("warning", [W], Exit.FINDINGS),
        ("info", [I], Exit.FINDINGS),
        ("info", [], Exit.OK),
        ("never", [C, C], Exit.OK),
    ],
)
def test_exit_status_fails_on_anything_open_at_or_above_the_threshold(fail_on, open_, expected) -> None:
    assert exit_status(open_, fail_on=fail_on) == expected
    assert exit_status([s.value for s in open_], fail_on=fail_on) == expected, "severities as stored text too"


def test_exit_zero_reports_without_failing_and_a_bad_threshold_is_refused() -> None:
    assert exit_status([C], exit_zero=True) == Exit.OK
    assert exit_status(iter([C])) == Exit.FINDINGS, "critical by default; any iterable"
    with pytest.raises(ValueError, match="fail-on must be one of critical, warning, info, never"):
        exit_status([C], fail_on="error")


def test_the_codes_are_the_ones_ci_expects() -> None:
    assert [int(e) for e in (Exit.OK, Exit.FINDINGS, Exit.BAD_INPUT, Exit.ERROR)] == [0, 1, 2, 3]
