"""Pair review for real: two accounts in one group, each logged in over SSH with a pseudo-terminal
running dbreview on the same repository and the same group-shared data dir.

The test starts an OpenSSH server of its own on loopback (.ci/run installs it with apt-get, as a
user would), makes the group and the two accounts, and drives each `ssh -tt` session in a private
tmux at 80x24, reading what each reviewer sees. It checks that each sees the other within a second,
sees the other's decision without pressing anything, that every decision is recorded under its
reviewer's login name, that the review files are the group's and nobody else's, and that git's
refusal of the other account's checkout is said. Needs root (accounts, sshd) and Linux; skipped
elsewhere. Everything it made is removed at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import DEMO, ROOT, require
from tests.test_tmux import BODY_ROWS, START_WITHIN, Tmux, check_layout

# One the test accounts can run (a pyenv Python under /root is not), of this interpreter's version, so
# that the compiled packages copied from this environment load in it. .ci/run installs it.
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}")
PRESENT_WITHIN = 1.0  # seconds: the promise

pytestmark = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root and Linux (accounts, sshd)")
NEEDS = ("/usr/sbin/sshd", "ssh", "tmux", str(SYSTEM_PYTHON))  # .ci/run installs them


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _runtime(lib: Path) -> None:
    """dbreview and the packages it runs on, copied where the test accounts can read them: this
    interpreter's environment may sit in a folder only root can enter."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    for package in ("tui", "analyzers"):
        shutil.copytree(ROOT / package, lib / package, ignore=shutil.ignore_patterns("__pycache__"))
    seen: set[str] = set()
    todo = [str(Requirement(r).name) for r in distribution("dbreview").requires or [] if "extra ==" not in r]
    while todo:
        name = todo.pop().lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        for f in dist.files or []:
            source = Path(dist.locate_file(f))
            if source.is_file() and ".." not in f.parts:
                (lib / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, lib / f)
        for r in dist.requires or []:
            req = Requirement(r)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)


class PairHost:
    """The group, the two accounts, the sshd, the shared repository and data dir."""

    def __init__(self) -> None:
        token = uuid.uuid4().hex[:6]
        self.group, self.alice, self.bob = f"dbrp{token}", f"dbra{token}", f"dbrb{token}"
        self.base = Path(tempfile.mkdtemp(prefix="dbreview-pair-"))
        self.base.chmod(0o755)  # the accounts read their keys and the runtime here
        self.made_users: list[str] = []
        self.sshd_pid: int | None = None

    def build(self) -> None:
        base = self.base
        _run("groupadd", self.group)
        for user in (self.alice, self.bob):
            _run("useradd", "-m", "-G", self.group, "-s", "/bin/sh", user)
            self.made_users.append(user)
            _run("usermod", "-p", "*", user)  # unlocked for key login, no password
        _runtime(base / "lib")
        launcher = base / "bin" / "dbreview"  # as pip's console script: no `python -m` inside a target
        launcher.parent.mkdir()
        launcher.write_text(f"#!{SYSTEM_PYTHON}\nimport sys\nfrom tui.cli import main\nsys.exit(main())\n")
        launcher.chmod(0o755)
        _run("chmod", "-R", "a+rX", str(base / "lib"))

        keys = base / "keys"
        keys.mkdir(mode=0o755)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "client"))
        for user in (self.alice, self.bob):
            shutil.copy(base / "client.pub", keys / user)
            (keys / user).chmod(0o644)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "host"))

        # The repository: alice's checkout, readable by the group only; a git one, so that bob's git
        # refuses it as another account's.
        repo = base / "repo"
        shutil.copytree(DEMO, repo, ignore=shutil.ignore_patterns("DEFECTS.md", "__pycache__"))
        git = ["git", "-C", str(repo), "-c", "user.name=alice", "-c", "user.email=alice@example.org"]
        _run("git", "init", "-q", str(repo))
        _run(*git, "add", "-A")
        _run(*git, "commit", "-q", "-m", "the code under review")
        _run("chown", "-R", f"{self.alice}:{self.group}", str(repo))
        _run("chmod", "-R", "g+rX,o-rwx", str(repo))

        data = base / "data"
        data.mkdir()
        _run("chown", f"{self.alice}:{self.group}", str(data))
        data.chmod(0o2770)  # setgid and group-writable: the group's shared data dir

        self.port = _free_port()
        config = base / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {base / 'host'}\nPidFile {base / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {keys}/%u\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            f"UsePAM no\nStrictModes no\nPermitRootLogin no\nAllowUsers {self.alice} {self.bob}\n"
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        subprocess.run(["/usr/sbin/sshd", "-f", str(config), "-E", str(base / "sshd.log")], check=True)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if (base / "sshd.pid").exists():
                self.sshd_pid = int((base / "sshd.pid").read_text())
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", self.port)) == 0:
                        return
            time.sleep(0.1)
        raise AssertionError("sshd did not start:\n" + (base / "sshd.log").read_text())

    def login(self, user: str, tmp: Path) -> Tmux:
        """`ssh -tt` as `user`, running dbreview in the pseudo-terminal sshd gives it."""
        remote = (
            f"cd {self.base} && exec env TERM=xterm-256color PYTHONPATH={self.base / 'lib'} PYTHONDONTWRITEBYTECODE=1 "
            f"{self.base / 'bin' / 'dbreview'} open {self.base / 'repo'} --data-dir {self.base / 'data'}"
        )
        command = [
            "ssh", "-tt", "-F", "/dev/null", "-i", str(self.base / "client"), "-p", str(self.port),
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", f"{user}@127.0.0.1", remote,
        ]  # fmt: skip
        where = tmp / user
        where.mkdir()
        return Tmux(command, {"TERM": "xterm-256color"}, where)

    def clean(self) -> None:
        if self.sshd_pid:
            try:
                os.kill(self.sshd_pid, 15)
            except ProcessLookupError:
                pass
        for user in self.made_users:
            subprocess.run(["pkill", "-KILL", "-u", user], check=False)  # the accounts' own processes only
            subprocess.run(["userdel", "-r", user], check=False, capture_output=True)
        subprocess.run(["groupdel", self.group], check=False, capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def host():
    require(*NEEDS)
    pair = PairHost()
    try:
        pair.build()
        yield pair
    finally:
        pair.clean()


def _status(screen: list[str]) -> str:
    return screen[BODY_ROWS]


def _until(app: Tmux, ready, what: str, within: float = 15.0) -> tuple[list[str], float]:
    """The screen once `ready` holds, and when that was first seen (polled every 50 ms)."""
    end = time.monotonic() + within
    screen: list[str] = []
    while time.monotonic() < end:
        screen = app.screen()
        if ready(screen):
            return screen, time.monotonic()
        if app.exit_status() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {within:.0f} s; the screen:\n" + "\n".join(screen))


def _triaged(n: int):
    return lambda s: re.search(rf" {n}/\d+ triaged", _status(s)) is not None


def test_two_accounts_review_in_pairs_over_ssh(host: PairHost, tmp_path: Path) -> None:
    alice_tty = host.login(host.alice, tmp_path)
    bob_tty = None
    try:
        _until(alice_tty, lambda s: any("Context documents" in row for row in s), "scanned review for alice", START_WITHIN)
        alice_tty.keys("n")
        _until(alice_tty, lambda s: "▸" in "\n".join(s), "alice's first finding")
        alice_tty.keys("c")  # confirm, and on to the next
        _until(alice_tty, _triaged(1), "alice's confirmation")

        bob_tty = host.login(host.bob, tmp_path)
        _, opened = _until(bob_tty, lambda s: _status(s).strip() != "", "bob's status line", START_WITHIN)
        screen, bob_sees = _until(bob_tty, lambda s: f"with {host.alice}" in _status(s), "alice in bob's status line")
        _, alice_sees = _until(alice_tty, lambda s: f"with {host.bob}" in _status(s), "bob in alice's status line")
        check_layout(screen)
        print(f"presence after bob's app showed: bob sees alice {bob_sees - opened:.2f} s, alice sees bob {alice_sees - opened:.2f} s")
        assert bob_sees - opened <= PRESENT_WITHIN and alice_sees - opened <= PRESENT_WITHIN
        assert _triaged(1)(screen), "bob sees alice's decision without pressing anything"

        # Bob's scan ends on a checkout git refuses him (it is alice's): said, not silently lost.
        _until(bob_tty, lambda s: "git refuses" in "\n".join(s), "git's refusal said to bob", START_WITHIN)
        bob_tty.keys("n")
        _until(bob_tty, lambda s: "▸" in "\n".join(s), "bob's first finding")
        bob_tty.keys("x")
        _until(bob_tty, lambda s: any("Dismiss:" in row for row in s), "dismiss dialog")
        bob_tty.keys("Enter")
        time.sleep(0.5)
        bob_tty.keys("Enter")
        _until(bob_tty, _triaged(2), "bob's dismissal")
        _until(alice_tty, _triaged(2), "bob's dismissal on alice's screen")
        for tty in (alice_tty, bob_tty):
            tty.keys("q")
        end = time.monotonic() + 15
        while (alice_tty.exit_status() is None or bob_tty.exit_status() is None) and time.monotonic() < end:
            time.sleep(0.1)
    finally:
        alice_tty.kill()
        if bob_tty is not None:
            bob_tty.kill()

    data = host.base / "data"
    group = host.base.joinpath("data").stat().st_gid
    for f in data.iterdir():
        if f.name.startswith("reviews.sqlite3"):
            st = f.stat()
            assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == group, f"{f.name}: {oct(st.st_mode)} gid {st.st_gid}"
    con = sqlite3.connect(data / "reviews.sqlite3")
    try:
        decided = con.execute("SELECT reviewer, new FROM events WHERE kind = 'disposition' ORDER BY id").fetchall()
    finally:
        con.close()
    assert decided == [(host.alice, "confirmed"), (host.bob, "dismissed")]
