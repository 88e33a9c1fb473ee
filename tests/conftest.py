"""Shared fixtures: a private copy of the demo repository, a data dir in tmp_path, a fixed clock.

Snapshot SVGs live in the top-level snapshots/ folder (syrupy's `dirname` hook, set once here)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
import pytest_textual_snapshot

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "tui" / "demo"
SNAPSHOTS = ROOT / "snapshots"
FIXED_NOW = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)


def _snapshot_dir(cls, *, test_location) -> str:  # noqa: ARG001
    return str(SNAPSHOTS)


pytest_textual_snapshot.SVGImageExtension.dirname = classmethod(_snapshot_dir)


def require(*tools: str) -> None:
    """Skip the test when a program it runs for real is missing (a name on PATH, or a path); under CI,
    where .ci/run installs them all, fail instead: a missing install step must not pass as a skip."""
    missing = [t for t in tools if not (Path(t).exists() if "/" in t else shutil.which(t))]
    if missing:
        what = f"{', '.join(missing)} (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {what}")
        pytest.skip(f"needs {what}")


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """No test ever writes to the real user data, config or cache dir, and the theme does not follow the CI terminal."""
    monkeypatch.setenv("DBREVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DBREVIEW_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DBREVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("DBREVIEW_THEME", raising=False)


@pytest.fixture
def demo_repo(tmp_path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("DEFECTS.md", "__pycache__"))
    return target


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir(exist_ok=True)
    return path


def fixed_clock() -> datetime:
    return FIXED_NOW


@pytest.fixture
def scanned(demo_repo, data_dir):
    """The demo repository scanned into a saved review, as the app would leave it after its first scan."""
    from analyzers.checklist import load_checklist
    from analyzers.engine import scan
    from tui.paths import session_db
    from tui.review import Review
    from tui.session import ReviewStore

    store = ReviewStore.open(session_db(data_dir), clock=fixed_clock)
    review = Review.open(store, demo_repo, "alice", load_checklist("database"))
    review.apply_scan(scan(demo_repo).result)
    review.reload()
    yield review
    store.close()
