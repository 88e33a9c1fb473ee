"""A data dir shared by a group (setgid, group-writable) makes its review files usable by the group
and by nobody else; anywhere else they stay the user's alone. The scan cache is never in the data
dir. (The two-account test over SSH is tests/test_ssh_pair.py.)"""

from __future__ import annotations

import os
import stat

from tui import paths
from tui.session import ReviewStore


def _modes(folder) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if p.name.startswith("reviews")}


def _use(folder) -> None:
    with ReviewStore.open(paths.session_db(folder)) as store:
        store.start_review("/repo", "database", "alice")  # a write: SQLite makes its -wal and -shm


def test_in_a_group_shared_folder_review_files_are_0660_whatever_the_umask(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2770)
    old = os.umask(0o077)  # a careful user's umask must not lock the colleague out
    try:
        with ReviewStore.open(paths.session_db(shared)) as store:
            store.start_review("/repo", "database", "alice")
            modes = _modes(shared)  # while open: the -wal and -shm are there
    finally:
        os.umask(old)
    assert modes and set(modes.values()) == {0o660}, modes
    assert {p.stat().st_gid for p in shared.iterdir()} == {shared.stat().st_gid}


def test_elsewhere_they_stay_private(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    old = os.umask(0)
    try:
        _use(private)
    finally:
        os.umask(old)
    assert set(_modes(private).values()) == {0o600}


def test_a_file_made_before_the_folder_was_shared_is_opened_up_to_the_group(tmp_path):
    folder = tmp_path / "later-shared"
    folder.mkdir(mode=0o700)
    _use(folder)
    folder.chmod(0o2770)
    _use(folder)
    assert set(_modes(folder).values()) == {0o660}


def test_the_scan_cache_is_per_user_not_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv(paths.CACHE_ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    assert paths.scan_cache_dir() == tmp_path / "xdg-cache" / "dbreview" / "scan-cache"


def test_git_refusing_another_accounts_checkout_is_said(tmp_path, monkeypatch):
    import shutil
    import subprocess

    import pytest

    from tui.review import git_commit, git_refusal

    if os.getuid() != 0 or shutil.which("git") is None:
        pytest.skip("needs root (to give the checkout to another account) and git")
    monkeypatch.setenv("HOME", str(tmp_path))  # no global safe.directory of the machine's
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = tmp_path / "theirs"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    assert git_commit(repo) and git_refusal(repo) is None
    for folder, _dirs, files in os.walk(repo):
        os.chown(folder, 65534, 65534)
        for name in files:
            os.chown(os.path.join(folder, name), 65534, 65534)
    assert git_commit(repo) is None
    said = git_refusal(repo)
    assert said is not None and "another account" in said and "safe.directory" in said
    assert git_refusal(tmp_path / "nowhere") is None, "no checkout at all is no refusal"
