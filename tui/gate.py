"""The exit status of every `dbreview` command, and the one decision a CI job gates on.

    0  done, and nothing open at or above the --fail-on severity
    1  something open is at or above it (--exit-zero turns this into 0)
    2  bad input or configuration: a path that is not there, bad settings, a REV the clone lacks
    3  an unexpected error: dbreview itself failed (the traceback with --debug)

A CI job can so tell "the code has findings" (1) from "the job is set up wrong" (2) and from "the
tool crashed" (3). Every command that reports findings (`scan`, `export`, `verify`) decides 0 or 1
with `exit_status`, so they all gate alike.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from enum import IntEnum

from analyzers.findings import Severity
from analyzers.settings import FAIL_ON


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    ERROR = 3


DEFAULT_FAIL_ON = "critical"


def exit_status(open_severities: Iterable[Severity | str], *, fail_on: str = DEFAULT_FAIL_ON, exit_zero: bool = False) -> Exit:
    """Exit.FINDINGS when any of `open_severities` is at or above `fail_on`, else Exit.OK.

    `open_severities` are the severities of what is still open: present in the code, not dismissed
    (a suppression comment dismisses), at the severity the reviewer or the settings left it (a
    downgrade counts at its new severity). `fail_on` is one of FAIL_ON: "critical" fails on critical
    only, "warning" on critical and warning, "info" on anything, "never" on nothing. `exit_zero`
    (the --exit-zero flag) reports findings without failing. ValueError for an unknown `fail_on`.
    """
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    if exit_zero or fail_on == "never":
        return Exit.OK
    threshold = Severity(fail_on).rank
    failing = any(Severity(s).rank <= threshold for s in open_severities)
    return Exit.FINDINGS if failing else Exit.OK


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """--fail-on and --exit-zero, spelled the same for every command that reports findings. The
    default of --fail-on is None so that a target's `fail-on` setting applies unless it is given."""
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default=None,
        help=f"exit 1 when anything open is at or above this severity (default: the target's fail-on setting, "
        f"else {DEFAULT_FAIL_ON})",
    )
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are open (2 and 3 still fail)")
