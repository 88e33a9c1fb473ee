"""The findings as GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per
open finding, which the runner turns into an annotation on the file and line of a pull request.

Only what is open: a dismissed finding (in the source or by a reviewer) and one gone from the code
are left out. Values are escaped as the Actions toolkit escapes them, so a message or a file name
cannot end the command early or start another one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzers.findings import Severity
from tui.reports.assess import Assessment
from tui.reports.sanitize import one_line

if TYPE_CHECKING:
    from analyzers.checklist import Checklist
    from tui.session.state import ReviewSnapshot

COMMAND = {Severity.CRITICAL: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(checklist: Checklist, snapshot: ReviewSnapshot, *, path_prefix: str = "") -> str:
    a = Assessment(checklist, snapshot)
    lines = []
    for f in a.open:
        start = max(1, f.start_line)
        props = {
            "file": path_prefix + f.path,
            "line": str(start),
            "endLine": str(max(start, f.end_line)),
            "title": f"dbreview {f.rule_id} ({f.severity.value}, {f.disposition.value})",
        }
        head = ",".join(f"{key}={_property(one_line(value))}" for key, value in props.items())
        body = f"{one_line(f.message)}. Recommendation: {one_line(a.recommendation(f))}"
        lines.append(f"::{COMMAND[f.severity]} {head}::{_data(body)}")
    for error in a.scan_errors:
        where = {"file": path_prefix + error.path, **({"line": str(error.line)} if error.line else {})} if not error.path.startswith("<") else {}
        head = ",".join(f"{key}={_property(one_line(value))}" for key, value in {**where, "title": "dbreview scan error"}.items())
        lines.append(f"::warning {head}::{_data(one_line(error.message))}")
    return "\n".join(lines) + ("\n" if lines else "")
