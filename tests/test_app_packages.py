"""A folder named with a test word (`backend/test_observer/`) is the application's package when the project says
so (its packaging metadata, Alembic's env.py): its models are read; tests stay tests, and a folder of that name
in a project that says nothing of it stays a test's, whatever was scanned before in the same process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analyzers.discover import discover
from analyzers.engine import scan
from analyzers.facts.paths import is_test_path, using_app_packages

FIXTURE = Path(__file__).parent / "fixtures" / "test_named_package"
MODEL = "from sqlalchemy import Column, Integer\n\nclass Thing(Base):\n    __tablename__ = 'things'\n    id = Column(Integer, primary_key=True)\n"
ENV = "from alembic import context\n\nfrom test_probe.models import Base\n\ntarget_metadata = Base.metadata\n"


def _write(root: Path, rel: str, text: str = MODEL) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="utf-8")


def _undeclared(tmp_path: Path) -> Path:
    """The fixture without what declares test_probe the application's (its pyproject.toml and env.py)."""
    copy = tmp_path / "undeclared"
    shutil.copytree(FIXTURE, copy)
    (copy / "backend" / "pyproject.toml").unlink()
    (copy / "backend" / "migrations" / "env.py").unlink()
    return copy


def test_the_declared_package_models_are_read_and_a_test_model_is_not_nor_in_the_next_scan(tmp_path: Path) -> None:
    found = scan(FIXTURE, jobs=1)
    assert found.layout.app_packages == {"backend/test_probe"}
    assert set(found.facts.tables) == {"suites", "runs"}  # not the test's `scratch`
    assert is_test_path("backend/test_probe/models.py")  # outside the scan: names alone, as before

    again = scan(_undeclared(tmp_path), jobs=1)  # same process, a project that declares nothing
    assert again.layout.app_packages == frozenset()
    assert again.facts.tables == {}


def test_either_packaging_metadata_or_alembic_env_declares_it(tmp_path: Path) -> None:
    for i, (rel, text) in enumerate([
        ("pyproject.toml", '[tool.poetry]\nname = "Test.Probe"\n'),
        ("setup.cfg", "[metadata]\nname = test-probe\n"),
        ("setup.py", "from setuptools import setup\n\nsetup(name='other', packages=['test_probe'])\n"),
        ("migrations/env.py", ENV),
    ]):
        root = tmp_path / str(i)
        _write(root, "backend/test_probe/models.py")
        _write(root, f"backend/{rel}", text)
        assert discover(root).app_packages == {"backend/test_probe"}, rel


@pytest.mark.parametrize("rel, text", [
    ("pyproject.toml", '[project]\nname = "something-else"\n'),  # another name
    ("tests/migrations/env.py", ENV),  # a test's Alembic set-up
    ("../env.py", ENV),  # an env.py that is not beside the package's folder: not on its path for certain
])
def test_what_does_not_declare_it(tmp_path: Path, rel: str, text: str) -> None:
    _write(tmp_path, "backend/test_probe/models.py")
    _write(tmp_path, f"backend/{rel}".replace("backend/../", ""), text)
    assert discover(tmp_path).app_packages == frozenset()


def test_inside_the_package_test_words_are_its_domain_but_tests_stay_tests() -> None:
    with using_app_packages(frozenset({"backend/test_observer"})):
        assert not is_test_path("backend/test_observer/data_access/models.py")
        assert not is_test_path("backend/test_observer/controllers/test_executions/logic.py")
        assert not is_test_path("backend/test_observer/controllers/test_executions/test_execution.py")
        assert is_test_path("backend/test_observer/tests/test_logic.py")
        assert is_test_path("backend/test_observer/conftest.py")
        assert is_test_path("backend/tests/data_access/test_models.py")
        assert is_test_path("backend/test_utils/factories.py")
        assert is_test_path("other/test_observer/models.py")  # a folder of that name elsewhere
    assert is_test_path("backend/test_observer/data_access/models.py")


def test_the_facts_cache_and_the_kept_result_follow_the_declaration(tmp_path: Path) -> None:
    copy = tmp_path / "target"
    shutil.copytree(FIXTURE, copy)
    cache = tmp_path / "cache"
    assert set(scan(copy, cache_dir=cache, jobs=1).facts.tables) == {"suites", "runs"}
    (copy / "backend" / "pyproject.toml").unlink()
    (copy / "backend" / "migrations" / "env.py").unlink()
    warm = scan(copy, cache_dir=cache, jobs=1)
    assert not warm.reused and warm.facts.tables == {}


def test_explain_layout_says_which_test_named_folders_were_read_as_the_application() -> None:
    from tui.cli import explain_layout

    text = explain_layout(scan(FIXTURE, jobs=1))
    assert "though named like tests" in text and "backend/test_probe/" in text
    assert "backend/test_probe/models.py: 2 tables (runs, suites)" in text



def test_workers_and_an_isolated_child_read_the_declared_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan's packages go with the work to worker processes and to the child a big file is parsed in."""
    from analyzers import engine

    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "FORKSERVER_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "CHUNK_MIN_BYTES", 1)
    monkeypatch.setattr(engine, "ISOLATE_MIN_BYTES", 450)  # models.py goes to a child of its own
    assert (FIXTURE / "backend" / "test_probe" / "models.py").stat().st_size >= 450
    found = scan(FIXTURE, jobs=2)
    assert set(found.facts.tables) == {"suites", "runs"} and not found.result.errors
