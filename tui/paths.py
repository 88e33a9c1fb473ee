"""The one place that decides where dbreview keeps its files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

ENV_VAR = "DBREVIEW_DATA_DIR"
CONFIG_ENV_VAR = "DBREVIEW_CONFIG_DIR"
CACHE_ENV_VAR = "DBREVIEW_CACHE_DIR"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir, else $DBREVIEW_DATA_DIR, else the platform's user data dir; created 0700."""
    chosen = override or os.environ.get(ENV_VAR) or platformdirs.user_data_dir("dbreview", appauthor=False)
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def session_db(base: Path) -> Path:
    return base / "reviews.sqlite3"


def scan_cache_dir() -> Path:
    """The scan cache: the user's own ($DBREVIEW_CACHE_DIR, else the platform's user cache dir),
    never the data dir, which a group may share: a file another account could write is never
    loaded into this process (analyzers/scan_cache.py)."""
    chosen = os.environ.get(CACHE_ENV_VAR) or platformdirs.user_cache_dir("dbreview", appauthor=False)
    return Path(chosen).expanduser() / "scan-cache"


def shared_group(directory: Path) -> int | None:
    """The group that shares a data dir (setgid and group-writable, as `chmod 2770` makes it), else
    None: then everything in it is the user's alone."""
    try:
        st = directory.stat()
    except OSError:
        return None
    return st.st_gid if st.st_mode & stat.S_ISGID and st.st_mode & stat.S_IWGRP else None


def file_mode(directory: Path) -> int:
    """What a review file in `directory` is created with: 0660 in a group's shared data dir (never
    readable by others), else 0600."""
    return 0o660 if shared_group(directory) is not None else 0o600


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
