"""`dbreview scan` as a CI step: exit status by --fail-on, --exit-zero, only what is new (--baseline,
--since), --omit-suppressed, and the repository's pre-commit hook and Actions workflow."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tui import cli

ROOT = Path(__file__).resolve().parent.parent
NEW_DEFECT = "\n\nclass Invoice(Base):\n    __tablename__ = 'invoices'\n    id = Column(Integer, primary_key=True)\n    total = Column(Float)\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def add_invoice(repo: Path) -> Path:
    """A new model module with money in a Float (BIL001) and an integer key (INT001)."""
    module = repo / "apps/backend/src/models/invoices.py"
    module.write_text("from sqlalchemy import Column, Float, Integer\nfrom .base import Base" + NEW_DEFECT)
    return module


# -- exit status ----------------------------------------------------------------------------------


def test_the_demo_fails_the_gate_unless_told_otherwise(demo_repo: Path, capsys) -> None:
    assert run(capsys, "scan", str(demo_repo))[0] == 1, "critical findings are open"
    assert run(capsys, "scan", str(demo_repo), "--fail-on", "never")[0] == 0
    assert run(capsys, "scan", str(demo_repo), "--exit-zero")[0] == 0
    status, out, _ = run(capsys, "scan", str(demo_repo), "--format", "github")
    assert status == 1
    lines = out.splitlines()
    assert any(line.startswith("::error file=apps/backend/src/models/documents.py,line=") for line in lines)
    assert any(line.startswith("::warning file=") for line in lines)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) and ",line=" in line for line in lines)


def test_a_crash_is_3_and_bad_input_is_2(demo_repo: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import analyzers.engine

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(analyzers.engine, "scan", broken)
    status, _, err = run(capsys, "scan", str(demo_repo))
    assert status == 3 and "RuntimeError: boom" in err
    monkeypatch.undo()
    assert run(capsys, "scan", str(demo_repo), "--fail-on", "sometimes")[0] == 2


# -- only what is new -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_a_baseline_leaves_out_what_it_has_even_when_it_moved(demo_repo: Path, tmp_path: Path, capsys, fmt: str) -> None:
    baseline = tmp_path / f"baseline.{fmt}"
    assert run(capsys, "scan", str(demo_repo), "--format", fmt, "-o", str(baseline))[0] == 1
    before = json.loads(run(capsys, "scan", str(demo_repo), "--format", "json")[1])["findings"]
    total, drift = len(before), sum(f["rule_id"] == "MIG006" for f in before)
    database = demo_repo / "apps/backend/src/database.py"
    database.write_text("# moved down by two lines\n\n" + database.read_text())  # every finding in it moves
    add_invoice(demo_repo)
    status, out, err = run(capsys, "scan", str(demo_repo), "--format", "json", "--baseline", str(baseline))
    new = json.loads(out)["findings"]
    assert {(f["rule_id"], f["path"]) for f in new} == {
        ("BIL001", "apps/backend/src/models/invoices.py"),
        ("INT001", "apps/backend/src/models/invoices.py"),
        ("MIG006", "apps/backend/src/models/invoices.py"),  # no migration creates it: now most tables have none
        # nothing imports the new module: the worker's env.py misses its table (the backend's missed the worker's already)
        ("MIG020", "apps/worker/migrations/env.py"),
    }
    assert f"{total - drift} findings already in the baseline left out" in err, "the MIG006 findings became one on most tables"
    assert status == 0, "nothing new is critical"


def test_a_baseline_that_is_not_a_report_is_one_line_and_exit_2(demo_repo: Path, tmp_path: Path, capsys) -> None:
    for content in ("{not json", '{"runs": [{"tool": {"driver": {"name": "other"}}}]}', "[]"):
        bad = tmp_path / "baseline.json"
        bad.write_text(content)
        status, _, err = run(capsys, "scan", str(demo_repo), "--baseline", str(bad))
        assert status == 2 and len(err.splitlines()) == 1 and "not a JSON or SARIF report of dbreview" in err
    status, _, err = run(capsys, "scan", str(demo_repo), "--baseline", str(tmp_path / "missing.json"))
    assert status == 2 and "cannot be read" in err


def test_since_keeps_the_changed_files_and_the_whole_schema(demo_repo: Path, capsys) -> None:
    git(demo_repo, "init", "-q")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "demo")
    add_invoice(demo_repo)  # new, not yet added: still changed since HEAD
    status, out, err = run(capsys, "scan", str(demo_repo), "--format", "json", "--since", "HEAD")
    kept = json.loads(out)["findings"]
    paths = {f["path"] for f in kept if not f["anchor"].startswith(("tenancy:", "migration-heads:", "drift:", "rls-variable:", "policy:super-admin"))}
    # MIG020 of both env.py: the new module, which nothing imports, is their related place
    assert paths == {"apps/backend/src/models/invoices.py", "apps/backend/migrations/env.py", "apps/worker/migrations/env.py"}
    assert any(f["rule_id"] == "MIG003" for f in kept), "two heads: about the revision graph, always kept"
    assert any(f["rule_id"] == "MIG006" for f in kept), "model against migrations: always kept"
    assert "in files unchanged since HEAD left out" in err
    assert status == 0


def test_since_a_revision_the_clone_lacks_is_a_clear_error(demo_repo: Path, capsys) -> None:
    status, _, err = run(capsys, "scan", str(demo_repo), "--since", "HEAD~1")
    assert status == 2 and "is not in a git checkout" in err
    git(demo_repo, "init", "-q")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "only commit")
    status, _, err = run(capsys, "scan", str(demo_repo), "--since", "HEAD~1")
    assert status == 2 and len(err.splitlines()) == 1 and "no such commit in this clone" in err and "fetch-depth: 0" in err
    assert run(capsys, "scan", str(demo_repo), "--since", "--output=/tmp/x")[0] == 2, "a REV is never an option to git"


# -- suppressions in SARIF ------------------------------------------------------------------------


def test_omit_suppressed_leaves_dismissed_findings_out_of_sarif(tmp_path: Path, capsys) -> None:
    (tmp_path / "models.py").write_text(
        "from sqlalchemy import Column, Float, Integer\nfrom sqlalchemy.orm import declarative_base\nBase = declarative_base()\n\n"
        "class Payment(Base):\n    __tablename__ = 'payments'\n    id = Column(Integer, primary_key=True)\n"
        "    amount = Column(Float)  # dbreview: ignore[BIL001] false positive: a ratio\n"
    )
    sarif = json.loads(run(capsys, "scan", str(tmp_path), "--format", "sarif")[1])
    results = sarif["runs"][0]["results"]
    assert any(r["ruleId"] == "BIL001" and r["suppressions"][0]["kind"] == "inSource" for r in results)
    omitted = json.loads(run(capsys, "scan", str(tmp_path), "--format", "sarif", "--omit-suppressed")[1])
    assert [r for r in omitted["runs"][0]["results"] if r["ruleId"] == "BIL001"] == []
    assert len(omitted["runs"][0]["results"]) == len(results) - 1


# -- what the repository publishes for CI ---------------------------------------------------------


def _dbreview_commands(text: str) -> list[list[str]]:
    """The `dbreview ...` command lines of a shell script, GitHub expressions made plain words."""
    import re
    import shlex

    plain = re.sub(r"\$\{\{[^}]*\}\}", "REV", text)
    return [shlex.split(line.strip())[1:] for line in plain.splitlines() if line.strip().startswith("dbreview ")]


def test_the_pre_commit_hook_scans_the_whole_repository(demo_repo: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex

    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "dbreview" and hook["pass_filenames"] is False and hook["language"] == "python"
    argv = shlex.split(hook["entry"])
    assert argv[:2] == ["dbreview", "scan"]
    monkeypatch.chdir(demo_repo)  # pre-commit runs hooks at the repository's root
    status, out, _ = run(capsys, *argv[1:])
    assert status == 1 and out.startswith("::error file=")


def test_the_documented_github_workflow_uploads_sarif_and_gates(demo_repo: Path) -> None:
    import yaml

    text = (ROOT / "docs/ci/github-actions.yml").read_text()
    workflow = yaml.safe_load(text)
    steps = workflow["jobs"]["dbreview"]["steps"]
    assert any(step.get("uses", "").startswith("github/codeql-action/upload-sarif@") for step in steps)
    assert workflow["permissions"]["security-events"] == "write"
    checkout = next(step for step in steps if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0, "--since needs history"
    commands = [argv for step in steps for argv in _dbreview_commands(step.get("run", ""))]
    assert len(commands) == 3
    parser = cli._parser()
    for argv in commands:
        parser.parse_args(argv)  # every flag it uses exists
    assert any("--omit-suppressed" in argv and "sarif" in argv for argv in commands)


def test_the_json_report_matches_its_published_schema(demo_repo: Path, tmp_path: Path, capsys) -> None:
    import jsonschema

    schema = json.loads((ROOT / "docs/report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    report = json.loads(run(capsys, "scan", str(demo_repo), "--format", "json")[1])
    jsonschema.validate(report, schema)
    assert report["format_version"] == schema["properties"]["format_version"]["minimum"], "a new version: document it in docs/json-report.md"
    history = (ROOT / "docs/json-report.md").read_text()
    assert f"| {report['format_version']} |" in history
