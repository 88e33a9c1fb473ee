"""A target's settings: found from the scanned folder up to the repository root, kebab-case keys,
every bad value one clear line (exit 2 from `scan`; the app says so and uses the defaults), and what
each setting changes in a scan and in the exit status."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analyzers.engine import scan
from analyzers.findings import Severity
from analyzers.settings import DEFAULT_TENANT_COLUMNS, Settings, SettingsError, load_settings
from tui import cli

MODELS = '''\
from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Visit(Base):
    __tablename__ = "visits"
    id = Column(Integer, primary_key=True)
    clinic_id = Column(Integer, ForeignKey("clinics.id"))
    seen_at = Column(DateTime)
'''


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git-looking repository with one model module."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "models.py").write_text(MODELS)
    return root


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    return err[0]


# -- bad settings: one line, exit 2 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("exclude = 5\n", "`exclude` must be a list of strings, not an integer"),
        ("docs = true\n", "`docs` must be a list of strings, not a boolean"),
        ("exclude = [1979-05-27T07:32:00Z]\n", "`exclude` must be a list of strings, not an array holding a datetime value"),
        ("fail-on = 1979-05-27\n", "`fail-on` must be one of critical, warning, info, never, not a date value"),
        ("fail_on = \"info\"\n", "unknown key `fail_on` (did you mean `fail-on`?)"),
        ("colour = \"red\"\n", "unknown key `colour`; known keys: exclude, include"),
        ("disable = [\"NOPE001\"]\n", "`disable` names 'NOPE001', which is no rule id or family"),
        ("[severity]\nTEN002 = \"loud\"\n", "`severity.TEN002` must be one of critical, warning, info, not 'loud'"),
        ("severity = 3\n", "`severity` must be a table"),
        ("tenant-columns = [\"org id\"]\n", "`tenant-columns` must list column names"),
        ("exclude = " + "[" * 5000 + "]" * 5000 + "\n", "values nested too deeply"),
        ("exclude = [\n", "not valid TOML"),
    ],
)
def test_a_bad_dbreview_toml_is_one_line_and_exit_2(repo: Path, capsys, text: str, says: str) -> None:
    (repo / ".dbreview.toml").write_text(text)
    with pytest.raises(SettingsError, match="^.dbreview.toml: "):
        load_settings(repo)
    assert cli.main(["scan", str(repo)]) == 2
    line = one_error_line(capsys)
    assert line.startswith("dbreview: .dbreview.toml: ") and says in line


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[tool]\ndbreview = 5\n", "[tool.dbreview] must be a table, not an integer"),
        ("tool = 5\n", "[tool] must be a table, not an integer"),
        ("[tool.dbreview]\nexclude = 5\n", "`exclude` must be a list of strings"),
        ("[project\n", "not valid TOML"),
    ],
)
def test_a_bad_pyproject_is_one_line_and_exit_2(repo: Path, capsys, text: str, says: str) -> None:
    (repo / "pyproject.toml").write_text(text)
    assert cli.main(["scan", str(repo)]) == 2
    line = one_error_line(capsys)
    assert line.startswith("dbreview: pyproject.toml: ") and says in line


@pytest.mark.parametrize(("name", "text"), [(".dbreview.toml", "exclude = []\n"), ("pyproject.toml", "[tool.dbreview]\n")])
def test_an_unreadable_settings_file_is_one_line(repo: Path, capsys, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    (repo / name).write_text(text)
    real_open = os.open

    def refusing(path, *args, **kwargs):  # tests run as root, which chmod cannot stop
        if str(path).endswith(name):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("os.open", refusing)  # targets are read through analyzers.confine
    assert cli.main(["scan", str(repo)]) == 2
    assert one_error_line(capsys) == f"dbreview: {name}: cannot be read: Permission denied"


def test_not_utf8_a_folder_and_a_link_outside_are_refused(repo: Path, tmp_path: Path) -> None:
    (repo / ".dbreview.toml").write_bytes(b"exclude = ['\xff']\n")
    with pytest.raises(SettingsError, match="not UTF-8"):
        load_settings(repo)
    (repo / ".dbreview.toml").unlink()
    (repo / ".dbreview.toml").mkdir()
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings(repo)
    (repo / ".dbreview.toml").rmdir()
    outside = tmp_path / "elsewhere.toml"
    outside.write_text("exclude = ['*']\n")
    (repo / ".dbreview.toml").symlink_to(outside)
    with pytest.raises(SettingsError, match="outside the repository"):
        load_settings(repo)


def test_open_starts_the_app_despite_bad_settings(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".dbreview.toml").write_text("exclude = 5\n")
    started: list[dict] = []
    monkeypatch.setattr(cli, "run_app", lambda **kwargs: started.append(kwargs) or 0)
    assert cli.main(["open", str(repo)]) == 0
    assert started and started[0]["repo"] == repo.resolve()


def test_the_app_says_the_settings_are_bad_and_scans_with_the_defaults(repo: Path, data_dir: Path) -> None:
    import asyncio

    from tui.app import ReviewApp

    (repo / ".dbreview.toml").write_text("exclude = 5\n")

    messages: list[str] = []

    async def run() -> int:
        app = ReviewApp(repo, data_dir, "alice")
        shown = app.notify
        app.notify = lambda message, **kw: (messages.append(message), shown(message, **kw))[1]  # type: ignore[method-assign]
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            return len(app.review.findings)

    findings = asyncio.run(run())
    assert any("`exclude` must be a list of strings" in m and "default settings" in m for m in messages)
    assert findings, "the scan went on with the defaults"


# -- where settings come from -----------------------------------------------------------------------


def test_settings_are_found_upward_to_the_repository_root_and_never_above(repo: Path, tmp_path: Path) -> None:
    backend = repo / "apps/backend"
    backend.mkdir(parents=True)
    (backend / "models.py").write_text(MODELS)
    (tmp_path / ".dbreview.toml").write_text("fail-on = \"never\"\n")  # above the repository: never read
    assert load_settings(backend) == Settings()

    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no [tool.dbreview]: does not count
    assert load_settings(backend) == Settings()
    (repo / "pyproject.toml").write_text("[tool.dbreview]\nexclude = [\"apps/backend/legacy/*\"]\nfail-on = \"warning\"\n")
    found = load_settings(backend)
    assert (found.source, found.prefix, found.fail_on) == ("../../pyproject.toml", "apps/backend/", "warning")
    assert found.excluded("legacy/models.py") and not found.excluded("models.py")

    (backend / ".dbreview.toml").write_text("fail-on = \"info\"\n")  # the nearest file wins
    assert load_settings(backend).fail_on == "info"
    (backend / "pyproject.toml").write_text("[tool.dbreview]\nfail-on = \"critical\"\n")
    assert load_settings(backend).fail_on == "info", ".dbreview.toml before pyproject.toml in one folder"


def test_without_a_repository_only_the_scanned_folder_counts(tmp_path: Path) -> None:
    (tmp_path / ".dbreview.toml").write_text("fail-on = \"never\"\n")
    inner = tmp_path / "project"
    inner.mkdir()
    assert load_settings(inner) == Settings()
    assert load_settings(tmp_path).fail_on == "never"


# -- what the settings change -----------------------------------------------------------------------


def rules_of(root: Path, settings: Settings | None = None) -> dict[str, Severity]:
    return {f.rule_id: f.severity for f in scan(root, settings=settings).result.findings}


def test_rules_enabled_disabled_and_their_severity(repo: Path) -> None:
    found = rules_of(repo)
    assert {"TZ001", "PERF001"} <= found.keys()
    (repo / ".dbreview.toml").write_text('disable = ["TZ"]\n[severity]\nPERF001 = "critical"\n')
    configured = rules_of(repo)
    assert "TZ001" not in configured and configured["PERF001"] == Severity.CRITICAL
    (repo / ".dbreview.toml").write_text('enable = ["tz001"]\n')
    assert set(rules_of(repo)) == {"TZ001"}


def test_a_downgrade_keeps_the_configured_severity_as_the_original(repo: Path, data_dir: Path) -> None:
    from tui.paths import session_db
    from tui.session import ReviewStore
    from tui.session.state import Disposition

    (repo / ".dbreview.toml").write_text('[severity]\nPERF001 = "critical"\n')
    result = scan(repo).result
    perf001 = next(f for f in result.findings if f.rule_id == "PERF001")
    with ReviewStore.open(session_db(data_dir)) as store:
        info = store.start_review(str(repo), "database", "alice")
        store.apply_scan(info.id, result, "alice")
        store.set_disposition(info.id, perf001.fingerprint, Disposition.DOWNGRADED, "alice")
        state = next(f for f in store.snapshot(info.id).findings if f.fingerprint == perf001.fingerprint)
    assert (state.original_severity, state.severity) == (Severity.CRITICAL, Severity.WARNING)


def test_tenant_columns_name_the_tenant(repo: Path) -> None:
    versions = repo / "migrations/versions"
    versions.mkdir(parents=True)
    (versions / "0001_init.py").write_text(
        "from alembic import op\nrevision = '0001'\ndown_revision = None\n\n"
        "def upgrade():\n    op.create_table('visits')\n\ndef downgrade():\n    op.drop_table('visits')\n"
    )
    assert load_settings(repo).tenant_columns == DEFAULT_TENANT_COLUMNS
    assert "TEN001" not in rules_of(repo), "clinic_id is no tenant column by default"
    (repo / ".dbreview.toml").write_text('tenant-columns = ["clinic_id"]\n')
    assert "TEN001" in rules_of(repo), "visits is tenant-scoped by clinic_id, and nothing enables RLS on it"


def test_fail_on_from_the_settings_and_flags_that_win(repo: Path, capsys) -> None:
    (repo / "app").mkdir()
    (repo / "app/visits.py").write_text(  # a query tests the naive seen_at: TZ001 is a warning
        "from sqlalchemy import select\nfrom models import Visit\n\n"
        "def recent(session, since):\n    return session.scalars(select(Visit).where(Visit.seen_at > since)).all()\n")
    assert cli.main(["scan", str(repo)]) == 0, "no critical finding"
    (repo / ".dbreview.toml").write_text('fail-on = "warning"\n')
    assert cli.main(["scan", str(repo)]) == 1
    assert cli.main(["scan", str(repo), "--fail-on", "critical"]) == 0, "the flag wins"
    assert cli.main(["scan", str(repo), "--exit-zero"]) == 0
    assert cli.main(["scan", str(repo), "--disable", "TZ001", "--disable", "PERF"]) == 0
    assert cli.main(["scan", str(repo), "--enable", "TZ001"]) == 1
    capsys.readouterr()
    assert cli.main(["scan", str(repo), "--disable", "BOGUS"]) == 2
    assert "--disable names 'BOGUS'" in one_error_line(capsys)
