"""The `dbreview` command run in-process (`main([...])`) against the bundled demo and small targets.
Every test has its own data dir through DBREVIEW_DATA_DIR; the terminal app is never started (`open`
and `demo` hand over to `tui.cli.run_app`, which the tests replace)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analyzers.engine import scan
from tui import cli, paths
from tui.session import ReviewStore
from tui.session.state import Disposition

DEMO = cli.BUNDLED_DEMO


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv(paths.ENV_VAR, str(data))
    return data


@pytest.fixture
def app_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """What the app would have been started with, instead of starting it."""
    calls: list[dict] = []

    def fake_run_app(**kwargs: object) -> int:
        calls.append(kwargs)
        return 0

    monkeypatch.setattr(cli, "run_app", fake_run_app)
    return calls


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo written out once by `demo --copy-to`, shared read-only by the tests of saved reviews."""
    target = tmp_path_factory.mktemp("demo") / "repo"
    assert cli.main(["--data-dir", str(target.parent / "data"), "demo", "--copy-to", str(target)]) == 0
    return target.resolve()


def saved_review(data: Path, repo: Path, confirmed: int = 1) -> int:
    """Start a review of `repo` through the store, store a scan of it, confirm `confirmed` findings."""
    result = scan(repo).result
    with ReviewStore.open(paths.session_db(data)) as store:
        info = store.start_review(str(repo), "database", "alice")
        store.apply_scan(info.id, result, "alice")
        for finding in result.findings[:confirmed]:
            store.set_disposition(info.id, finding.fingerprint, Disposition.CONFIRMED, "alice")
    return len(result.findings)


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


# -- scan -------------------------------------------------------------------------------------------


def test_scan_of_the_demo_writes_markdown_in_the_review_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scan", str(DEMO)]) == 1
    out = capsys.readouterr().out
    assert "## Executive Summary" in out
    assert "apps/backend/src/database.py" in out


def test_scan_writes_sarif_with_results(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scan", str(DEMO), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert results and all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)


def test_scan_writes_json_with_the_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scan", str(DEMO), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["findings"], "the demo has defects on purpose; the JSON must list them"


def test_scan_with_output_writes_the_file_and_nothing_to_stdout(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "review.md"
    assert cli.main(["scan", str(DEMO), "-o", str(out_file)]) == 1
    assert capsys.readouterr().out == ""
    assert "## Executive Summary" in out_file.read_text(encoding="utf-8")
    assert any(paths.scan_cache_dir().iterdir()), "the scan cache lives in the user's cache dir"
    assert not (data_dir / "scan-cache").exists(), "never in the data dir, which a group may share"


def test_scan_no_cache_leaves_no_cache(tmp_path: Path, data_dir: Path) -> None:
    assert cli.main(["scan", str(DEMO), "--no-cache", "-o", str(tmp_path / "r.md")]) == 1
    assert not paths.scan_cache_dir().exists()


def test_a_missing_path_is_one_line_and_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert cli.main(["scan", str(missing)]) == 2
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and str(missing) in lines[0]


def test_a_directory_without_python_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.md").write_text("# not code\n")
    assert cli.main(["scan", str(tmp_path)]) == 2
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and "no Python" in lines[0]


def test_a_file_that_does_not_parse_is_in_the_report_and_summed_up_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "models.py").write_text("from sqlalchemy import Column\nclass A:\n    __tablename__ = 'a'\n")
    (repo / "broken.py").write_text("import sqlalchemy\ndef (:\n")
    assert cli.main(["scan", str(repo)]) == 0
    captured = capsys.readouterr()
    assert "broken.py" in captured.out
    assert captured.err.splitlines() == ["dbreview: 1 file could not be read; see the report"]


def test_explain_layout_shows_alembic_models_setup_and_docs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scan", str(DEMO), "--explain-layout"]) == 1
    out = capsys.readouterr().out
    assert "apps/backend/alembic.ini: script_location = migrations" in out
    assert "apps/backend/migrations/versions:" in out and "head " in out
    assert "apps/backend/src/models/users.py: 1 table (users)" in out
    assert "apps/backend/src/database.py:" in out and "after_begin" in out
    assert "docs/tech-stack/00 - Overview.md" in out
    assert "## Executive Summary" not in out, "the explanation replaces the report on stdout"


def test_explain_layout_shows_the_targets_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "models.py").write_text("from sqlalchemy import Column\n")
    (tmp_path / ".dbreview.toml").write_text('exclude = ["tests/*"]\n')
    assert cli.main(["scan", str(tmp_path), "--explain-layout"]) == 0
    out = capsys.readouterr().out
    assert "Settings from .dbreview.toml:\n  exclude = tests/*\n" in out


def test_explain_layout_follows_script_location_and_reports_unmerged_heads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = tmp_path / "apps/backend"
    versions = backend / "migrations/versions"
    versions.mkdir(parents=True)
    (backend / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    for rev, down in (("a1", None), ("b2", "a1"), ("c3", "a1")):
        (versions / f"{rev}.py").write_text(
            f"from alembic import op\nrevision = {rev!r}\ndown_revision = {down!r}\n"
            "def upgrade():\n    pass\ndef downgrade():\n    pass\n"
        )
    assert cli.main(["scan", str(tmp_path), "--explain-layout"]) == 0
    out = capsys.readouterr().out
    assert "apps/backend/alembic.ini: script_location = %(here)s/migrations\n" in out
    assert "    apps/backend/migrations/versions: 3 revisions, 2 heads: b2, c3 (branches not merged)\n" in out
    assert "no alembic.ini points here" not in out


def test_explain_layout_reads_a_script_location_relative_to_the_repository_and_plugin_trees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """alembic.ini one folder down naming its scripts from the top (alembic is run from there); a plugin's own
    folder of revisions, which no alembic.ini names, is listed as a tree of its own."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app/alembic.ini").write_text("[alembic]\nscript_location = app/db/migrations\n")
    for folder, rev in (("app/db/migrations/versions", "a1"), ("app/plugins/badges/migrations", "p1")):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / f"{rev}.py").write_text(
            f"revision = {rev!r}\ndown_revision = None\ndef upgrade(op=None):\n    pass\n")
    assert cli.main(["scan", str(tmp_path), "--explain-layout"]) == 0
    out = capsys.readouterr().out
    assert "    app/db/migrations/versions: 1 revision, head a1\n" in out
    assert "  app/plugins/badges/migrations (no alembic.ini points here): 1 revision, head p1\n" in out


def test_explain_layout_finds_a_package_script_location_and_a_developers_setup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`script_location = shop.server:migrations` names the folder of an importable package (found by its path's
    end, beside alembic.ini); an engine in the top `devel/` folder (a development container's wait script) is
    a developer's set-up, not the application."""
    versions = tmp_path / "shop-server/shop/server/migrations/versions"
    versions.mkdir(parents=True)
    (tmp_path / "shop-server/alembic.ini").write_text("[alembic]\nscript_location = shop.server:migrations\n")
    (versions / "a1.py").write_text("revision = 'a1'\ndown_revision = None\ndef upgrade(op=None):\n    pass\n")
    (tmp_path / "devel/containers/shop").mkdir(parents=True)
    (tmp_path / "devel/containers/shop/wait.py").write_text(
        "from sqlalchemy import engine_from_config\nengine = engine_from_config({'sqlalchemy.url': 'postgresql://db/shop'})\n")
    assert cli.main(["scan", str(tmp_path), "--explain-layout"]) == 0
    out = capsys.readouterr().out
    assert "  shop-server/alembic.ini: script_location = shop.server:migrations\n" in out
    assert "    shop-server/shop/server/migrations/versions: 1 revision, head a1\n" in out
    assert "no alembic.ini points here" not in out
    assert "devel/containers/shop/wait.py:2  sqlalchemy.engine_from_config() -> engine [not the application's: a developer's set-up" in out


# -- demo -------------------------------------------------------------------------------------------


def test_demo_copy_to_writes_the_repository_and_refuses_a_non_empty_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "demo"
    assert cli.main(["demo", "--copy-to", str(target)]) == 0
    assert (target / "apps/backend/src/database.py").is_file()
    assert (target / "apps/backend/alembic.ini").is_file()
    assert not (target / "DEFECTS.md").exists(), "DEFECTS.md is for our tests, not for users"
    assert not list(target.rglob("__pycache__"))
    capsys.readouterr()

    (target / "mine.txt").write_text("keep me")
    assert cli.main(["demo", "--copy-to", str(target)]) == 2
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and "not empty" in lines[0] and "--force" in lines[0]
    assert cli.main(["demo", "--copy-to", str(target), "--force"]) == 0
    assert (target / "mine.txt").read_text() == "keep me"


def test_demo_opens_a_copy_in_the_data_dir_and_refreshes_it_only_when_the_bundle_changes(
    data_dir: Path, app_runs: list[dict]
) -> None:
    before = sorted(p.relative_to(DEMO) for p in DEMO.rglob("*"))
    assert cli.main(["demo", "--reviewer", "bob"]) == 0
    copy = paths.demo_copy_dir(data_dir)
    assert app_runs == [{"repo": copy.resolve(), "data_dir": data_dir.resolve(), "reviewer": "bob"}]
    assert (copy / "apps/backend/src/database.py").is_file()
    assert sorted(p.relative_to(DEMO) for p in DEMO.rglob("*")) == before, "never write into the package"

    edited = copy / "apps/backend/src/database.py"
    edited.write_text("# my experiment\n")
    assert cli.main(["demo"]) == 0
    assert edited.read_text() == "# my experiment\n", "an unchanged bundle keeps the reviewer's copy"

    (copy / cli.DEMO_STAMP).write_text("an older dbreview's demo\n")
    assert cli.main(["demo"]) == 0
    assert edited.read_bytes() == (DEMO / "apps/backend/src/database.py").read_bytes()


# -- open -------------------------------------------------------------------------------------------


def test_open_hands_the_resolved_repository_to_the_app(
    demo_repo: Path, data_dir: Path, app_runs: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo_repo / "apps")
    assert cli.main(["open", "..", "--reviewer", "carol"]) == 0
    assert app_runs == [{"repo": demo_repo, "data_dir": data_dir.resolve(), "reviewer": "carol"}]


def test_no_command_opens_the_current_directory(
    demo_repo: Path, tmp_path: Path, app_runs: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo_repo)
    other = tmp_path / "elsewhere"
    assert cli.main(["--data-dir", str(other)]) == 0
    assert app_runs[0]["repo"] == demo_repo and app_runs[0]["data_dir"] == other.resolve()
    assert app_runs[0]["reviewer"], "defaults to the login name"


def test_open_refuses_a_corrupt_review_file_and_leaves_it_alone(
    demo_repo: Path, data_dir: Path, app_runs: list[dict], capsys: pytest.CaptureFixture[str]
) -> None:
    db = paths.session_db(data_dir)
    data_dir.mkdir(parents=True)
    garbage = b"this is not an SQLite database at all" * 100
    db.write_bytes(garbage)
    assert cli.main(["open", str(demo_repo)]) == 2
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and str(db) in lines[0]
    assert db.read_bytes() == garbage
    assert app_runs == []


def test_open_refuses_a_missing_path_before_the_app(
    tmp_path: Path, app_runs: list[dict], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["open", str(tmp_path / "nowhere")]) == 2
    assert len(stderr_lines(capsys)) == 1
    assert app_runs == []


def test_an_unexpected_error_is_one_line_and_status_3_with_the_traceback_only_in_debug(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(**kwargs: object) -> int:
        raise RuntimeError("the app fell over")

    monkeypatch.setattr(cli, "run_app", broken)
    assert cli.main(["open", str(demo_repo)]) == 3
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and "RuntimeError: the app fell over" in lines[0]
    assert cli.main(["open", str(demo_repo), "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err


# -- saved reviews ----------------------------------------------------------------------------------


def test_sessions_without_any_review(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sessions"]) == 0
    assert "No saved reviews" in capsys.readouterr().out
    assert not paths.session_db(data_dir).exists(), "listing creates no database"


def test_sessions_lists_a_review_with_its_progress(
    demo_repo: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    total = saved_review(data_dir, demo_repo, confirmed=2)
    assert cli.main(["sessions"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{demo_repo}  [database]  2/{total} findings triaged, 0/")
    assert " items, 0/" in line and " answers  last change " in line and line.endswith(" by alice")
    assert "(missing)" not in line


def test_sessions_marks_a_repository_that_is_gone(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "gone"
    assert cli.main(["demo", "--copy-to", str(repo)]) == 0
    saved_review(data_dir, repo.resolve())
    for path in sorted(repo.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    repo.rmdir()
    capsys.readouterr()
    assert cli.main(["sessions"]) == 0
    assert f"{repo.resolve()} (missing: moved or deleted" in capsys.readouterr().out


def test_prune_asks_before_removing(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kept, gone = tmp_path / "kept", tmp_path / "gone"
    for repo in (kept, gone):
        assert cli.main(["demo", "--copy-to", str(repo)]) == 0
        saved_review(data_dir, repo.resolve())
    import shutil

    shutil.rmtree(gone)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert cli.main(["sessions", "--prune"]) == 0
    assert "Kept the review" in capsys.readouterr().out
    answers = iter(["y"])
    assert cli.main(["sessions", "--prune"]) == 0
    out = capsys.readouterr().out
    assert "Removed the review" in out
    assert cli.main(["sessions"]) == 0
    listing = capsys.readouterr().out
    assert str(kept.resolve()) in listing and str(gone.resolve()) not in listing


def test_prune_without_a_terminal_needs_yes(tmp_path: Path, data_dir: Path, capsys, monkeypatch) -> None:
    gone = tmp_path / "gone"
    assert cli.main(["demo", "--copy-to", str(gone)]) == 0
    saved_review(data_dir, gone.resolve())
    import shutil

    shutil.rmtree(gone)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli.main(["sessions", "--prune"]) == 2
    assert cli.main(["sessions", "--prune", "--yes"]) == 0
    assert "Removed the review" in capsys.readouterr().out


def test_export_without_a_saved_review_is_refused(demo_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export", str(demo_repo)]) == 2
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and "no saved review" in lines[0]


def test_export_writes_the_saved_review_with_its_decisions(
    demo_repo: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved_review(data_dir, demo_repo, confirmed=1)
    assert cli.main(["export", str(demo_repo)]) == 1, "the demo's critical findings are open"
    out = capsys.readouterr().out
    assert "## Executive Summary" in out and "alice" in out

    assert cli.main(["export", str(demo_repo), "--format", "json", "-o", str(tmp_path / "r.json"), "--exit-zero"]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert [f["disposition"] for f in report["findings"]].count("confirmed") == 1


# -- rules, packaging -------------------------------------------------------------------------------


def test_rules_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """The static rules, then the ones only `dbreview verify` raises; each explained in full."""
    from analyzers.rules import all_rules, proof_rules

    assert cli.main(["rules"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == [rule.ID for rule in all_rules()] + ["SUP001"] + [rule.ID for rule in proof_rules()], (
        "the rules, the check of suppression comments, then verify's"
    )
    for rule_id in (listed[0], "VER006"):
        assert cli.main(["rules", rule_id]) == 0
        assert "Why it matters:" in capsys.readouterr().out
    assert cli.main(["rules", "NOPE999"]) == 2


DBREVIEW = str(Path(sys.executable).with_name("dbreview"))  # the installed command, beside this Python


def test_the_command_runs_headless_without_importing_textual(tmp_path: Path) -> None:
    from analyzers.rules import all_rules, proof_rules

    code = (
        "import sys; from tui.cli import main; sys.argv = ['dbreview', 'rules']\n"
        "assert main() == 0\n"
        "assert 'textual' not in sys.modules, 'headless commands must not pay for Textual'\n"
    )
    env = {"DBREVIEW_DATA_DIR": str(tmp_path), "PATH": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(all_rules()) + 1 + len(proof_rules())  # and SUP001, and verify's
    version = subprocess.run([DBREVIEW, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("dbreview ")


def test_run_inside_a_target_the_command_never_imports_the_targets_modules(tmp_path: Path) -> None:
    """A target may hold modules named like ours or our dependencies: run from inside it, `dbreview`
    imports none of them (there is no `python -m` entry point, which would put the target first)."""
    target = tmp_path / "target"
    mark = tmp_path / "imported"
    for module in ("tomllib.py", "platformdirs.py", "sqlalchemy.py", "analyzers/__init__.py", "tui/__init__.py",
                   "tui/cli.py", "tui/__main__.py"):
        (target / module).parent.mkdir(parents=True, exist_ok=True)
        (target / module).write_text(f"open({str(mark)!r}, 'a').write({module!r} + '\\n')\n")
    (target / "models.py").write_text("from sqlalchemy import Column\n")
    env = {**os.environ, "DBREVIEW_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([DBREVIEW, "scan", "."], cwd=target, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert not mark.exists(), mark.read_text()
    import importlib.util

    assert importlib.util.find_spec("tui.__main__") is None, "no `python -m tui` entry point"
