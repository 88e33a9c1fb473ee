"""Where the database code of a target is: the Python files worth reading, Alembic set-ups, design
docs, as the target's settings (analyzers/settings.py) pin them. No fixed paths."""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from analyzers import confine
from analyzers.facts.paths import is_test_path, named_for_tests, using_app_packages
from analyzers.settings import Settings, load_settings

MAX_FILE_BYTES = 4 * 1024 * 1024
SKIP_DIRS = {
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", "site-packages", ".eggs", "dist", "build", ".idea", ".vscode",
}
# Folders that by convention hold copies of other projects (`third-party/sqlalchemy-enum-tables`, `_vendor/`):
# their SQL and models are a library's, not the application's.
VENDORED_DIRS = {"third_party", "third-party", "thirdparty", "vendor", "vendored", "_vendor"}
# Names of build outputs that are also ordinary package names (`app/features/build/`, a namespace
# package maybe): such a folder with Python files of its own is source; an output holds its copies
# deeper (build/lib/..., dist/app-1.0/...), never beside it.
_OUTPUT_DIRS = {"dist", "build"}
# A Python file is read only if it mentions one of these: most of a large tree never reaches the parser.
# Password hashing is read wherever it is (a service, not the model), so a `password` column is judged
# against it; so is the making of random tokens, so that a token column is judged by what is stored in it.
MARKERS = (
    b"sqlalchemy", b"sqlmodel", b"alembic", b"mapped_column", b"Column(", b"__tablename__", b"relationship(",
    b"down_revision", b"bcrypt", b"argon2", b"passlib", b"hash_password", b"generate_password_hash",
    b"SQLALCHEMY_",  # a Flask app's configuration: its engine's options
    b"naming_convention",  # a MetaData given its convention in a module of its own
    b"urandom", b"token_urlsafe", b"token_hex", b"token_bytes",  # secrets made for clients: what stores them (MOD008)
    # a database URL built from its parts, often in a settings module of its own (CFG021)
    b"postgresql://", b"postgresql+", b"postgres://", b"mysql://", b"mysql+", b"mariadb+", b"mssql+", b"oracle+",
    b"DRIVER}://", b"driver}://",
)
DOC_DIRS = ("docs",)
# Deployment and set-up files, where an application that reads its database URL from the environment names
# the database it runs on (`connection = mysql+pymysql://...` in a devstack script, `DATABASE_URL=` in .env).
CONFIG_SUFFIXES = (".ini", ".cfg", ".conf", ".sh", ".env", ".toml", ".yaml", ".yml")
MAX_CONFIG_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Candidate:
    path: str  # relative, POSIX
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Layout:
    root: Path
    python: list[Candidate] = field(default_factory=list)
    python_total: int = 0  # every .py seen, read or not
    alembic_ini: list[tuple[str, str]] = field(default_factory=list)  # (alembic.ini path, script_location)
    docs: list[str] = field(default_factory=list)
    settings: Settings = field(default_factory=Settings)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    files: list[str] = field(default_factory=list)  # every regular file the walk saw (what `/` searches)
    configs: list[Candidate] = field(default_factory=list)  # set-up files outside tests and docs (CONFIG_SUFFIXES)
    # folders with a test word in their names that the project declares its own packages (app_packages)
    app_packages: frozenset[str] = frozenset()


class TargetError(Exception):
    """The target cannot be reviewed at all (missing, not a directory, no Python)."""


def discover(root: Path, settings: Settings | None = None) -> Layout:
    """What of `root` is worth reading. Without `settings`, the target's own are read (a
    SettingsError when they cannot be used)."""
    layout = _layout(root, settings)
    for entry, rel in _walk(layout):
        try:
            _file(layout, entry, rel)
        except OSError as exc:
            layout.skipped.append((rel, f"cannot be read: {exc.strerror or exc}"))
    layout.python.sort(key=lambda c: c.path)
    layout.docs.sort()
    if layout.python_total == 0:
        raise TargetError(f"{root}: holds no Python files")
    layout.app_packages = app_packages(layout)
    with using_app_packages(layout.app_packages):
        layout.configs = [c for c in layout.configs if not is_test_path(c.path)]
    return layout


def python_root(root: Path) -> Path:
    """The root discover() would find, or the TargetError it would raise, with the default settings;
    the walk stops at the first Python file: `dbreview open` checks the path before the app starts
    (and scans it behind its first screen)."""
    layout = _layout(root, Settings())
    if not any(entry.name.endswith(".py") for entry, _ in _walk(layout)):
        raise TargetError(f"{root}: holds no Python files")
    return layout.root


def _layout(root: Path, settings: Settings | None) -> Layout:
    root = Path(root)
    if not root.exists():
        raise TargetError(f"{root}: no such file or directory")
    if not root.is_dir():
        raise TargetError(f"{root}: not a directory")
    layout = Layout(root=root.resolve())
    layout.settings = settings if settings is not None else load_settings(layout.root)
    return layout


def _walk(layout: Layout) -> Iterator[tuple[os.DirEntry[str], str]]:
    """The regular files under the root that the settings do not exclude, with their relative paths;
    what is not walked (links out, loops, unreadable folders) noted in layout.skipped."""
    excluded = layout.settings.excluded if layout.settings.exclude else None
    seen_dirs: set[tuple[int, int]] = set()
    # Plain strings, not Path objects: on a tree of thousands of files pathlib is most of the walk.
    stack: list[tuple[str, str]] = [(str(layout.root), "")]  # (absolute path, relative path)
    # Links to directories are walked last, so that a directory is read under its real path; a link to one
    # walked already is a second path to it (said nothing of), unless it leads to its own ancestor (a loop).
    links: list[tuple[str, str]] = []
    while stack or links:
        directory, rel_dir = stack.pop() if stack else links.pop(0)
        try:
            st = os.stat(directory)
            if (st.st_dev, st.st_ino) in seen_dirs:
                if _loops(directory):
                    layout.skipped.append((rel_dir or ".", "directory already visited (symlink loop)"))
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            layout.skipped.append((rel_dir or ".", f"cannot be read: {exc.strerror or exc}"))
            continue
        if rel_dir and (installed := next((e.name for e in entries if e.name.endswith(".dist-info")), None)):
            # pip's record of an installed distribution: the folder is a library copy (`pip install --target libs`),
            # not the application's code, however much SQLAlchemy it holds
            layout.skipped.append((rel_dir, f"skipped: third-party packages installed here (it holds {installed})"))
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if excluded is not None and excluded(rel):
                continue
            try:
                if entry.is_symlink() and (leads_to := confine.link_leaves(str(layout.root), entry.path)) is not None:
                    layout.skipped.append((rel, f"skipped: a symbolic link out of the repository (to {leads_to})"))
                    continue
                if entry.is_dir():
                    name = entry.name
                    if skipped_dir(entry.path, name) or os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
                        continue
                    if name.lower() in VENDORED_DIRS:
                        layout.skipped.append((rel, f"skipped: other projects' code copied in (a folder named {name})"))
                        continue
                    (links if entry.is_symlink() else stack).append((entry.path, rel))
                    continue
                if not entry.is_file():
                    if entry.is_symlink():
                        layout.skipped.append((rel, "broken symbolic link"))
                    continue
            except OSError as exc:
                layout.skipped.append((rel, f"cannot be read: {exc.strerror or exc}"))
                continue
            yield entry, rel


def _loops(path: str) -> bool:
    """Whether the directory reached at `path` holds the place it is reached from (a link to an ancestor)."""
    target, parent = os.path.realpath(path), os.path.realpath(os.path.dirname(path))
    return parent == target or parent.startswith(target.rstrip(os.sep) + os.sep)


def skipped_dir(path: str, name: str) -> bool:
    """Whether the folder `name` at `path` holds no source of the target (tools' caches, environments,
    build outputs)."""
    if name.endswith(".egg-info"):
        return True
    if name in _OUTPUT_DIRS:
        try:
            with os.scandir(path) as it:
                return not any(e.name.endswith(".py") and e.is_file() for e in it)
        except OSError:
            return True
    return name in SKIP_DIRS


def _file(layout: Layout, entry: os.DirEntry[str], rel: str) -> None:
    name = entry.name
    layout.files.append(rel)
    if name.endswith(".py"):
        layout.python_total += 1
        st = entry.stat()
        if st.st_size > MAX_FILE_BYTES:
            layout.skipped.append((rel, f"skipped: {st.st_size // 1024} KiB is over the {MAX_FILE_BYTES // 1024 // 1024} MiB limit"))
            return
        layout.python.append(Candidate(rel, st.st_size, st.st_mtime_ns))
    elif name == "alembic.ini":
        layout.alembic_ini.append((rel, _script_location(str(layout.root), rel)))
    elif name.endswith(".md") and _is_doc(rel, layout.settings):
        layout.docs.append(rel)
    if name.endswith(CONFIG_SUFFIXES) or name.startswith(".env"):  # alembic.ini too
        _config(layout, entry, rel)


def _config(layout: Layout, entry: os.DirEntry[str], rel: str) -> None:
    """A set-up file the application's deployment reads, not a test's or a document's example."""
    st = entry.stat()
    if st.st_size <= MAX_CONFIG_BYTES and not any(p in DOC_DIRS for p in rel.split("/")[:-1]):  # tests' once it is known
        layout.configs.append(Candidate(rel, st.st_size, st.st_mtime_ns))


def app_packages(layout: Layout) -> frozenset[str]:
    """The folders of Python whose names have a test word (`backend/test_observer/`) that the project itself says
    are its application's package, so that their models, queries and engines are read as the application's:
    - its packaging metadata beside the folder (or above a `src/` holding it) names it: pyproject.toml's
      `[project] name`, `[tool.poetry] name` or packages, setup.cfg's or setup.py's name or packages, normalised
      as pip does (`test-observer` is `test_observer`);
    - or an Alembic env.py under the folder that holds it imports it as a top-level package
      (`from test_observer.data_access import Base`): the application's models, by definition.
    A folder inside tests (`tests/test_probe/`) is never one, nor one named only for tests (`tests/`)."""
    with using_app_packages(frozenset()):  # as the names alone say
        holders = {c.path.rpartition("/")[0] for c in layout.python if "/" in c.path}
        candidates = sorted(d for d in holders if named_for_tests(d.rpartition("/")[2])
                            and not is_test_path(f"{d.rpartition('/')[0]}/x.py".lstrip("/")))
        if not candidates:
            return frozenset()
        envs = [c.path for c in layout.python if c.path.rpartition("/")[2] == "env.py" and not is_test_path(c.path)]
    root, files = str(layout.root), set(layout.files)
    found = set()
    for folder in candidates:
        parent, _, name = folder.rpartition("/")
        above = [parent] + ([parent.rpartition("/")[0]] if parent.rpartition("/")[2] == "src" else [])
        if _normal(name) in {n for d in above for n in _declared(root, d, files)} or any(
                name in _env_imports(root, env) for env in envs if env.startswith(f"{parent}/" if parent else "")):
            found.add(folder)
    return frozenset(found)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _declared(root: str, folder: str, files: set[str]) -> set[str]:
    """The distribution and package names the packaging metadata in `folder` declares, normalised."""
    import ast
    import tomllib

    at = f"{folder}/" if folder else ""
    names: list[object] = []  # distribution names (`test-observer`, `Test.Probe`)
    packages: list[object] = []  # import names (`test_observer`, `test_observer.api`)
    if f"{at}pyproject.toml" in files:
        try:
            doc = tomllib.loads(confine.read_text(root, f"{at}pyproject.toml"))
        except (OSError, ValueError):
            doc = {}
        tool = doc.get("tool", {}) if isinstance(doc.get("tool"), dict) else {}
        poetry = tool.get("poetry", {}) if isinstance(tool.get("poetry"), dict) else {}
        names += [doc.get("project", {}).get("name") if isinstance(doc.get("project"), dict) else None, poetry.get("name")]
        packages += [p.get("include") for p in poetry.get("packages", []) if isinstance(p, dict)]
        setuptools = tool.get("setuptools", {}) if isinstance(tool.get("setuptools"), dict) else {}
        packages += setuptools.get("packages", []) if isinstance(setuptools.get("packages"), list) else []
    if f"{at}setup.cfg" in files:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(confine.read_text(root, f"{at}setup.cfg"))
            names.append(parser.get("metadata", "name", fallback=None))
            packages += parser.get("options", "packages", fallback="").split()
        except (OSError, configparser.Error):
            pass
    if f"{at}setup.py" in files:
        try:
            tree = ast.parse(confine.read_bytes(root, f"{at}setup.py"))
        except (OSError, SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "setup":
                for kw in node.keywords:
                    if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                        names.append(kw.value.value)
                    elif kw.arg == "packages" and isinstance(kw.value, (ast.List, ast.Tuple)):
                        packages += [e.value for e in kw.value.elts if isinstance(e, ast.Constant)]
    return {_normal(n) for n in names if isinstance(n, str)} | {_normal(p.split(".")[0]) for p in packages if isinstance(p, str)}


def _env_imports(root: str, env: str) -> set[str]:
    """The top-level packages an Alembic env.py imports by absolute name."""
    try:
        data = confine.read_bytes(root, env)
    except OSError:
        return set()
    if b"alembic" not in data:
        return set()
    return {m.group(1).decode("utf-8", "replace") for m in _TOP_IMPORT.finditer(data)}


_TOP_IMPORT = re.compile(rb"^[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w*)", re.M)


def _is_doc(rel: str, settings: Settings) -> bool:
    if settings.docs:
        return settings.pinned_doc(rel)
    return any(part in DOC_DIRS for part in rel.split("/")[:-1])


def _script_location(root: str, rel: str) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(confine.read_text(root, rel))
        return parser.get("alembic", "script_location", fallback="")
    except (OSError, configparser.Error):
        return ""


def decode(data: bytes) -> str:
    """Source bytes -> text, honouring a PEP 263 coding line and a BOM; undecodable bytes are replaced."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return data.decode("utf-8", errors="replace")


def relevant(data: bytes, rel: str, settings: Settings) -> bool:
    return any(m in data for m in MARKERS) or settings.included(rel)


# A module that mentions none of the MARKERS may still use the models (`User.query.filter_by(...)`, a
# service that imports only the app's models): what it imports is read from its bytes, without parsing
# it, so that the scan can read it once it knows which modules hold models (engine._model_readers).
_FROM = re.compile(rb"^[ \t]*from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|(?:[^\n\\]|\\\r?\n)*)", re.M)
_IMPORT = re.compile(rb"^[ \t]*import[ \t]+((?:[^\n\\]|\\\r?\n)*)", re.M)
_COMMENT = re.compile(rb"#[^\n]*")


def imported(data: bytes, rel: str) -> tuple[str, ...]:
    """The dotted names a module's import statements name, relative ones made absolute as the file's own
    dotted name (facts.names.module_name) gives them: `from app.models import User, user` gives
    app.models, app.models.User and app.models.user. Text that only looks like an import (in a string)
    may add a name: that costs a read, never a miss."""
    from analyzers.facts.names import module_name

    module, is_package = module_name(rel)
    package = module if is_package else module.rpartition(".")[0]
    out: set[str] = set()
    for match in _FROM.finditer(data):
        level, base, names = len(match[1]), match[2].decode("utf-8", "replace"), match[3]
        if level:
            parts = package.split(".") if package else []
            parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
            base = ".".join(p for p in [*parts, base] if p)
        if not base:
            continue
        out.add(base)
        for name in _COMMENT.sub(b"", names).strip(b"()").replace(b"\\", b" ").split(b","):
            name = name.split()[0] if name.split() else b""
            if name and name != b"*":
                out.add(f"{base}.{name.decode('utf-8', 'replace')}")
    for match in _IMPORT.finditer(data):
        for name in _COMMENT.sub(b"", match[1]).replace(b"\\", b" ").split(b","):
            if name.split():
                out.add(name.split()[0].decode("utf-8", "replace"))
    return tuple(sorted(out))
