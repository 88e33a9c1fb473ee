"""How untrusted things run: the target's revision files (in a Python child) and the throwaway
PostgreSQL server. Both run as an unprivileged user when dbreview runs as root, without network
where the platform allows it (`unshare --net`), with a clean environment and a temporary HOME, and
die with dbreview (`setpriv --pdeathsig`). The Python child also sets its own CPU, memory and file
limits before it reads a line of the target (child.py).

What could not be had on this machine is listed in `Sandbox.missing`, and said in the result.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

UNPRIVILEGED_USER = "nobody"
# What the child imports: Alembic, SQLAlchemy, the driver, and what they need.
CHILD_MODULES = ("alembic", "sqlalchemy", "mako", "markupsafe", "typing_extensions", "psycopg", "psycopg_binary")


@dataclass(frozen=True, slots=True)
class Sandbox:
    uid: int | None  # the unprivileged user to become (dbreview runs as root); None: stay who we are
    gid: int | None
    user: str  # who the child and the server run as
    setpriv: str | None  # util-linux setpriv: drops the user after unshare, parent-death signal
    unshare: tuple[str, ...]  # the prefix that takes the network away; () where it cannot
    missing: tuple[str, ...] = ()  # protections this machine cannot give

    @property
    def protections(self) -> tuple[str, ...]:
        done = [f"runs as {self.user}" + (" (unprivileged)" if self.uid is not None else "")]
        if self.unshare:
            done.append("no network (unshare --net)")
        done += ["clean environment, temporary HOME", "CPU, memory and time limits", "a copy of the revision files"]
        return tuple(done)

    def argv(self, command: list[str], *, death_signal: str = "KILL") -> list[str]:
        """The command as the sandbox runs it: without network, as the user, killed with dbreview."""
        prefix: list[str] = list(self.unshare)
        if self.setpriv:
            prefix += [self.setpriv, f"--pdeathsig={death_signal}"]
            if self.uid is not None:
                prefix += [f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--no-new-privs"]
            prefix.append("--")
        return prefix + command

    def popen_user(self) -> dict:
        """Popen's own user switch, for a machine without setpriv (then the switch comes first and
        there is no unshare, which needs root before it)."""
        if self.uid is not None and not self.setpriv:
            return {"user": self.uid, "group": self.gid, "extra_groups": []}
        return {}

    def give(self, path: Path) -> None:
        """Hand a file or folder dbreview made to the sandbox's user."""
        if self.uid is not None:
            os.chown(path, self.uid, self.gid or 0)

    def can_read(self, path: Path) -> bool:
        """Whether the sandbox's user can reach and read `path` (by its mode bits)."""
        return self.uid is None or _reachable(path, self.uid, self.gid or 0)


@functools.cache
def sandbox() -> Sandbox:
    """What this machine allows, found once per process."""
    missing: list[str] = []
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    uid = gid = None
    user = _login()
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        import pwd

        try:
            entry = pwd.getpwnam(UNPRIVILEGED_USER)
            uid, gid, user = entry.pw_uid, entry.pw_gid, UNPRIVILEGED_USER
        except KeyError:
            raise SandboxError(f"dbreview runs as root and there is no user {UNPRIVILEGED_USER!r} to run the target's code as") from None
    unshare: tuple[str, ...] = ()
    tool = shutil.which("unshare") if sys.platform == "linux" else None
    if tool and uid is not None and setpriv:
        unshare = (tool, "--net", "--")  # as root: a new network namespace, then setpriv drops to the user
    elif tool and uid is None and _works([tool, "--net", "--map-current-user", "--", "true"]):
        unshare = (tool, "--net", "--map-current-user", "--")  # a user namespace keeps our own uid
    if not unshare:
        missing.append("no network isolation (needs Linux with unshare and user namespaces)")
    if not setpriv:
        missing.append("not stopped if dbreview is killed (needs setpriv's parent-death signal)")
    if uid is None:
        missing.append(f"runs as you ({user}): the child can read what you can read")
    return Sandbox(uid, gid, user, setpriv, unshare, tuple(missing))


def _login() -> str:
    try:
        import getpass

        return getpass.getuser()
    except (OSError, KeyError):
        return str(os.getuid()) if hasattr(os, "getuid") else "you"


def _works(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _reachable(path: Path, uid: int, gid: int) -> bool:
    """Every folder above is searchable and the file itself readable (executable for a program) by
    uid/gid, judged from the mode bits."""
    path = Path(os.path.realpath(path))
    chain = [*reversed(path.parents), path]
    for i, part in enumerate(chain):
        try:
            st = part.stat()
        except OSError:
            return False
        need = stat.S_IXOTH
        if i == len(chain) - 1:
            need = stat.S_IROTH | (stat.S_IXOTH if part.is_dir() or os.access(part, os.X_OK) else 0)
        if st.st_uid == uid:
            need <<= 6
        elif st.st_gid == gid:
            need <<= 3
        if st.st_mode & need != need:
            return False
    return True


# -- the child's Python -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Runtime:
    python: str  # an interpreter the sandbox's user can run, of this one's version
    path: tuple[str, ...]  # sys.path entries that hold CHILD_MODULES (and, allowed, the target's imports)
    site: bool = False  # the interpreter's own site-packages count (the target's environment, --python)
    driver: str = "psycopg"  # the DB-API driver the child migrates with: psycopg, or psycopg2 in a target's environment

    @property
    def flags(self) -> list[str]:
        return ["-I"] if self.site else ["-I", "-S"]


class SandboxError(Exception):
    """The sandbox cannot be set up here: no Python its user can run, or our modules are missing."""


def runtime(box: Sandbox, into: Path, extra_modules: tuple[str, ...] = ()) -> Runtime:
    """The interpreter and module path for the child. The user of the sandbox must be able to run
    the interpreter (a Python under /root is not: Debian's /usr/bin/python3.X is) and read the
    modules; those it cannot read are copied, distribution by distribution, into `into`."""
    python = _interpreter(box)
    modules = CHILD_MODULES + extra_modules
    places = {m: _site_of(m) for m in modules}
    unknown = [m for m, p in places.items() if p is None and m in CHILD_MODULES]
    if unknown:
        raise SandboxError(f"dbreview's environment lacks {', '.join(unknown)} (reinstall dbreview)")
    found = {m: p for m, p in places.items() if p is not None}
    if all(box.can_read(p) for p in found.values()):
        return Runtime(python, tuple(dict.fromkeys(str(p) for p in found.values())))
    copy_distributions(tuple(found), into)
    return Runtime(python, (str(into),))  # copied: the user cannot read ours


def copy_distributions(modules: tuple[str, ...], into: Path) -> None:
    """The installed files of the distributions that provide `modules`, at the same paths relative to
    their site-packages, readable (and, where they were, executable) by anyone."""
    into.mkdir(parents=True, exist_ok=True)
    for dist in _distributions(modules):
        for file in dist.files or ():
            src = Path(dist.locate_file(file))
            if ".." in file.parts or not src.is_file() or file.parts[0].endswith((".dist-info", "__pycache__")):
                continue
            dest = into / file
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            if os.access(src, os.X_OK):
                dest.chmod(0o755)
    for folder, _dirs, files in os.walk(into):
        os.chmod(folder, 0o755)
        for name in files:
            p = os.path.join(folder, name)
            os.chmod(p, os.stat(p).st_mode | 0o444)


def target_runtime(box: Sandbox, python: str, modules: tuple[str, ...]) -> Runtime:
    """The target's own environment (--python): its interpreter, with its site-packages, must give
    Alembic, SQLAlchemy, psycopg or psycopg2, and `modules`. SandboxError says what it lacks."""
    path = shutil.which(python) or python
    if not os.path.isfile(path) or not box.can_read(Path(path)):
        raise SandboxError(f"--python {python}: no interpreter there that {box.user} can run")
    probe = (
        "import importlib.util as u, json, sys\n"
        "names = sys.argv[1:]\n"
        "print(json.dumps({n: u.find_spec(n) is not None for n in names}))\n"
    )
    wanted = ("alembic", "sqlalchemy", "psycopg", "psycopg2", *modules)
    try:
        done = subprocess.run(box.argv([path, "-I", "-c", probe, *wanted]), capture_output=True, text=True, timeout=60,
                              env=clean_env(Path("/tmp")), **box.popen_user())
        found = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        raise SandboxError(f"--python {python} does not run as {box.user}") from None
    lacks = [m for m in ("alembic", "sqlalchemy", *modules) if not found.get(m)]
    if not (found.get("psycopg") or found.get("psycopg2")):
        lacks.append("psycopg or psycopg2")
    if lacks:
        raise SandboxError(f"--python {python} lacks {', '.join(lacks)}")
    return Runtime(path, (), site=True, driver="psycopg" if found.get("psycopg") else "psycopg2")


def _interpreter(box: Sandbox) -> str:
    here = os.path.realpath(sys.executable)
    if box.uid is None:
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (here, f"/usr/bin/{version}", f"/usr/local/bin/{version}", shutil.which(version)):
        if candidate and os.path.isfile(candidate) and box.can_read(Path(candidate)):
            return os.path.realpath(candidate)
    raise SandboxError(
        f"dbreview runs as root and {box.user} cannot run this Python ({here}) nor find a {version} of its "
        f"own: install {version} for all users (Debian: apt-get install {version}), or run dbreview as another user"
    )


def _site_of(module: str) -> Path | None:
    """The folder on sys.path that holds a top-level module, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None
    origin = Path(spec.origin)
    top = origin.parent.parent if origin.name == "__init__.py" else origin.parent
    return top if not _is_stdlib(top) else None


def _is_stdlib(folder: Path) -> bool:
    import sysconfig

    return str(folder) in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}


def _distributions(modules: tuple[str, ...]) -> list[importlib.metadata.Distribution]:
    owners = importlib.metadata.packages_distributions()
    names = dict.fromkeys(d for m in modules for d in owners.get(m, ()))
    dists = []
    for name in names:
        try:
            dists.append(importlib.metadata.distribution(name))
        except importlib.metadata.PackageNotFoundError:
            continue
    return dists


def clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a sandboxed process: nothing of ours leaks in."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    env.update(extra or {})
    return env


def kill_group(proc: subprocess.Popen) -> None:
    """End a sandboxed process and everything it started (it leads its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
