"""git on a repository under review runs nothing the repository (or a config it points at) names:
each hardening of tui.review._git is tested with a planted config whose command leaves a mark, through
a git call that would run it. (No pager can run: git's output is captured, never a terminal.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tui.review import _git as review_git
from tui.review import files_changed_since, git_commit


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A committed repository whose work tree then changed (the case `files changed since` looks at)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "models.py").write_text("x = 1\n")
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n")
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.name=a", "-c", "user.email=a@b", "add", "-A")
    _git(repo, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "one")
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    (repo / "models.py").write_text("x = 2\ny = 3\n")
    os.utime(repo / "models.py", (1, 1))  # stat data differs from the index: git must look at the content
    return repo, commit


def _mark(tmp_path: Path, name: str) -> tuple[Path, str]:
    mark = tmp_path / f"ran-{name}"
    return mark, f"sh -c 'touch {mark}; cat'"


@pytest.mark.parametrize("key", ["core.fsmonitor", "filter.evil.clean", "filter.evil.process"])
def test_a_command_in_the_repositorys_config_never_runs(repo: tuple[Path, str], tmp_path: Path, key: str) -> None:
    path, commit = repo
    mark, command = _mark(tmp_path, key)
    _git(path, "config", key, command)
    assert git_commit(path) == commit
    assert files_changed_since(path, commit) == 1
    assert not mark.exists(), f"{key} ran"


@pytest.mark.parametrize("key", ["diff.external", "diff.evil.textconv"])
def test_a_diff_runs_no_external_diff_or_textconv(repo: tuple[Path, str], tmp_path: Path, key: str) -> None:
    path, commit = repo
    mark, command = _mark(tmp_path, key)
    _git(path, "config", key, command)
    assert "+y = 3" in (review_git(path, "diff", commit, "--") or "")
    assert not mark.exists(), f"{key} ran"


def test_hooks_never_run(repo: tuple[Path, str], tmp_path: Path) -> None:
    path, commit = repo
    mark, _ = _mark(tmp_path, "hook")
    hook = path / ".git" / "hooks" / "post-index-change"
    hook.write_text(f"#!/bin/sh\ntouch {mark}\n")
    hook.chmod(0o755)
    review_git(path, "update-index", "--refresh")  # writes the index: the moment of post-index-change
    assert not mark.exists()


@pytest.mark.parametrize("where", ["global", "system", "GIT_CONFIG"])
def test_the_users_and_the_machines_config_are_not_read(
    repo: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path, commit = repo
    mark, command = _mark(tmp_path, where)
    config = tmp_path / f"{where}.gitconfig"
    config.write_text(f'[core]\n\tfsmonitor = "{command}"\n')
    if where == "global":
        monkeypatch.setenv("HOME", str(tmp_path))
        (tmp_path / ".gitconfig").write_text(config.read_text())
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    elif where == "system":
        monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(config))
        monkeypatch.delenv("GIT_CONFIG_NOSYSTEM", raising=False)
    else:
        monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
        monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.fsmonitor")
        monkeypatch.setenv("GIT_CONFIG_VALUE_0", command)
    assert files_changed_since(path, commit) == 1
    assert not mark.exists()


def test_a_commit_read_back_from_the_session_must_look_like_one(repo: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = repo
    out = tmp_path / "written"
    assert files_changed_since(path, f"--output={out}") is None
    assert not out.exists()
