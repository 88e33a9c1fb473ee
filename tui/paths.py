"""The one place that decides where dbreview keeps its files."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "DBREVIEW_DATA_DIR"
CONFIG_ENV_VAR = "DBREVIEW_CONFIG_DIR"


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


def config_file() -> Path:
    """The user's own preferences (keys, theme, auto-advance): $DBREVIEW_CONFIG_DIR, else the
    platform's user config dir. Never in a reviewed repository, never created until saved."""
    chosen = os.environ.get(CONFIG_ENV_VAR) or platformdirs.user_config_dir("dbreview", appauthor=False)
    return Path(chosen).expanduser() / "config.toml"


def postgres_template_dir(base: Path) -> Path:
    """A fresh initdb that `dbreview verify` copies instead of running initdb again."""
    return base / "postgres-template"
