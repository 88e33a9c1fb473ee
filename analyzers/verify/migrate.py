"""The parent's side of the Alembic child: a copy of one tree's revision files with the replacement
env.py, the child started in the sandbox on it, and its commands with a time limit each."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

from analyzers.verify.result import Step, Where
from analyzers.verify.sandbox import Runtime, Sandbox, clean_env, kill_group

HERE = Path(__file__).parent
CPU_SECONDS = 600
MEMORY_BYTES = 2 * 1024**3
COMMAND_TIMEOUT = 180.0
_SKIP = {"__pycache__"}


def copy_tree(root: Path, folder: str, dest: Path, box: Sandbox) -> Path:
    """A script location of our own: the revision files of the tree in `folder` (relative to the
    target's `root`; Python only, read through analyzers.confine, so nothing outside the repository
    and no FIFO) and the replacement env.py. Returns the folder to give Alembic."""
    from analyzers import confine

    versions = root / folder
    (dest / "versions").mkdir(parents=True)
    for here, dirs, files in os.walk(versions):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP and not d.startswith("."))
        rel = Path(here).relative_to(versions)
        (dest / "versions" / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            if not name.endswith(".py"):
                continue
            try:
                data = confine.read_bytes(str(root), (Path(folder) / rel / name).as_posix())
            except OSError:
                continue  # outside the repository, not a file, too large: not copied, as the scan skips it
            (dest / "versions" / rel / name).write_bytes(data)
    shutil.copyfile(HERE / "replacement_env.py", dest / "env.py")
    _give_all(dest, box)
    return dest


def _give_all(root: Path, box: Sandbox) -> None:
    for folder, _dirs, files in os.walk(root):
        box.give(Path(folder))
        for name in files:
            box.give(Path(folder) / name)


class AlembicChild:
    """One sandboxed Python running child.py on one tree, for one database."""

    def __init__(self, box: Sandbox, runtime: Runtime, home: Path, script_location: Path, url: str, version_table: str) -> None:
        self.box, self.runtime, self.home = box, runtime, home
        self.script_location, self.url, self.version_table = script_location, url, version_table
        self.proc: subprocess.Popen | None = None
        self.errors = home / f"child-{script_location.name}.log"
        self._buffer = b""

    def __enter__(self) -> AlembicChild:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        child = self.home / "child.py"
        if not child.exists():
            shutil.copyfile(HERE / "child.py", child)
            self.box.give(child)
        argv = [self.runtime.python, *self.runtime.flags, str(child), str(CPU_SECONDS), str(MEMORY_BYTES)]
        self._log = open(self.errors, "ab")  # noqa: SIM115 - closed in close()
        self.box.give(self.errors)
        self.proc = subprocess.Popen(
            self.box.argv(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            env=clean_env(self.home, {"DBREVIEW_VERIFY_URL": self.url}), cwd=self.home, start_new_session=True,
            **self.box.popen_user(),
        )
        config = {
            "sys_path": list(self.runtime.path), "script_location": str(self.script_location),
            "version_table": self.version_table, "driver": self.runtime.driver,
        }
        self._send(config)

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            kill_group(proc)
        self._log.close()

    def ask(self, request: dict, timeout: float = COMMAND_TIMEOUT) -> dict:
        """One command; a child that dies or overruns is killed and the answer says so."""
        if self.proc is None:
            return {"ok": False, "error": "the child is not running"}
        try:
            self._send(request)
            return json.loads(self._line(timeout))
        except TimeoutError:
            kill_group(self.proc)
            self.proc = None
            return {"ok": False, "error": f"stopped after {timeout:.0f} s (the time limit of one command)"}
        except (OSError, ValueError, EOFError):
            code = self.proc.poll()
            self.proc = None
            return {"ok": False, "error": f"the child ended (exit status {code}): {self.stderr_tail()}"}

    def step(self, op: str, target: str, versions_folder: str, url: str | None = None, timeout: float = COMMAND_TIMEOUT) -> Step:
        """An upgrade or downgrade (of the database at `url`, else the child's own) as a Step; a
        failure names the revision file's line."""
        answer = self.ask({"op": op, "target": target, "url": url or self.url}, timeout)
        where = None
        if answer.get("file"):
            where = Where(f"{versions_folder}/{answer['file']}", int(answer.get("line") or 1))
        return Step(bool(answer.get("ok")), answer.get("error"), None, where, float(answer.get("seconds") or 0.0))

    def stderr_tail(self) -> str:
        try:
            text = self.errors.read_text(errors="replace").strip()
        except OSError:
            return ""
        return text[-400:]

    def _send(self, obj: dict) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def _line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise EOFError
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", errors="replace")

