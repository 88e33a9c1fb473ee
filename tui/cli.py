"""The `dbreview` command: the terminal app on a repository, and the headless commands around it
(scan, export, sessions, rules). Textual is imported only by the commands that start the app.

Exit status (tui/gate.py): 0 done, 1 findings open at or above --fail-on, 2 bad input or settings
(one line on stderr says what), 3 an unexpected error (one line; the traceback with --debug).
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import posixpath
import shutil
import sys
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tui import paths
from tui.gate import DEFAULT_FAIL_ON, Exit, add_gate_options, exit_status

if TYPE_CHECKING:
    from analyzers.engine import Scan
    from analyzers.findings import ScanResult
    from analyzers.settings import Settings
    from tui.session import ReviewStore
    from tui.session.state import ReviewSnapshot, ReviewSummary

PROG = "dbreview"
CHECKLIST = "database"
FORMATS = ("markdown", "html", "sarif", "json", "github", "gitlab")  # tui.reports.FORMATS, spelled here so --help stays light
BUNDLED_DEMO = Path(__file__).parent / "demo"
DEMO_LEAVE_OUT = {"DEFECTS.md"}  # files at the demo's top level that are for our tests, not for users
DEMO_STAMP = ".dbreview-demo"  # in the data dir's copy: the digest of the bundled demo it was made from
SETUP_CALLS = {
    "create_engine", "create_async_engine", "sessionmaker", "async_sessionmaker", "scoped_session",
    "async_scoped_session", "MetaData",
}


class UsageError(Exception):
    """Bad input the user can fix: shown as one line, exit status 2."""


def main(argv: list[str] | None = None) -> int:
    from analyzers.settings import SettingsError

    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else Exit.BAD_INPUT
    try:
        return args.run(args)
    except (UsageError, SettingsError) as exc:
        _say(str(exc))
        return Exit.BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dbreview scan . | head`: the reader left, which is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return Exit.OK
    except Exception as exc:  # noqa: BLE001 - the one place an unexpected error becomes a line
        if getattr(args, "debug", False):
            traceback.print_exc()
        hint = "" if getattr(args, "debug", False) else " (run again with --debug for the traceback)"
        _say(f"unexpected error: {type(exc).__name__}: {exc}{hint}")
        return Exit.ERROR


# -- the command line -------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    # The global options are accepted before and after the command: every parser gets them, with
    # SUPPRESS defaults so that a subcommand does not reset what was given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=f"where saved reviews, the scan cache and the demo copy live (default: ${paths.ENV_VAR}, "
        "else the platform's user data dir)",
    )
    common.add_argument(
        "--reviewer", metavar="NAME", default=argparse.SUPPRESS, help="recorded with every action (default: login name)"
    )
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="print the traceback of an unexpected error"
    )

    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        description="Review the database layer of a Python backend: SQLAlchemy models, Alembic migrations, "
        "engine and session set-up, PostgreSQL row-level security. Without a command: `dbreview open .`.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    parser.set_defaults(run=_cmd_open, path=".")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    sub = command("open", _cmd_open, "open the review of a repository in the terminal app (resumes a saved one)")
    sub.add_argument("path", nargs="?", default=".", metavar="PATH", help="the repository (default: .)")

    sub = command("demo", _cmd_demo, "open the bundled demo repository in the terminal app")
    sub.add_argument("--copy-to", metavar="DIR", help="write the demo repository to DIR and exit")
    sub.add_argument("--force", action="store_true", help="with --copy-to: write into a DIR that is not empty")

    sub = command("scan", _cmd_scan, "analyze a repository without the app and write the findings")
    sub.add_argument("path", metavar="PATH")
    _report_options(sub)
    sub.add_argument(
        "--explain-layout",
        action="store_true",
        help="print what discovery and the facts found (Alembic trees, models, engine set-up, docs, settings, "
        "skipped files) instead of the report; the report is still written to -o FILE",
    )
    sub.add_argument("--no-cache", action="store_true", help="read every file again (the cache is in your user cache dir)")
    sub.add_argument("--baseline", metavar="FILE", help="report only findings that FILE (an earlier JSON or SARIF report of dbreview) does not have")
    sub.add_argument("--since", metavar="REV", help="report only findings in files changed since the git revision REV (and those about the whole schema)")
    add_rule_options(sub)
    add_gate_options(sub)

    sub = command(
        "verify", _cmd_verify,
        "prove the findings on a throwaway PostgreSQL: the migrations run in a sandbox, then the catalog and two "
        "tenants' rows are checked (never connects to a database of yours)",
    )
    sub.add_argument("path", metavar="PATH")
    _report_options(sub)
    sub.add_argument("--postgres-bin", metavar="DIR", help="the folder with initdb and postgres (default: the machine's, else the embedded one)")
    sub.add_argument(
        "--allow-imports", action="store_true",
        help="run revision files that import more than alembic, sqlalchemy and the standard library",
    )
    sub.add_argument(
        "--python", metavar="PATH",
        help="run the revision files with this Python (the target's own environment, e.g. .venv/bin/python): "
        "its packages (sqlmodel, sqlalchemy-utils ...) and its psycopg or psycopg2",
    )
    sub.add_argument(
        "--sql", action="store_true",
        help="print the SQL the migrations would run (`alembic upgrade --sql` through the replacement env.py) and exit",
    )
    add_rule_options(sub)
    add_gate_options(sub)

    sub = command("export", _cmd_export, "write the saved review of a repository, with the reviewer's decisions")
    sub.add_argument("path", metavar="PATH")
    _report_options(sub)
    add_gate_options(sub)

    sub = command(
        "import", _cmd_import,
        "take a review exported elsewhere (`export --format json`) into this machine's review of PATH: "
        "decisions, notes, verdicts and answers, matched to the findings as a saved review's are; "
        "what this review decided differently is kept and reported",
    )
    sub.add_argument("file", metavar="FILE", help="the JSON export")
    sub.add_argument("path", metavar="PATH", help="the repository, here")

    sub = command("sessions", _cmd_sessions, "list the saved reviews: repository, checklist, progress, last change")
    sub.add_argument("--prune", action="store_true", help="offer to remove reviews whose repository is gone (asks for each)")
    sub.add_argument("--yes", action="store_true", help="with --prune: remove without asking")

    sub = command("rules", _cmd_rules, "list every rule (id, severity, checklist item, title), or explain one")
    sub.add_argument("rule_id", nargs="?", metavar="RULE_ID", help="explain this rule in full")
    return parser


def add_rule_options(sub: argparse.ArgumentParser) -> None:
    """--enable / --disable, over the target's `enable` / `disable` settings."""
    rules = lambda text: [r for r in text.split(",") if r.strip()]  # noqa: E731
    sub.add_argument("--enable", metavar="RULES", type=rules, action="extend", default=[], help="run only these rules (ids or families such as TEN, comma-separated)")
    sub.add_argument("--disable", metavar="RULES", type=rules, action="extend", default=[], help="also leave out these rules (ids or families)")


def target_settings(path: Path, args: argparse.Namespace) -> Settings:
    """The settings of the target at `path`, looked up from it upward, with the command line's
    --fail-on / --enable / --disable over them. Bad settings raise SettingsError (exit 2)."""
    from analyzers.settings import load_settings, with_flags

    return with_flags(
        load_settings(path),
        fail_on=getattr(args, "fail_on", None),
        enable=getattr(args, "enable", ()),
        disable=getattr(args, "disable", ()),
    )


def gate(open_severities: Iterator | list, settings: Settings | None, args: argparse.Namespace) -> Exit:
    """The command's exit status: 1 when anything open is at or above the fail-on severity (the
    flag's, else the settings', else critical), 0 otherwise or with --exit-zero."""
    fail_on = getattr(args, "fail_on", None) or (settings.fail_on if settings else None) or DEFAULT_FAIL_ON
    return exit_status(open_severities, fail_on=fail_on, exit_zero=getattr(args, "exit_zero", False))


def _report_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--format",
        choices=FORMATS,
        default="markdown",
        help="markdown (default) or html for people; sarif for code scanning; json, the whole review; "
        "github (workflow annotations) or gitlab (Code Quality) for CI",
    )
    sub.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    sub.add_argument(
        "--omit-suppressed",
        action="store_true",
        help="leave dismissed findings out (GitHub code scanning shows SARIF's in-source suppressions as open alerts)",
    )


class _Version(argparse.Action):
    """--version, read from the installed metadata only when asked (importlib.metadata: ~8 ms)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"{PROG} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PROG)
    except PackageNotFoundError:
        return "unknown"


def _data_dir(args: argparse.Namespace) -> Path:
    try:
        return paths.data_dir(getattr(args, "data_dir", None))
    except OSError as exc:
        raise UsageError(f"cannot use the data directory: {exc}") from exc


def _reviewer(args: argparse.Namespace) -> str:
    """--reviewer, else the login name; a name that would not show as itself is refused (exit 2)."""
    from tui.reports.sanitize import name_problem

    given = getattr(args, "reviewer", None)
    if given and given.strip():
        name, where = given.strip(), "--reviewer"
    else:
        try:
            name, where = getpass.getuser(), "the login name (give --reviewer NAME)"
        except (OSError, KeyError):  # no login name in some containers
            return "reviewer"
    problem = name_problem(name)
    if problem:
        raise UsageError(f"{where} is not usable as a reviewer's name: {problem}")
    return name


def _say(line: str) -> None:
    """One line to stderr; what it quotes (paths, names) cannot act on the terminal."""
    from tui.reports.sanitize import one_line

    print(f"{PROG}: {one_line(line)}", file=sys.stderr)


# -- open and demo: the terminal app ----------------------------------------------------------------


def _cmd_open(args: argparse.Namespace) -> int:
    return _open_repository(Path(args.path), args)


def _open_repository(path: Path, args: argparse.Namespace) -> int:
    """Check everything that can be checked without the app, then run it."""
    from analyzers.discover import TargetError, python_root

    reviewer = _reviewer(args)
    try:
        repo = python_root(path.expanduser())  # the app itself reports bad settings
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    data = _data_dir(args)
    _check_store(data)
    return run_app(repo=repo, data_dir=data, reviewer=reviewer)


def _check_store(data: Path) -> None:
    """Refuse here, untouched, a review file that cannot be used (corrupt, not ours, newer, another
    account's), with sqlite3 alone. The rest is the app's, behind its first screen: the store
    (SQLAlchemy, ~250 ms to import) opens there, and makes a new review or brings an older file to
    the newest schema (Alembic); what only that can refuse ends the app with one line and exit 2."""
    from tui.session.opening import prepare
    from tui.session.reading import SessionStoreError

    try:
        prepare(paths.session_db(data).absolute())
    except SessionStoreError as exc:
        raise UsageError(str(exc)) from None


def run_app(*, repo: Path, data_dir: Path, reviewer: str) -> int:
    """Start the terminal app (the only place that imports it). Tests replace this function."""
    try:
        from tui.app import ReviewApp
    except ModuleNotFoundError as exc:
        if exc.name not in ("tui.app", "textual"):
            raise
        _say(f"the terminal app is not available in this installation ({exc})")
        return 1
    from tui import prefs

    config = paths.config_file()
    app = ReviewApp(
        repo=repo, data_dir=data_dir, reviewer=reviewer, checklist=CHECKLIST,
        preferences=prefs.load(config), preferences_file=config,
    )
    app.run()
    return app.return_code or 0


def _cmd_demo(args: argparse.Namespace) -> int:
    if not BUNDLED_DEMO.is_dir():
        raise UsageError(f"the bundled demo repository is missing from this installation ({BUNDLED_DEMO})")
    if args.copy_to:
        target = Path(args.copy_to).expanduser()
        if target.exists() and not target.is_dir():
            raise UsageError(f"{target}: exists and is not a directory")
        if target.is_dir() and any(target.iterdir()) and not args.force:
            raise UsageError(f"{target}: not empty; choose an empty directory, or add --force to write into it")
        _copy_demo(target)
        print(f"Wrote the demo repository to {target}. Try: {PROG} scan {target}")
        return 0
    if args.force:
        raise UsageError("--force goes with --copy-to")
    return _open_repository(_demo_copy(_data_dir(args)), args)


def _demo_files() -> Iterator[Path]:
    """The bundled demo's files, relative to it, without caches and our test notes."""
    for folder, dirs, files in os.walk(BUNDLED_DEMO):
        dirs[:] = sorted(d for d in dirs if d not in _skip_dirs() and not d.endswith(".egg-info"))
        here = Path(folder).relative_to(BUNDLED_DEMO)
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")) or (here == Path(".") and name in DEMO_LEAVE_OUT):
                continue
            yield here / name


def _skip_dirs() -> set[str]:
    from analyzers.discover import SKIP_DIRS

    return SKIP_DIRS


def _copy_demo(target: Path) -> None:
    for rel in _demo_files():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BUNDLED_DEMO / rel, target / rel)


def _demo_digest() -> str:
    h = hashlib.blake2b(digest_size=16)
    for rel in _demo_files():
        h.update(rel.as_posix().encode() + b"\0" + (BUNDLED_DEMO / rel).read_bytes() + b"\0")
    return h.hexdigest()


def _demo_copy(data: Path) -> Path:
    """The data dir's copy of the demo, made again when the bundled demo changed (a new dbreview);
    the package itself is never written to."""
    copy = paths.demo_copy_dir(data)
    digest = _demo_digest()
    stamp = copy / DEMO_STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == digest:
        return copy
    fresh = copy.with_name(copy.name + ".new")
    old = copy.with_name(copy.name + ".old")
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    _copy_demo(fresh)
    (fresh / DEMO_STAMP).write_text(digest + "\n", encoding="utf-8")
    if copy.exists():
        copy.rename(old)
    fresh.rename(copy)
    shutil.rmtree(old, ignore_errors=True)
    return copy


# -- scan -------------------------------------------------------------------------------------------


def _cmd_scan(args: argparse.Namespace) -> int:
    from analyzers.discover import TargetError
    from analyzers.engine import scan
    from tui.review import git_commit
    from tui.session.state import snapshot_from_scan

    target = Path(args.path).expanduser()
    if not target.is_dir():  # before the settings, so that a mistyped path says so
        raise UsageError(f"{target}: {'not a directory' if target.exists() else 'no such file or directory'}")
    settings = target_settings(target, args)
    baseline = _baseline(args.baseline)
    changed = _changed_since(target, args.since)
    cache = None if args.no_cache else paths.scan_cache_dir()
    try:
        result = scan(target, settings=settings, cache_dir=cache, progress=_progress_line())
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\r\x1b[K")
    found = _only_new(result.result, baseline, changed, args)
    snapshot = snapshot_from_scan(found, CHECKLIST, datetime.now(UTC), commit=git_commit(result.layout.root))
    if args.explain_layout:
        _write(explain_layout(result), None)
        if args.output:
            _write(_render(args, snapshot), args.output)
    else:
        _write(_render(args, snapshot), args.output)
    _summarize_errors(result.result.errors)
    for maker, made in sorted(library_tables_by_maker(result.facts).items()) if not args.explain_layout else ():
        _say(f"tables made by a library dbreview does not read, {maker}: {made}; see --explain-layout")
    return gate((f.severity for f in snapshot.findings if f.is_open), settings, args)


def _baseline(path: str | None) -> list | None:
    from tui.new_findings import BaselineError, load_baseline

    if path is None:
        return None
    try:
        return load_baseline(Path(path).expanduser())
    except BaselineError as exc:
        raise UsageError(str(exc)) from None


def _changed_since(target: Path, rev: str | None) -> set[str] | None:
    from tui.review import RevisionError, changed_since

    if rev is None:
        return None
    try:
        return changed_since(target, rev)
    except RevisionError as exc:
        raise UsageError(str(exc)) from None


def _only_new(result: ScanResult, baseline: list | None, changed: set[str] | None, args: argparse.Namespace) -> ScanResult:
    """The scan without what --baseline already has and what --since leaves out; a line on stderr says how many."""
    from tui.new_findings import since, without_baseline

    if baseline is not None:
        result, known = without_baseline(result, baseline)
        _say(f"{known} finding{'s' if known != 1 else ''} already in the baseline left out")
    if changed is not None:
        result, elsewhere = since(result, changed)
        _say(f"{elsewhere} finding{'s' if elsewhere != 1 else ''} in files unchanged since {args.since} left out")
    return result


def _progress_line() -> Callable[[str, int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r\x1b[K{stage} {done}/{total} files")
        sys.stderr.flush()

    return show


def library_tables_by_maker(facts) -> dict[str, str]:
    """The tables a library makes for the models (facts.library_tables), one line per library: `bill_version (Bill,
    marked __versioned__), transaction (...)`."""
    out: dict[str, list[str]] = defaultdict(list)
    for name, (maker, what) in sorted(facts.library_tables.items()):
        out[maker].append(f"{name} ({what})")
    return {maker: ", ".join(made) for maker, made in out.items()}


def _summarize_errors(errors: list) -> None:
    from analyzers.facts.sql import NO_PARSER, NO_PARSER_PATH

    files = {e.path for e in errors if not e.path.startswith("<")}
    rules = {e.path for e in errors if e.path.startswith("<") and e.path != NO_PARSER_PATH}
    parts = [NO_PARSER] if any(e.path == NO_PARSER_PATH for e in errors) else []
    if files:
        parts.append(f"{len(files)} file{'s' if len(files) != 1 else ''} could not be read")
    if rules:
        parts.append(f"{len(rules)} rule{'s' if len(rules) != 1 else ''} failed")
    if parts:
        _say(f"{' and '.join(parts)}; see the report")


def _render(args: argparse.Namespace, snapshot: ReviewSnapshot) -> str:
    """The report --format asks for, without dismissed findings with --omit-suppressed."""
    from dataclasses import replace

    from analyzers.checklist import load_checklist
    from analyzers.settings import within_repository
    from tui.reports import render
    from tui.session.state import Disposition

    if args.omit_suppressed:
        snapshot = replace(snapshot, findings=tuple(f for f in snapshot.findings if f.disposition != Disposition.DISMISSED))
    repo = Path(snapshot.review.repo_path)
    prefix = within_repository(repo) if repo.is_dir() else ""
    return render(args.format, load_checklist(snapshot.review.checklist_id), snapshot, path_prefix=prefix)


def _write(text: str, output: str | None) -> None:
    """A report to stdout or, whole or not at all, to a file (tui/output.py)."""
    from tui import output as report_output

    try:
        report_output.write(text if text.endswith("\n") else text + "\n", output)
    except report_output.NotWritten as exc:
        raise UsageError(str(exc)) from None


def explain_layout(found: Scan) -> str:
    """What discovery and the facts found in a target, and why: for `scan --explain-layout`."""
    from analyzers.facts.paths import using_app_packages

    with using_app_packages(found.layout.app_packages):  # tests told apart as the scan did
        return _explain_layout(found)


def _explain_layout(found: Scan) -> str:
    from analyzers.facts.engines import ENGINES, engines, serving_engines
    from analyzers.rules.runs_on import runs_on
    from tui.reports.sanitize import one_line

    layout, facts = found.layout, found.facts
    out: list[str] = [f"Target: {one_line(str(layout.root))}", ""]
    readers = facts.derived.get("readers", [])
    out.append(
        f"Python: {layout.python_total} files; {len(layout.python)} under the size limit; "
        f"{len(facts.modules) - len(readers)} mention SQLAlchemy, Alembic or a table and were read; "
        f"{len(readers)} more import the models and were read for how they use them"
    )
    if layout.app_packages:
        out.append(f"Read as the application's, though named like tests (its packaging metadata names them, or its Alembic env.py imports them): "
                   f"{', '.join(one_line(p) + '/' for p in sorted(layout.app_packages))}")
    s = layout.settings
    if s.source:
        where = f"[tool.dbreview] in {s.source}" if s.source.endswith("pyproject.toml") else s.source
        out.append(f"Settings from {one_line(where)}:")
        out += [f"  {key} = {one_line(value)}" for key, value in settings_lines(s)] or ["  (none differ from the defaults)"]
    else:
        out.append("Settings: none (a .dbreview.toml, or [tool.dbreview] in pyproject.toml, here or up to the repository root)")

    out += ["", "Alembic (alembic.ini files, their script_location, and the revisions under each versions folder)"]
    out += [f"  {line}" for line in _alembic_lines(layout.alembic_ini, facts.revisions, facts.squashed)] or ["  none found"]
    # MIG006 says of no column of such a table that no migration adds it: the part not read may add it
    out += [f"  not read: {one_line(u.span.path)}:{u.span.start} {one_line(u.reason)} (table {one_line(u.table)}): "
            "its columns no other migration adds are not reported as missing" for u in facts.unread if u.table and u.kind in ("op", "sql")]

    tables_by_file: dict[str, list[str]] = defaultdict(list)
    for table in facts.tables.values():
        tables_by_file[table.path].append(table.name)
    total = sum(len(t) for t in tables_by_file.values())
    out += ["", f"Models ({len(tables_by_file)} modules, {total} tables: classes with __tablename__, Table(...) objects)"]
    for path, names in sorted(tables_by_file.items()):
        out.append(f"  {one_line(path)}: {len(names)} table{'s' if len(names) != 1 else ''} ({one_line(', '.join(sorted(names)))})")
    if not tables_by_file:
        out.append("  none found")
    unread_bases: dict[str, list[str]] = defaultdict(list)
    for table in facts.tables.values():
        for base in table.unknown_bases:
            unread_bases[base].append(table.name)
    for base, names in sorted(unread_bases.items()):
        out.append(f"  columns may be missing: {one_line(base)} could not be read ({len(names)} tables: {one_line(', '.join(sorted(names)[:6]))})")
    out += [f"  name not certain: {one_line(t.path)}:{t.span.start} {one_line(t.name)} is {one_line(t.name_unsure)}; the "
            "rules that need its exact name (against the migrations and SQL) leave it out"
            for t in sorted(facts.tables.values(), key=lambda t: (t.path, t.span.start)) if t.name_unsure]
    for m in facts.modules:
        out += [f"  not followed: {one_line(m.path)}:{line} {one_line(what)}: the tables it makes are not known"
                for line, what in m.unfollowed_tables]
    for maker, made in sorted(library_tables_by_maker(facts).items()):
        out.append(f"  made by a library dbreview does not read, {one_line(maker)}: {one_line(made)}; their columns "
                   "are not known, and no rule takes them for tables nothing uses")
    if facts.other_tables:
        out += ["", f"Not the application's PostgreSQL ({len(facts.other_tables)} tables, left out of the review)"]
        out += [f"  {one_line(t.path)}: {one_line(t.name)} ({one_line(t.database or '')})" for t in facts.other_tables.values()]

    setup: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for e in engines(facts):  # each with its role; one made by the app's factory where the factory is called
        call, origin = e.call, e.call.origin
        made = f" (made by {origin.function}, {origin.span.path}:{origin.span.start})" if origin else ""
        setup[call.span.path].append((call.span.start, f"{call.name}(){f' -> {call.target}' if call.target else ''}{made} [{e.verdict}]"))
    for call in facts.calls:
        if call.name.rsplit(".", 1)[-1] in SETUP_CALLS and not call.name.endswith(ENGINES) and not call.via:
            assigned = f" -> {call.target}" if call.target else ""
            setup[call.span.path].append((call.span.start, f"{call.name}(){assigned}"))
    for lis in facts.listeners:
        setup[lis.span.path].append((lis.span.start, f"listener: {lis.event} on {lis.target} -> {lis.function}"))
    out += ["", "Engine and session set-up (engine and session factories, MetaData, event listeners)"]
    for path, entries in sorted(setup.items()):
        out += [f"  {one_line(path)}:{line}  {one_line(what)}" for line, what in sorted(entries)]
    if not setup:
        out.append("  none found")
    serving, sure = serving_engines(facts)
    places = sorted((c.span.path, c.span.start) for c in serving)
    read = ", ".join(f"{path}:{line}" for path, line in places) or "none (no engine of the application was found)"
    out.append(f"  The pool and session rules (CFG001, CFG004-CFG006) read: {one_line(read)}{'' if sure else ' (not certain that they serve it)'}")

    known = runs_on(facts).found
    out += ["", "Databases the application runs on (URLs in its configuration, dialects, drivers, compose images)"]
    out += [f"  {name}: {one_line(span.path)}:{span.start}" for name, span in known.items()] or ["  unknown (nothing names one)"]

    why_docs = "pinned by settings" if s.docs else "Markdown under a docs/ folder"
    out += ["", f"Docs ({len(facts.docs)}; {why_docs})"]
    out += [f"  {one_line(d.path)}  ({d.lines} lines)" for d in facts.docs] or ["  none found"]

    out += ["", f"Skipped or not fully read ({len(found.result.errors)})"]
    out += [f"  {one_line(str(e))}" for e in found.result.errors] or ["  nothing"]
    return "\n".join(out)


def settings_lines(s: Settings) -> list[tuple[str, str]]:
    """(key, value) of each setting that differs from the default, as the file spells it."""
    from analyzers.settings import DEFAULT_TENANT_COLUMNS

    lists = {"exclude": s.exclude, "include": s.include, "docs": s.docs, "enable": s.enable, "disable": s.disable}
    out = [(key, ", ".join(values)) for key, values in lists.items() if values]
    if s.severity:
        out.append(("severity", ", ".join(f"{rule}={level}" for rule, level in sorted(s.severity.items()))))
    if s.fail_on:
        out.append(("fail-on", s.fail_on))
    if s.tenant_columns != DEFAULT_TENANT_COLUMNS:
        out.append(("tenant-columns", ", ".join(s.tenant_columns)))
    if s.prefix:
        out.append(("(scanned folder, from the file's)", s.prefix.rstrip("/")))
    return out


def _alembic_lines(inis: list[tuple[str, str]], revisions: list, squashed: list = ()) -> list[str]:  # type: ignore[assignment]
    from tui.reports.sanitize import one_line

    lines: list[str] = []
    claimed: set[str] = set()
    for ini, location in inis:
        here = posixpath.dirname(ini)
        lines.append(f"{one_line(ini)}: script_location = {one_line(location) or '(not set)'}")
        if not location:
            continue
        folder, mine = _script_folder(here, location, revisions)
        claimed.update(r.path for r in mine)
        lines.append(f"  {one_line(folder)}: {_revision_summary(mine)}")
    loose: dict[str, list] = defaultdict(list)
    for r in revisions:
        if r.path not in claimed:
            loose[posixpath.dirname(r.path)].append(r)
    for folder, mine in sorted(loose.items()):
        lines.append(f"{one_line(folder)} (no alembic.ini points here): {_revision_summary(mine)}")
    for s in squashed:
        into = s.into.span
        lines.append(f"{one_line(s.folder)}: {_revision_summary(list(s.revisions))}; history: the squash "
                     f"revision {one_line(s.into.revision or '')} ({one_line(into.path)}:{into.start}) takes its head's id and starts the live tree, so these are neither replayed nor reviewed")
    return lines


def _script_folder(here: str, location: str, revisions: list) -> tuple[str, list]:
    """The versions folder an alembic.ini's script_location names, and the revisions in it."""
    if ":" in location:  # `package.sub:migrations`: a folder of an importable package, known by how its path ends
        package, _, inside = location.partition(":")
        end = posixpath.normpath(posixpath.join(*package.split("."), inside, "versions"))
        folders = sorted({posixpath.dirname(r.path) for r in revisions if f"/{posixpath.dirname(r.path)}".endswith(f"/{end}")},
                         key=lambda f: not f.startswith(f"{here}/"))  # the one beside alembic.ini first
        folder = folders[0] if folders else end
        return folder, [r for r in revisions if posixpath.dirname(r.path) == folder]
    # %(here)s is the folder of alembic.ini; a relative script_location is relative to where alembic
    # runs, which is that folder or, failing that, the top of the repository
    for base in dict.fromkeys((here, "")):
        folder = posixpath.normpath(posixpath.join(base, location.replace("%(here)s", here or "."), "versions"))
        mine = [r for r in revisions if r.path.startswith(folder + "/")]
        if mine:
            break
    return folder, mine


def _revision_summary(revisions: list) -> str:
    from tui.reports.sanitize import one_line

    if not revisions:
        return "no revision files"
    ids = {r.revision for r in revisions if r.revision}
    heads = sorted(ids - {d for r in revisions for d in r.down_revisions})
    count = f"{len(revisions)} revision{'s' if len(revisions) != 1 else ''}"
    if len(heads) == 1:
        return f"{count}, head {one_line(heads[0])}"
    if not heads:
        return f"{count}, no head found (a cycle, or revisions without ids)"
    return f"{count}, {len(heads)} heads: {one_line(', '.join(heads))} (branches not merged)"


# -- verify ---------------------------------------------------------------------------------------


def _cmd_verify(args: argparse.Namespace) -> int:
    from analyzers.discover import TargetError
    from analyzers.engine import scan
    from analyzers.verify.result import VerifyError
    from tui.proving import open_severities, record, run_verification
    from tui.review import git_commit
    from tui.session.state import snapshot_from_scan

    target = Path(args.path).expanduser()
    if not target.is_dir():
        raise UsageError(f"{target}: {'not a directory' if target.exists() else 'no such file or directory'}")
    settings = target_settings(target, args)
    try:
        found = scan(target, settings=settings, cache_dir=paths.scan_cache_dir())
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    if args.sql:
        return _offline_sql(found, args)
    root = Path(found.result.root)
    try:
        done = run_verification(
            root, found, reviewer=_reviewer(args), commit=git_commit(root), postgres_bin=args.postgres_bin,
            allow_imports=args.allow_imports, progress=_progress_text(), data_dir=_data_dir(args), python=args.python,
        )
    except VerifyError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\r\x1b[K")
    snapshot = done.onto(snapshot_from_scan(done.scan_result(found.result), CHECKLIST, datetime.now(UTC)))
    store = _open_store(_data_dir(args), create=False)
    info = store.find_review(str(root), CHECKLIST) if store else None
    if store is not None:
        with store:
            if info is not None:  # the saved review gets this scan and its proofs, as the app would
                store.apply_scan(info.id, found.result, _reviewer(args), commit=git_commit(root))
                record(store, info.id, done, _reviewer(args))
    _write(_render(args, snapshot), args.output)
    for tree in done.result.trees:
        if tree.skipped:
            _say(f"verify: {tree.folder} not run: {tree.skipped}")
    _say(f"verify: {done.state.outcome}" + (" (recorded in the saved review)" if info is not None else ""))
    return gate(open_severities(snapshot), settings, args)


def _offline_sql(found: Scan, args: argparse.Namespace) -> int:
    """`verify --sql`: each tree's `alembic upgrade base:heads --sql`, rendered in the sandbox."""
    from analyzers.verify.result import VerifyError
    from analyzers.verify.run import offline_sql

    try:
        trees = offline_sql(found.result.root, found=found, allow_imports=args.allow_imports, python=args.python)
    except VerifyError as exc:
        raise UsageError(str(exc)) from None
    parts = []
    for tree in trees:
        parts.append(f"-- dbreview verify --sql: {tree.tree}")
        if tree.sql is not None:
            parts.append(tree.sql.rstrip("\n"))
        else:
            parts.append(f"-- not rendered: {tree.error}")
            _say(f"{tree.tree}: the SQL could not be rendered offline: {(tree.error or '').splitlines()[0] if tree.error else ''}")
    _write("\n".join(parts) if parts else "-- no Alembic revisions", args.output)
    return 0


def _progress_text() -> Callable[[str], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(what: str) -> None:
        sys.stderr.write(f"\r\x1b[K{what[:100]}")
        sys.stderr.flush()

    return show


# -- saved reviews: export and sessions -------------------------------------------------------------


def _open_store(data: Path, *, create: bool) -> ReviewStore | None:
    """The review database; None when it does not exist and `create` is false. A file that cannot be
    used (corrupt, not ours, newer) is refused with one line naming it, and left as it was."""
    from tui.session import ReviewStore, SessionStoreError

    db = paths.session_db(data)
    if not create and not db.exists():
        return None
    try:
        return ReviewStore.open(db)
    except SessionStoreError as exc:
        raise UsageError(str(exc)) from None


def _cmd_export(args: argparse.Namespace) -> int:
    repo = str(Path(args.path).expanduser().resolve())  # the repository may be gone; its review is not
    store = _open_store(_data_dir(args), create=False)
    info = store.find_review(repo, CHECKLIST) if store else None
    if store is None or info is None:
        if store:
            store.close()
        raise UsageError(f"no saved review of {repo}; `{PROG} open {args.path}` starts one, `{PROG} sessions` lists them")
    with store:
        snapshot = store.snapshot(info.id)
    settings = target_settings(Path(repo), args) if Path(repo).is_dir() and args.fail_on is None else None
    _write(_render(args, snapshot), args.output)
    return gate((f.severity for f in snapshot.findings if f.is_open), settings, args)


def _cmd_import(args: argparse.Namespace) -> int:
    from analyzers.checklist import load_checklist
    from analyzers.discover import TargetError
    from analyzers.engine import scan
    from tui.handover import HandoverError, import_review, read_export
    from tui.reports.sanitize import printable
    from tui.review import Review

    target = Path(args.path).expanduser()
    if not target.is_dir():
        raise UsageError(f"{target}: {'not a directory' if target.exists() else 'no such file or directory'}")
    try:
        document = read_export(Path(args.file).expanduser())
        settings = target_settings(target, args)
        result = scan(target, settings=settings, cache_dir=paths.scan_cache_dir(), progress=_progress_line())
    except (HandoverError, TargetError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\r\x1b[K")
    store = _open_store(_data_dir(args), create=True)
    with store:  # type: ignore[union-attr]
        review = Review.open(store, target, _reviewer(args), load_checklist(CHECKLIST))
        review.apply_scan(result.result)
        review.reload()
        try:
            done = import_review(review, result.result.findings, document)
        except HandoverError as exc:
            raise UsageError(str(exc)) from None
    print(printable("\n".join(done.lines())))  # conflicts name files of the repository
    return 0


def _cmd_sessions(args: argparse.Namespace) -> int:
    data = _data_dir(args)
    store = _open_store(data, create=False)
    if store is None:
        print(f"No saved reviews yet (in {paths.session_db(data)}).")
        return 0
    with store:
        summaries = store.list_reviews()
        if not summaries:
            print(f"No saved reviews yet (in {store.path}).")
        for summary in summaries:
            print(session_line(summary))
        if args.prune:
            _prune(store, [s for s in summaries if not Path(s.review.repo_path).is_dir()], args.yes)
    return 0


def _prune(store: ReviewStore, gone: list[ReviewSummary], yes: bool) -> None:
    """Remove saved reviews of repositories that are gone, each only after a yes."""
    from tui.reports.sanitize import one_line

    if not gone:
        print("Every saved review's repository is still there: nothing to prune.")
        return
    if not yes and not sys.stdin.isatty():
        raise UsageError("--prune asks before removing anything; run it in a terminal, or add --yes")
    for summary in gone:
        where = one_line(summary.review.repo_path)
        question = f"Remove the saved review of {where} ({summary.triaged} decisions, {summary.items_done} verdicts)? [y/N] "
        if yes or input(question).strip().lower() in ("y", "yes"):
            store.delete_review(summary.review.id)
            print(f"Removed the review of {where}.")
        else:
            print(f"Kept the review of {where}.")


def session_line(summary: ReviewSummary) -> str:
    """One saved review, one line: repository, checklist, progress, last change and by whom."""
    from analyzers.checklist import ChecklistError, load_checklist
    from tui.reports.sanitize import one_line

    review = summary.review
    try:
        checklist = load_checklist(review.checklist_id)
        items, questions = str(len(checklist.items)), str(len(checklist.questions))
    except ChecklistError:
        items = questions = "?"
    missing = "" if Path(review.repo_path).is_dir() else " (missing: moved or deleted; `sessions --prune` offers to remove it)"
    when = summary.last_change.astimezone().strftime("%Y-%m-%d %H:%M")
    who = f" by {one_line(summary.last_reviewer)}" if summary.last_reviewer else ""
    progress = (
        f"{summary.triaged}/{summary.findings} findings triaged, {summary.items_done}/{items} items, "
        f"{summary.answered}/{questions} answers"
    )
    return f"{one_line(review.repo_path)}{missing}  [{review.checklist_id}]  {progress}  last change {when}{who}"


# -- rules ------------------------------------------------------------------------------------------


def _cmd_rules(args: argparse.Namespace) -> int:
    from analyzers.rules import rule_info, rule_infos

    if args.rule_id:
        info = rule_info(args.rule_id.upper())
        if info is None:
            raise UsageError(f"no rule {args.rule_id}; `{PROG} rules` lists them")
        item = f"item {info.item_id}" if info.item_id else "the item of the rule it names"
        print(f"{info.id}  {info.severity}  {item}\n{info.title}\n")
        for head, body in (("What it checks", info.what), ("Why it matters", info.why)):
            if body:
                print(f"{head}: {body}\n")
        if info.example:
            print("Example:\n" + "\n".join(f"    {line}" for line in info.example.splitlines()) + "\n")
        if info.instead:
            print(f"Instead: {info.instead}")
        return 0
    for _, info in rule_infos():
        print(f"{info.id:<7} {info.severity:<8} {info.item_id or '(its rule)':<12} {info.title}")
    return 0
