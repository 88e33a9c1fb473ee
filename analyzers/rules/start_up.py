"""Where a project upgrades its database when it starts, before it serves: `alembic upgrade head` or
`flask db upgrade` in a container's entrypoint or command just before the server starts, or alembic's
`command.upgrade` called from the application's start-up (a lifespan, a startup hook). There the locks a
migration takes block traffic only where older instances still serve during the upgrade (a rolling
deploy); the lock rules say so. Read as text and syntax trees; nothing is run."""

from __future__ import annotations

import ast
import configparser
import os
import posixpath
import re
from typing import Callable

from analyzers import confine
from analyzers.discover import skipped_dir
from analyzers.facts.model import Facts, Span
from analyzers.facts.paths import is_test_path
from analyzers.rules.mentions import mentions
from analyzers.rules.schema import python_paths
from analyzers.rules.source_trees import source_tree

_MIGRATE = re.compile(r"\balembic\b[^\n#]*\bupgrade\b|\bflask\b[^\n#]*\bdb\s+upgrade\b")
_SERVE = re.compile(r"\b(gunicorn|uvicorn|hypercorn|daphne|granian|waitress-serve|uwsgi)\b|\bflask\b[^\n#]*\brun\b")
_NEAR = 15  # lines: the server starts right after the upgrade, in the same command or script
# Files that start a container or a process: an entrypoint script, a Dockerfile, a compose file, a Procfile.
_LAUNCH = re.compile(r"(\.sh|^Dockerfile.*|^(docker-)?compose.*\.ya?ml|^Procfile|^entrypoint.*)$")
# Where a script is not how the product is deployed: tests, CI, a developer's set-up.
_NOT_DEPLOY = re.compile(r"(^|/)(tests?|e2e|dev|\.github|ci|examples?)(/|$)|test|e2e|\bdev\b", re.I)
# A function the application runs as it starts: a lifespan, a startup hook, gunicorn's on_starting, a
# traitlets Application's launch_instance, a pre-start routine its launch script runs first (`--pre-start`).
_START = re.compile(r"lifespan|startup|on_start|pre_start|prestart|before_serving|before_first_request|launch_instance", re.I)
_HOPS = 4


def start_up_upgrade(facts: Facts, revision_path: str) -> tuple[Span, str] | None:
    """Where the project upgrades, at start-up, the Alembic tree the revision at `revision_path` belongs to,
    and how (`flask db upgrade` before gunicorn, ...). An `alembic upgrade` of a launch script runs the tree
    of its alembic.ini section (`-n NAME`, else [alembic]), where one of the repository says which."""
    if "start_up_upgrade" not in facts.derived:
        facts.derived["start_up_upgrade"] = _launch_script(facts) or _start_up_call(facts)
    found = facts.derived["start_up_upgrade"]
    if found is None:
        return None
    span, how, folders = found  # type: ignore[misc]
    if folders and not any(revision_path.startswith(f"{folder}/") for folder in folders):
        return None  # another tree of the project (a tenants' schema) is upgraded some other way
    return span, how


LOCK = "the lock blocks traffic only where older instances still serve during the upgrade"


def note(facts: Facts, revision_path: str, consequence: str = LOCK) -> str:
    """What a migration finding says of it (`consequence`: what holds only in a rolling deploy): '' when the
    project does not migrate that tree at start-up."""
    found = start_up_upgrade(facts, revision_path)
    if found is None:
        return ""
    span, how = found
    return f"; this project upgrades its database at start-up, before serving ({how}, {span.path}:{span.start}): {consequence}"


def _launch_script(facts: Facts) -> tuple[Span, str, list[str]] | None:
    for rel in sorted(_launch_files(facts.root), key=lambda p: (p.count("/"), p)):  # the top-level deployment first
        try:
            lines = confine.read_text(facts.root, rel).splitlines()
        except (OSError, ValueError):
            continue
        for number, line in enumerate(lines, 1):
            code = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
            upgrade = _MIGRATE.search(code)
            if upgrade is None:
                continue
            after = [code[upgrade.end():]]
            if not rel.rsplit("/", 1)[-1].startswith("Procfile"):  # a Procfile line is a process of its own (`release:` runs while the old ones serve)
                after += [x for x in lines[number:number + _NEAR] if not x.lstrip().startswith("#")]
            server = next((m for m in map(_SERVE.search, after) if m), None)
            if server is not None:
                command = " ".join(upgrade.group(0).split())
                name = re.search(r"(?:-n|--name)[ =](\w+)", command)
                folders = _tree_folders(facts, name.group(1) if name else "alembic") if command.startswith("alembic") else []
                return Span(rel, number, number), f"`{command}` before {server.group(0).split()[0]} starts", folders
    return None


def _tree_folders(facts: Facts, section: str) -> list[str]:
    """The revision folders an alembic.ini section names (script_location, from the ini's folder); none
    when no alembic.ini of the repository has that section."""
    folders = []
    for rel in _files(facts.root, lambda name: name == "alembic.ini"):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(confine.read_text(facts.root, rel))
            location = parser.get(section, "script_location")
        except (OSError, ValueError, configparser.Error):
            continue
        location = location.replace("%(here)s/", "").strip()
        base = rel.rsplit("/", 1)[0] if "/" in rel else ""
        folders.append(posixpath.normpath(posixpath.join(base, location)))
    return folders


def _launch_files(root: str) -> list[str]:
    return _files(root, lambda name: bool(_LAUNCH.search(name)) and not _NOT_DEPLOY.search(name))


def _files(root: str, wanted) -> list[str]:
    """The repository's files whose name is `wanted`, outside tests, CI and developers' set-ups."""
    found: list[str] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not skipped_dir(os.path.join(directory, d), d))
        rel_dir = os.path.relpath(directory, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir
        if _NOT_DEPLOY.search(rel_dir):
            dirs[:] = []
            continue
        found += [f"{rel_dir}/{f}" if rel_dir else f for f in sorted(files) if wanted(f)]
    return found


def _start_up_call(facts: Facts) -> tuple[Span, str, list[str]] | None:
    """alembic's `command.upgrade(...)` run from the application's start-up."""
    found = _run_at_start_up(facts, "upgrade", r"\bcommand\.upgrade\s*\(")
    return (found[0], f"alembic's command.upgrade, run from {found[1]}", []) if found else None


def start_up_create_all(facts: Facts) -> tuple[Span, str] | None:
    """Where the application builds its models' missing tables as it starts (`Base.metadata.create_all(engine)`
    in a function its start-up calls): (the create_all, the start-up function). A table a model maps is there
    again after the application has started, whatever a downgrade dropped."""
    if "start_up_create_all" not in facts.derived:
        facts.derived["start_up_create_all"] = _run_at_start_up(facts, "create_all", r"\.create_all\s*\(")
    return facts.derived["start_up_create_all"]  # type: ignore[return-value]


def remade(facts: Facts, table: str) -> str:
    """'' unless a model maps the table and the application builds its models' missing tables as it starts:
    then what a finding says of that (a table the migrations dropped is there again once the app has run)."""
    found = start_up_create_all(facts) if table in facts.tables else None
    if found is None:
        return ""
    span, started = found
    return (f"the application makes it again as it starts (a model maps {table}, and create_all at {span.path}:{span.start} "
            f"runs from {started})")


def _run_at_start_up(facts: Facts, word: str, call: str, start: re.Pattern[str] = _START,
                     keep: Callable[[Span, str], bool] = lambda span, line: True) -> tuple[Span, str] | None:
    """The first line of application code matching `call` (which names `word`; `keep` may refuse a line) in a
    function that a start-up function (its name matches `start`) calls, a few calls away: (where, the start-up
    function). A call is followed by name: `init_db.main()` to a `main` of init_db.py (or of a module whose package
    `db` imports it, for `db.main()`), a bare `main()` to one
    of the same file or one the caller's file imports by that name, `self.start()` to one of the same file; a
    method handed to a runner (`run_sync(partial(self.launch, argv))`) counts as called."""
    frontier: list[tuple[str, str, Span]] = []  # (function, its file, the call it leads to)
    for span, line in mentions(facts, {word})[word]:
        if re.search(call, line) and keep(span, line) and (name := _enclosing(facts, span)):
            frontier.append((name, span.path, span))
    seen: set[tuple[str, str]] = set()
    for hop in range(_HOPS + 1):
        started = next(((name, site) for name, _, site in frontier if start.search(name)), None)
        if started:
            return started[1], started[0]
        frontier = [f for f in frontier if f[:2] not in seen]
        seen.update(f[:2] for f in frontier)
        if not frontier or hop == _HOPS:
            return None
        found = mentions(facts, {name for name, _, _ in frontier})
        nxt = []
        for name, path, site in frontier:
            stem = path.rsplit("/", 1)[-1].removesuffix(".py")
            folder, _, _ = path.rpartition("/")
            for span, line in found[name]:
                used = re.search(rf"(?:(\w+)\.)?(?<!\w){re.escape(name)}\s*(\(|,|\))", line)
                if used is None or re.search(rf"\bdef\s+{re.escape(name)}\b", line):
                    continue
                if used.group(2) != "(" and used.group(1) != "self":
                    continue  # only a method handed on as `self.name` is taken for a call
                # `db.create_shared_metadata()`: the package db, whose __init__ imports it from its module
                reexported = bool(folder) and used.group(1) == folder.rsplit("/", 1)[-1] and _sees(facts, f"{folder}/__init__.py", path, name)
                if used.group(1) not in (None, stem, "self", "cls") and not reexported \
                        or used.group(1) is None and not _sees(facts, span.path, path, name):
                    continue
                caller = _enclosing(facts, span)
                if caller:
                    nxt.append((caller, span.path, site))
        frontier = nxt
    return None


def _sees(facts: Facts, caller: str, defined: str, name: str) -> bool:
    """Whether a bare `name(...)` in `caller` may be the function of `defined`: the same file, or imported by name."""
    return caller == defined or bool(re.search(rf"\bimport\b[^\n]*\b{re.escape(name)}\b", _text(facts, caller)))


def _text(facts: Facts, path: str) -> str:
    return "\n".join(facts.lines(Span(path, 1, 10**9)))


def _enclosing(facts: Facts, span: Span) -> str | None:
    """The name of the innermost function around a line (None at module level)."""
    best = None
    for first, last, name in _functions(facts, span.path):
        if first <= span.start <= last and (best is None or first > best[0]):
            best = (first, name)
    return best[1] if best is not None else None


def _functions(facts: Facts, path: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of each function of a file, in ast.walk's order: read once a scan, as
    `_enclosing` is asked about every line that mentions a word (fides: 280 lines, a walk of the file each)."""
    known: dict[str, list[tuple[int, int, str]]] = facts.derived.setdefault("start_up_functions", {})  # type: ignore[assignment]
    if path not in known:
        tree = source_tree(facts, path)
        known[path] = [(n.lineno, n.end_lineno or n.lineno, n.name) for n in ast.walk(tree)
                       if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] if tree is not None else []
    return known[path]


def built_and_stamped(facts: Facts) -> tuple[Span, Span] | None:
    """Where the project builds a new database from its models and stamps it at head (`create_all`, then
    alembic's `stamp(cfg, "head")` or a stamp given the head it looked up, in one file outside tests and revisions, a command's manage.py included):
    (the create_all, the stamp). Such a database never runs the revisions; only one from before a revision does."""
    if "built_and_stamped" not in facts.derived:
        facts.derived["built_and_stamped"] = next(filter(None, (_builds_and_stamps(facts, path) for path in python_paths(facts)
                                                                 if _not_a_test(path) and "/versions/" not in f"/{path}")), None)
    return facts.derived["built_and_stamped"]  # type: ignore[return-value]


def _not_a_test(path: str) -> bool:
    """Outside tests: a script's init_db (`scripts/init_db.py --create --stamp`) builds the developers' databases
    and the deployment's, as the application's own code would."""
    parts = path.split("/")
    return not is_test_path("/".join([*(p for p in parts[:-1] if p != "scripts"), parts[-1]]))


def _builds_and_stamps(facts: Facts, path: str) -> tuple[Span, Span] | None:
    try:
        text = confine.read_text(facts.root, path)
    except (OSError, ValueError):
        return None
    if ".create_all(" not in text or "stamp(" not in text:
        return None
    lines = text.splitlines()
    builds = [i for i, line in enumerate(lines, 1) if ".create_all(" in line.split("#", 1)[0]]
    # `stamp(cfg, "head")`, `stamp(Config("alembic.ini"), "head")`, or a helper's `self.alembic_stamp(conn, scripts,
    # current_head)` given the head it read
    stamp = next((i for i, line in enumerate(lines, 1)
                  if re.search(r"(?<![A-Za-z0-9])stamp\s*\((?:[^()#]|\([^()#]*\))*head", line)), None)
    if not builds or not stamp:
        return None
    built = max((i for i in builds if i < stamp), default=builds[0])  # the one the stamp follows, not a tests-only helper's
    return Span(path, built, built), Span(path, stamp, stamp)


# Start-up code every worker process of a server runs (an ASGI lifespan or startup hook, a Flask app factory
# each worker imports, gunicorn's per-worker hooks), and code gunicorn's master runs once per instance.
PER_WORKER = re.compile(r"lifespan|startup|before_serving|before_first_request|post_fork|post_worker_init|create_app|make_app", re.I)
PER_INSTANCE = re.compile(r"on_starting|when_ready", re.I)
_UPGRADE_CALL = r"(\b(command|flask_migrate)\.|(?<![.\w]))upgrade\s*\("
_IMPORTS_UPGRADE = re.compile(r"^\s*from\s+(flask_migrate|alembic\.command)\s+import\s+[^\n]*\bupgrade\b", re.M)
# What serialises the processes that start together: a PostgreSQL advisory lock held around the upgrade.
ADVISORY = re.compile(r"pg_(try_)?advisory(_xact)?_lock|advisory_lock", re.I)


def migrated_at_start_up(facts: Facts) -> list[tuple[Span, str, str, bool]]:
    """Where the application changes its schema as it starts: (the call, what it is, the start-up function,
    whether every worker runs it), for alembic's or Flask-Migrate's `upgrade(...)` and for `create_all(...)` in
    every worker; one of each kind at most."""
    def imported(span: Span, line: str) -> bool:  # a bare upgrade() is Flask-Migrate's or alembic's by its import
        return not re.search(r"(?<![.\w])upgrade\s*\(", line) or bool(_IMPORTS_UPGRADE.search(_text(facts, span.path)))

    found = []
    for what, word, call, keep in (("upgrade", "upgrade", _UPGRADE_CALL, imported),
                                   ("create_all", "create_all", r"\.create_all\s*\(", lambda span, line: True)):
        for start, per_worker in ((PER_WORKER, True), (PER_INSTANCE, False))[: 2 if what == "upgrade" else 1]:
            hit = _run_at_start_up(facts, word, call, start, keep)
            if hit is not None:
                found.append((hit[0], what, hit[1], per_worker))
                break
    return found


def launch_upgrade(facts: Facts) -> tuple[Span, str] | None:
    """Where a launch script upgrades before the server starts (`alembic upgrade head && gunicorn ...`), and how."""
    found = _launch_script(facts)
    return (found[0], found[1]) if found else None


def guarded(facts: Facts, span: Span) -> str | None:
    """The advisory lock that the file of a start-up upgrade, or an Alembic env.py of the project, takes: where,
    as written (None when none does)."""
    for path in [span.path, *_files(facts.root, lambda name: name == "env.py")]:
        try:
            m = ADVISORY.search(_text(facts, path) if path == span.path else confine.read_text(facts.root, path))
        except (OSError, ValueError):
            continue
        if m:
            return f"{m.group(0)} in {path}"
    return None


# A server started with one worker (`gunicorn -w 1`, `uvicorn --workers 1`, `workers = 1` in a gunicorn config) or a
# setting whose default is one (`UVICORN_WORKERS: int = 1`).
_WORKERS_DEFAULT = re.compile(r"^\s*(\w*WORKERS)\s*(?::\s*int)?\s*=\s*1\s*(?:#.*)?$")
# A setting that turns the migration at start-up off (fides' `if CONFIG.database.automigrate:`).
_SWITCH_WORDS = {"automigrate", "auto_migrate", "AUTOMIGRATE", "AUTO_MIGRATE", "auto_migration", "migrate_on_startup",
                 "MIGRATE_ON_STARTUP", "run_migrations_on_startup", "RUN_MIGRATIONS"}


def one_worker(facts: Facts) -> tuple[Span, str] | None:
    """Where the project starts its server with a single worker process, and what says so: a launch script or a
    gunicorn config, else a setting whose default is one worker. None where none says so, or one starts more."""
    found = None
    for rel in _launch_files(facts.root) + _files(facts.root, lambda name: name.startswith("gunicorn") and name.endswith(".py")):
        try:
            lines = confine.read_text(facts.root, rel).splitlines()
        except (OSError, ValueError):
            continue
        for number, line in enumerate(lines, 1):
            code = line.split("#", 1)[0]
            count = re.search(r"(?:\s(?:-w|--workers)[ =]['\"]?|^\s*workers\s*=\s*)(\d+)\b", code)
            if count is None or not (rel.endswith(".py") or _SERVE.search(code)):
                continue
            if count.group(1) != "1":
                return None  # one deployment starts several: the race is there
            found = found or (Span(rel, number, number), f"the server with one worker (`{count.group(0).strip()}`)")
    if found is not None:
        return found
    for span, line in (hit for word in ("WORKERS", "UVICORN_WORKERS", "GUNICORN_WORKERS", "WEB_CONCURRENCY")
                       for hit in mentions(facts, {word})[word]):
        m = _WORKERS_DEFAULT.match(line)
        if m is not None:
            return span, f"one worker unless a deployment raises it ({m.group(1)} defaults to 1)"
    return None


def migration_switch(facts: Facts) -> tuple[Span, str] | None:
    """The setting the application tests before it migrates at start-up (`if CONFIG.database.automigrate:`): where,
    and its name as written."""
    for word in sorted(_SWITCH_WORDS):
        for span, line in mentions(facts, {word})[word]:
            m = re.match(rf"\s*(?:el)?if\b[^#]*?([\w.]*\b{word})\b", line)
            if m is not None:
                return span, m.group(1)
    return None
