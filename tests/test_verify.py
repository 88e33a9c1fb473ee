"""`dbreview verify` on a real PostgreSQL (no mocks): the four proofs on a fixture of our own and on the
demo, what they do to the review, the sandbox, and the cases where verify cannot or must not run.

The PostgreSQL is the machine's (`.ci/run` installs Debian's). Without one these tests are skipped on a
developer's machine, and fail in CI (CI=true), where a missing PostgreSQL is a broken set-up."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tui import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CLINIC = FIXTURES / "verify_clinic"
POSTGIS = FIXTURES / "verify_postgis"
DEMO = ROOT / "tui" / "demo"
DBREVIEW = str(Path(sys.executable).with_name("dbreview"))  # the installed command, beside this Python


def _postgres():
    from analyzers.verify.postgres import find_install
    from analyzers.verify.result import VerifyError

    try:
        return find_install()
    except VerifyError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have a PostgreSQL (.ci/run installs it): {exc}")
        pytest.skip(f"no PostgreSQL on this machine: {exc}")


@pytest.fixture(scope="module")
def shared_data(tmp_path_factory) -> Path:
    """One data dir for the module: the initdb template is made once, then copied."""
    _postgres()
    return tmp_path_factory.mktemp("verify-data")


def run_verify(capsys, data: Path, target: Path, *extra: str) -> tuple[int, dict, str]:
    code = cli.main(["--data-dir", str(data), "verify", str(target), "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("{") else {}), err


def copy_of(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "DEFECTS.md"))
    return target


@pytest.fixture(scope="module")
def clinic(shared_data, tmp_path_factory):
    """The fixture clinic verified once, in a process of its own: (exit code, JSON report, stderr, the copy)."""
    target = copy_of(CLINIC, tmp_path_factory.mktemp("clinic"))
    done = subprocess.run(
        [DBREVIEW, "--data-dir", str(shared_data), "verify", str(target), "--format", "json"],
        capture_output=True, text=True, timeout=600,
    )
    return done.returncode, json.loads(done.stdout), done.stderr, target


def by_rule(doc: dict, rule: str) -> list[dict]:
    return [f for f in doc["findings"] if f["rule_id"] == rule]


# -- the four proofs on the clinic -----------------------------------------------------------------------


def test_the_leaking_table_is_proven_and_the_isolated_one_is_not(clinic):
    code, doc, err, _ = clinic
    assert code == 1, err  # a proven leak is an open critical
    (leak,) = by_rule(doc, "TEN001")
    assert leak["proof"]["status"] == "proven"
    assert "notes" in leak["proof"]["evidence"] and "A 1 · B 1" in leak["proof"]["evidence"]
    iso = doc["verification"]["result"]["isolation"]
    assert iso["tenant_column"] == "organization_id"
    assert iso["settings"] == {"app.current_tenant_id": iso["settings"]["app.current_tenant_id"]}
    assert iso["rows"]["visits"]["app, A set"] == "A 1 · B 0"
    assert iso["rows"]["visits"]["owner, A set"] == "A 1 · B 0"  # forced: the owner is filtered too
    assert iso["rows"]["visits"]["app, unset"].startswith("error: unrecognized configuration parameter")
    assert iso["rows"]["notes"]["app, A set"] == "A 1 · B 1"
    assert set(iso["leaks"]) == {"notes"} and iso["not_seeded"] == {}


def test_the_failing_downgrade_is_proven_at_its_line(clinic):
    _, doc, _, _ = clinic
    (down,) = by_rule(doc, "VER002")
    assert down["path"] == "migrations/versions/0002_visit_reason_index.py" and down["start_line"] == 20
    assert 'index "ix_visits_by_reason" does not exist' in down["message"]
    assert down["proof"]["status"] == "proven"
    trips = {t["revision"]: t for t in doc["verification"]["result"]["roundtrips"]}
    assert trips["0001"]["left_behind"] == [] and trips["0001"]["destroyed"] == [] and trips["0001"]["differs"] == []
    assert trips["0002"]["downgrade"]["ok"] is False


def test_upgrade_and_catalog_at_head(clinic):
    _, doc, _, _ = clinic
    result = doc["verification"]["result"]
    assert [u["step"]["ok"] for u in result["upgrades"]] == [True]
    rls = {t["table"]: t for t in result["rls"]}
    assert rls["visits"]["enabled"] and rls["visits"]["forced"] and rls["visits"]["settings"] == ["app.current_tenant_id"]
    assert not rls["notes"]["enabled"]
    assert result["columns"]["visits"]["starts_at"] == "timestamp with time zone"
    assert doc["verification"]["postgres"].startswith("PostgreSQL ")
    assert result["commit"] is None  # the copy is no git repository


def test_the_report_says_what_was_proven_where(shared_data, tmp_path, capsys):
    target = copy_of(CLINIC, tmp_path)
    code = cli.main(["--data-dir", str(shared_data), "verify", str(target), "--exit-zero"])
    out, err = capsys.readouterr()
    assert code == 0  # --exit-zero
    assert "## Proof on PostgreSQL" in out and "### 4. Tenant isolation" in out
    assert "- **Proven on PostgreSQL " in out and "**Leaks (1):** `notes`" in out
    assert "verify: upgrade head passes" in err


def test_the_targets_env_py_dotenv_and_alembic_ini_are_never_used(clinic):
    _, doc, _, target = clinic
    assert not (target / "migrations" / "ENV_PY_WAS_RUN").exists()
    assert not (target / "ENV_PY_WAS_RUN").exists()
    assert doc["verification"]["result"]["upgrades"][0]["step"]["ok"]  # it ran, with the replacement env.py
    assert "db.example.invalid" not in json.dumps(doc["verification"])


# -- unverifiable, stopped, offline ----------------------------------------------------------------------


def test_a_missing_extension_is_unverifiable_and_exits_0(shared_data, tmp_path, capsys):
    from analyzers.verify.postgres import Cluster, find_install
    from analyzers.verify.sandbox import sandbox

    with Cluster(find_install(), sandbox()) as pg:
        if "postgis" in pg.available_extensions():
            pytest.skip("this PostgreSQL has PostGIS")
    code, doc, err = run_verify(capsys, shared_data, copy_of(POSTGIS, tmp_path))
    assert code == 0, err
    assert doc["verification"]["outcome"] == "unverifiable: needs postgis"
    assert "verify: unverifiable: needs postgis" in err
    assert not any(f["proof"] for f in doc["findings"])


def test_imports_beyond_alembic_and_sqlalchemy_stop_the_run_unless_allowed(shared_data, tmp_path, capsys):
    target = copy_of(CLINIC, tmp_path)
    (target / "clinic" / "naming.py").write_text('SEARCH_INDEX = "ix_visits_search"\n')
    (target / "migrations" / "versions" / "0003_search.py").write_text(
        '"""search index, named in the application"""\n'
        "from alembic import op\n\nfrom clinic.naming import SEARCH_INDEX\n\n"
        'revision = "0003"\ndown_revision = "0002"\n\n\n'
        'def upgrade():\n    op.create_index(SEARCH_INDEX, "visits", ["organization_id", "reason"])\n\n\n'
        "def downgrade():\n    op.drop_index(SEARCH_INDEX, table_name=\"visits\")\n"
    )
    code, _, err = run_verify(capsys, shared_data, target)
    assert code == 2 and "clinic.naming" in err and "--allow-imports" in err
    code, doc, err = run_verify(capsys, shared_data, target, "--allow-imports", "--fail-on", "never")
    assert code == 0, err
    assert doc["verification"]["result"]["imports"] == {"migrations/versions/0003_search.py": ["clinic.naming"]}
    assert all(u["step"]["ok"] for u in doc["verification"]["result"]["upgrades"])
    assert "index ix_visits_search on visits" not in json.dumps(doc["verification"]["result"]["roundtrips"])


def test_a_tree_whose_revisions_import_the_application_is_left_out_and_the_others_run(shared_data, tmp_path, capsys):
    target = copy_of(CLINIC, tmp_path)
    reports = target / "reports"
    (reports / "migrations" / "versions").mkdir(parents=True)
    (reports / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (reports / "migrations" / "env.py").write_text(
        "from alembic import context\n\ncontext.configure(version_table=\"reports_alembic_version\")\n"
    )
    (reports / "migrations" / "versions" / "r001_visit_counts.py").write_text(
        '"""visit counts, filled through the application model"""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\nfrom clinic.models import Visit\n\n"
        'revision = "r001"\ndown_revision = None\n\n\n'
        'def upgrade():\n    op.create_table("visit_counts", sa.Column("n", sa.Integer))\n'
        "    op.get_bind().execute(sa.select(sa.func.count()).select_from(Visit))\n\n\n"
        'def downgrade():\n    op.drop_table("visit_counts")\n'
    )
    code, doc, err = run_verify(capsys, shared_data, target, "--fail-on", "never")
    assert code == 0, err
    result = doc["verification"]["result"]
    left_out = {t["folder"]: t["skipped"] for t in result["trees"] if t["skipped"]}
    assert list(left_out) == ["reports/migrations/versions"] and "clinic.models" in left_out["reports/migrations/versions"]
    assert "reports/migrations/versions not run" in err and "--allow-imports" in err
    assert result["upgrades"] and all(u["step"]["ok"] for u in result["upgrades"])


def test_offline_sql_through_the_replacement_env_py(tmp_path, capsys):
    _postgres()
    target = copy_of(CLINIC, tmp_path)
    assert cli.main(["verify", str(target), "--sql"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("-- dbreview verify --sql: migrations/versions")
    assert "CREATE TABLE organizations" in out and "CREATE POLICY tenant_isolation ON visits" in out
    assert "CREATE INDEX ix_visits_reason ON visits (reason)" in out
    assert not (target / "migrations" / "ENV_PY_WAS_RUN").exists()


# -- the demo ---------------------------------------------------------------------------------------------


def test_the_demo_proves_its_planted_downgrade_and_leaks(shared_data, tmp_path, capsys):
    """DEFECTS.md, "Proof on PostgreSQL": what verify proves on the demo, and what it shows right."""
    code, doc, err = run_verify(capsys, shared_data, copy_of(DEMO, tmp_path))
    assert code == 1, err
    proven = {(f["rule_id"], f["path"].rsplit("/", 1)[-1], f["start_line"]) for f in doc["findings"] if f["proof"] and f["proof"]["status"] == "proven"}
    assert ("VER002", "20250212_0008_patient_name_search_index.py", 24) in proven
    assert ("TEN001", "documents.py", 24) in proven and ("TEN001", "communications.py", 39) in proven
    assert ("TEN003", "20250122_0004_row_level_security.py", 71) in proven
    assert ("TEN002", "20250122_0004_row_level_security.py", 61) in proven
    assert ("MIG002", "20250205_0007_drop_patient_phone.py", 22) in proven
    assert ("MIG003", "8b2e4f71c0d5_payment_refunded_at.py", 13) in proven
    assert ("MIG004", "20250212_5e1c7a9b3f20_reminder_deliveries_and_stripe_events.py", 14) in proven
    iso = doc["verification"]["result"]["isolation"]
    assert set(iso["leaks"]) == {"documents", "message_threads", "contact_methods", "notifications"}
    assert iso["not_seeded"] == {}
    for table in ("patients", "organization_memberships", "providers", "staff", "care_team_assignments"):
        assert iso["rows"][table]["app, A set"] == "A 1 · B 0", table  # right on purpose: forced, tenant policy
    clean = {t["revision"] for t in doc["verification"]["result"]["roundtrips"] if not (t["left_behind"] or t["destroyed"] or t["changed"] or t["differs"]) and t["downgrade"] and t["downgrade"]["ok"]}
    assert {"0001", "0002", "0004", "0005", "0006", "0009"} <= clean
    left_out = {t["folder"]: t["skipped"] for t in doc["verification"]["result"]["trees"] if t["skipped"]}
    assert list(left_out) == ["apps/analytics/migrations/versions"] and "analytics.models" in left_out[
        "apps/analytics/migrations/versions"]  # A1 imports the application: not run without --allow-imports


# -- the sandbox ------------------------------------------------------------------------------------------


def test_the_sandbox_runs_without_network_as_an_unprivileged_user_in_a_clean_environment(tmp_path, monkeypatch):
    from analyzers.verify.sandbox import clean_env, sandbox

    box = sandbox()
    if not box.unshare:
        pytest.skip(f"no network isolation here: {box.missing}")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    monkeypatch.setenv("DBREVIEW_TEST_SECRET", "must-not-leak")
    code = (
        "import os, socket, json\n"
        "s = socket.socket()\n"
        "try:\n    s.connect(('127.0.0.1', %d)); net = True\nexcept OSError:\n    net = False\n"
        "print(json.dumps({'uid': os.getuid(), 'net': net, 'env': sorted(os.environ), 'home': os.environ['HOME']}))\n" % port
    )
    home = tmp_path / "home"
    home.mkdir()
    box.give(home)
    python = "/usr/bin/python3" if box.uid is not None else sys.executable
    done = subprocess.run(box.argv([python, "-I", "-c", code]), capture_output=True, text=True, env=clean_env(home), **box.popen_user())
    listener.close()
    seen = json.loads(done.stdout)
    assert seen["net"] is False
    assert "DBREVIEW_TEST_SECRET" not in seen["env"] and seen["home"] == str(home)
    if os.geteuid() == 0:
        assert seen["uid"] == box.uid != 0


def test_the_cluster_is_stopped_and_removed_even_when_interrupted(tmp_path):
    """Ctrl-C in the middle of a run: the server stops and its folder goes."""
    _postgres()
    code = (
        "import os, signal, threading\n"
        "from analyzers.verify.postgres import Cluster, find_install\n"
        "from analyzers.verify.sandbox import sandbox\n"
        "pg = Cluster(find_install(), sandbox())\n"
        "try:\n"
        "    with pg:\n"
        "        print(pg.root, pg.server.pid, flush=True)\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        threading.Event().wait(30)\n"
        "except KeyboardInterrupt:\n"
        "    pass\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    root, pid = done.stdout.split()
    assert not Path(root).exists(), done.stderr
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


# -- the app ----------------------------------------------------------------------------------------------


async def test_v_in_the_app_verifies_and_marks_the_findings(shared_data, tmp_path):
    """V runs verify in the background; the leak's finding then reads [proven], the detail pane shows
    the isolation rows, and the proofs are in the saved review."""
    from tui.app import ReviewApp
    from tui.widgets.checklist_tree import ChecklistTree

    target = copy_of(CLINIC, tmp_path)
    app = ReviewApp(target, shared_data, "alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("V")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        review = app.screen.review
        leak = next(f for f in review.findings.values() if f.rule_id == "TEN001")
        assert review.proof_label(leak.fingerprint) == "proven"
        label = app.screen.query_one(ChecklistTree)._finding_label(review, leak.fingerprint)  # noqa: SLF001
        assert label.plain.endswith("[proven]")
        assert any(f.rule_id == "VER002" for f in review.findings.values())
        assert "verify: upgrade head passes" in str(app.screen.status.render())


def test_the_child_gets_copies_of_the_modules_its_user_cannot_read(monkeypatch):
    """dbreview installed where the sandbox's user cannot read it (a venv under /root): the child's
    modules are copied, distribution by distribution, and import from the copy as that user."""
    import tempfile

    from analyzers.verify import sandbox as sb

    box = sb.sandbox()
    work = Path(tempfile.mkdtemp(prefix="dbreview-test-"))  # as verify's own folder: reachable by the user
    work.chmod(0o711)
    monkeypatch.setattr(sb.Sandbox, "can_read", lambda self, path: "site-packages" not in str(path))
    rt = sb.runtime(box, work / "runtime")
    assert rt.path == (str(work / "runtime"),)
    code = "import sys; sys.path[:0] = %r; import alembic, sqlalchemy, psycopg, mako; print(psycopg.__file__)" % list(rt.path)
    done = subprocess.run(box.argv([rt.python, "-I", "-S", "-c", code]), capture_output=True, text=True,
                          env=sb.clean_env(work), **box.popen_user())
    shutil.rmtree(work)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(work / "runtime"))


def test_python_must_be_an_environment_with_alembic_sqlalchemy_and_a_driver(shared_data, tmp_path, capsys):
    """--python runs the revision files with the target's own environment; one that lacks what the
    child needs is refused with what it lacks (exit 2), before any database is made."""
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    code, _, err = run_verify(capsys, shared_data, copy_of(CLINIC, tmp_path), "--python", python)
    if code != 2:
        pytest.skip(f"{python} has alembic, sqlalchemy and a driver")
    assert f"--python {python} lacks alembic, sqlalchemy, psycopg or psycopg2" in err
