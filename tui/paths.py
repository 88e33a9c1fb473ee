"""The one place that decides where dbreview keeps its files."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "DBREVIEW_DATA_DIR"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir, else $DBREVIEW_DATA_DIR, else the platform's user data dir; created 0700."""
    chosen = override or os.environ.get(ENV_VAR) or platformdirs.user_data_dir("dbreview", appauthor=False)
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def session_db(base: Path) -> Path:
    return base / "reviews.sqlite3"


def scan_cache_dir(base: Path) -> Path:
    return base / "scan-cache"


def demo_copy_dir(base: Path) -> Path:
    return base / "demo-repository"
