"""verify(): the plan, then the four proofs on a throwaway PostgreSQL; offline_sql(): what the
migrations would send, as `alembic upgrade head --sql` renders it through the replacement env.py.

    1. a fresh `upgrade head` of every tree
    2. each revision up, down and up again, with catalog snapshots between
    3. the catalog checks at head
    4. two tenants' rows read as each role (isolation.py)
"""

from __future__ import annotations

import os
import posixpath
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from analyzers.verify import catalog
from analyzers.verify.migrate import AlembicChild, copy_tree
from analyzers.verify.plan import Plan, TreePlan, make_plan
from analyzers.verify.postgres import OWNER, Cluster, find_install
from analyzers.verify.result import Roundtrip, Step, Tree, Upgrade, VerifyError, VerifyResult, Where
from analyzers.verify.sandbox import Runtime, Sandbox, SandboxError, runtime, sandbox, target_runtime

Progress = Callable[[str], None]


def verify(
    root: str | os.PathLike[str],
    *,
    found=None,
    postgres_bin: str | None = None,
    allow_imports: bool = False,
    commit: str | None = None,
    progress: Progress | None = None,
    template_dir: Path | None = None,
    python: str | None = None,
) -> VerifyResult:
    """Prove what can be proven about the target at `root` on a real PostgreSQL. `found` is a
    finished static scan (analyzers.engine.Scan) when the caller has one; `template_dir` keeps a
    fresh initdb between runs (a private folder: the data dir's). Raises VerifyError for
    what the user must change (no PostgreSQL, imports not allowed); everything else is in the
    result, unverifiable parts included."""
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    root = Path(root).expanduser().resolve()
    if found is None:
        from analyzers.engine import scan

        found = scan(root)
    plan = make_plan(root, found.facts, [c.path for c in found.layout.python])
    if not allow_imports:
        _hold_back_importing_trees(plan)
    result = _result_of(plan, root, commit)
    runnable = [t for t in plan.trees if not t.skipped]
    if not runnable:
        result.unverifiable = "no Alembic revisions to run" if not plan.trees else "no tree to run on PostgreSQL"
        return result
    absent = [] if python else sorted(m for m in plan.third_party if not _importable(m))
    if absent:
        result.unverifiable = f"the revision files need {', '.join(absent)}, which dbreview's environment lacks"
        result.notes.append(f"install {' '.join(absent)} beside dbreview (pip install ...) to verify this target")
        return result
    install = find_install(postgres_bin)
    try:
        box = sandbox()
    except SandboxError as exc:
        raise VerifyError(str(exc)) from None
    result.timings["plan"] = time.perf_counter() - t0
    result.postgres = str(install)
    result.protections, result.missing_protections = box.protections, box.missing
    say(f"starting {install}")
    with Cluster(install, box, template_dir) as pg:
        result.timings.update(pg.timings)
        available = pg.available_extensions()
        missing = [e for e in plan.extensions if e not in available]
        if missing:
            result.postgres_lacks = missing
            result.unverifiable = f"needs {', '.join(missing)}"
            if install.embedded:
                result.notes.append(
                    f"the embedded PostgreSQL has only {', '.join(sorted(available))}: install PostgreSQL with its "
                    "contrib extensions (Debian: apt-get install postgresql postgresql-contrib) to verify this target"
                )
            return result
        rt = _child_runtime(root, plan, pg.work, box, allow_imports, python)
        run = _Run(pg, box, rt, plan, result, available, say)
        try:
            run.roles()
            run.databases()
            # The roundtrips have databases and children of their own: they run beside proofs 1, 3 and 4.
            trips = threading.Thread(target=run.timed, args=("roundtrip", run.roundtrips), name="dbreview-roundtrips", daemon=True)
            trips.start()
            for name, proof in (("upgrade", run.upgrades), ("catalog", run.at_head), ("isolation", run.isolation)):
                run.timed(name, proof)
            trips.join()
            if run.failure is not None:
                raise run.failure
        finally:
            run.close()
        result.memory_kb = run.peak_memory
    result.timings["total"] = time.perf_counter() - t0
    return result


def _hold_back_importing_trees(plan: Plan) -> None:
    """Without --allow-imports, a tree whose revision files import more than alembic, sqlalchemy and
    the standard library is not run (it says why); the others still are. When that leaves nothing to
    run, the user must choose: a VerifyError naming the files."""
    runnable = [t for t in plan.trees if not t.skipped]
    for tree in runnable:
        files = sorted(path for path in plan.imports if posixpath.dirname(path) == tree.folder)
        if files:
            named = ", ".join(f"{posixpath.basename(path)} ({', '.join(plan.imports[path])})" for path in files[:3])
            more = f" and {len(files) - 3} more" if len(files) > 3 else ""
            tree.skipped = f"its revision files import more than alembic, sqlalchemy and the standard library: {named}{more}; --allow-imports runs them"
    if runnable and all(t.skipped for t in runnable):
        files = ", ".join(f"{path} ({', '.join(mods)})" for path, mods in sorted(plan.imports.items())[:3])
        more = f" and {len(plan.imports) - 3} more" if len(plan.imports) > 3 else ""
        raise VerifyError(
            f"revision files import more than alembic, sqlalchemy and the standard library: {files}{more}. "
            "verify runs them only with --allow-imports"
        )


def _result_of(plan: Plan, root: Path, commit: str | None) -> VerifyResult:
    result = VerifyResult(root=str(root), commit=commit, extensions=plan.extensions, roles=plan.roles, imports=plan.imports)
    result.trees = [
        Tree(t.folder, len(t.revisions), t.heads, t.database, t.version_table, list(t.not_reproduced), t.skipped)
        for t in plan.trees
    ]
    return result


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _child_runtime(root: Path, plan: Plan, work: Path, box: Sandbox, allow_imports: bool, python: str | None = None) -> Runtime:
    """The child's Python and its path: Alembic, SQLAlchemy and the driver, from dbreview's environment
    or (`python`) the target's own; with --allow-imports, the third-party modules the revision files
    import and a copy of the target's own modules."""
    modules = tuple(sorted(plan.third_party)) if allow_imports else ()
    try:
        rt = target_runtime(box, python, modules) if python else runtime(box, work / "runtime", modules)
    except SandboxError as exc:
        raise VerifyError(str(exc)) from None
    paths = _target_paths(root, plan, work, box) if allow_imports else ()
    return Runtime(rt.python, (*rt.path, *paths), rt.site, rt.driver)


def _target_paths(root: Path, plan: Plan, work: Path, box: Sandbox) -> tuple[str, ...]:
    """With --allow-imports, the target's own modules that revision files import: a copy of its
    Python files (no .env, no settings files: only *.py, read through analyzers.confine) with the
    folders that hold them on sys.path."""
    from analyzers import confine
    if not plan.local_imports:
        return ()
    copy = work / "target"
    holders: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__", ".venv", "venv")]
        rel = Path(folder).relative_to(root)
        if any(name in plan.local_imports for name in dirs) or any(f.removesuffix(".py") in plan.local_imports for f in files):
            holders.append(str(copy / rel))
        for name in files:
            if name.endswith(".py"):
                try:
                    data = confine.read_bytes(str(root), (rel / name).as_posix())
                except OSError:
                    continue
                (copy / rel).mkdir(parents=True, exist_ok=True)
                (copy / rel / name).write_bytes(data)
    for folder, _dirs, files in os.walk(copy):
        box.give(Path(folder))
        for name in files:
            box.give(Path(folder) / name)
    return tuple(holders)


class _Run:
    """One verify run inside a started cluster."""

    def __init__(self, pg: Cluster, box: Sandbox, rt: Runtime, plan: Plan, result: VerifyResult, available: dict[str, bool], say: Progress) -> None:
        self.pg, self.box, self.rt, self.plan, self.result, self.available, self.say = pg, box, rt, plan, result, available, say
        self.trees = [t for t in plan.trees if not t.skipped]
        self.version_tables = {t.version_table for t in plan.trees}
        self.failed_databases: set[str] = set()
        self.peak_memory = 0
        self.children: dict[tuple[int, str], AlembicChild] = {}  # (tree, "head" | "trip") -> its child
        self.failure: BaseException | None = None  # what stopped the roundtrips' thread

    def _sample_memory(self) -> None:
        self.peak_memory = max(self.peak_memory, self.pg.memory_kb() or 0)

    def roles(self) -> None:
        """The roles the migrations and policies name (and do not create), for them."""
        with self.pg.connect("postgres") as conn:
            existing = {r for (r,) in conn.execute("SELECT rolname FROM pg_roles").fetchall()}
            for role in self.plan.roles:
                if role not in existing:
                    conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
                conn.execute(f'GRANT "{role}" TO {OWNER}')

    def database(self, name: str) -> None:
        """A fresh database owned by the migrations' role, with the extensions a non-superuser may not
        create already there (created first by the superuser, as a DBA would)."""
        self.pg.create_database(name)
        untrusted = [e for e in self.plan.extensions if not self.available.get(e, False)]
        if untrusted:
            with self.pg.connect(name) as conn:
                for ext in untrusted:
                    conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')

    def child(self, n: int, kind: str = "head") -> AlembicChild:
        """The sandboxed child of tree n for the proofs at head, or for the roundtrips ("trip"),
        started on first use."""
        if (n, kind) not in self.children:
            tree = self.trees[n]
            location = copy_tree(Path(self.result.root), tree.folder, self.pg.work / f"tree-{n}-{kind}", self.box)
            child = AlembicChild(self.box, self.rt, self.pg.work, location, self.pg.url(tree.database), tree.version_table)
            child.start()
            self.children[(n, kind)] = child
        return self.children[(n, kind)]

    def databases(self) -> None:
        for db in self.plan.databases:
            self.database(db)
            self.database(f"{db}_roundtrip")

    def timed(self, name: str, proof) -> None:
        started = time.perf_counter()
        try:
            proof()
        except BaseException as exc:  # noqa: BLE001 - the roundtrips' thread hands it to the caller
            self.failure = exc
            if threading.current_thread() is threading.main_thread():
                raise
        finally:
            self.result.timings[name] = time.perf_counter() - started

    def close(self) -> None:
        for child in self.children.values():
            child.close()

    # -- proof 1

    def upgrades(self) -> None:
        for n, tree in enumerate(self.trees):
            if tree.database in self.failed_databases:
                self.result.notes.append(f"{tree.folder}: not run: the first tree of {tree.database} failed")
                continue
            self.say(f"upgrade head: {tree.folder}")
            child = self.child(n)
            target = "heads" if len(tree.heads) > 1 else "head"
            step = child.step("upgrade", "head", tree.folder)
            if not step.ok and len(tree.heads) > 1:
                self.result.upgrades.append(Upgrade(tree.folder, self._located(step, tree), "head"))
                self.result.notes.append(f"{tree.folder}: `upgrade head` fails with {len(tree.heads)} heads; the other proofs use `upgrade heads`")
                step = child.step("upgrade", "heads", tree.folder)
            if not step.ok and (step.error or "").startswith(("ModuleNotFoundError", "ImportError")):
                # our environment's lack, not the migrations' fault: nothing proven either way
                self.result.unverifiable = f"{tree.folder}: {step.error.splitlines()[0]}"
                self.failed_databases.add(tree.database)
                continue
            self.result.upgrades.append(Upgrade(tree.folder, self._located(step, tree), target))
            self._sample_memory()
            if not step.ok and tree is self._first_of(tree.database):
                self.failed_databases.add(tree.database)
            elif not step.ok:
                self.result.notes.append(
                    f"{tree.folder} failed in {tree.database}: the checks at head ran on what the other trees there built"
                )

    def _first_of(self, database: str) -> TreePlan:
        return next(t for t in self.trees if t.database == database)

    def _located(self, step: Step, tree: TreePlan) -> Step:
        """Name the revision of the file a failure points at (from the static facts)."""
        if step.where is not None:
            for rev in tree.revisions:
                if rev.path == step.where.path:
                    step.revision = rev.revision
        elif step.error:
            for rev in tree.revisions:  # "Can't locate revision identified by 'x'": the file that names it
                if rev.revision and any(f"'{d}'" in step.error for d in rev.down_revisions):
                    step.revision, step.where = rev.revision, Where(rev.path, rev.span.start)
        return step

    # -- proof 3

    def at_head(self) -> None:
        for db in self.plan.databases:
            if db in self.failed_databases:
                self.result.notes.append(f"catalog checks not run on {db}: its upgrade failed")
                continue
            with self.pg.connect(db) as conn:
                tables = catalog.rls_state(conn, self.version_tables)
                self.result.rls += tables
                self.result.columns.update(catalog.columns(conn, self.version_tables))
                self.result.catalog += catalog.checks(conn, self.version_tables, tables)

    # -- proof 4

    def isolation(self) -> None:
        from analyzers.verify.isolation import prove_isolation

        good = [db for db in self.plan.databases if db not in self.failed_databases]
        if not good:
            self.result.notes.append("isolation not tested: no database reached head")
            return
        self.result.isolation = prove_isolation(self.pg, good[0], self.result.rls, self.plan.roles, self.version_tables)
        self._sample_memory()

    # -- proof 2

    def roundtrips(self) -> None:
        for n, tree in enumerate(self.trees):
            db = f"{tree.database}_roundtrip"
            self.say(f"roundtrips: {tree.folder}")
            child = self.child(n, "trip")
            graph = child.ask({"op": "graph"})
            if not graph.get("ok"):
                self.result.notes.append(f"{tree.folder}: roundtrips not run: {graph.get('error')}")
                continue
            self._roundtrip_tree(n, tree, child, db, graph["revisions"])
            self._sample_memory()

    def _roundtrip_tree(self, n: int, tree: TreePlan, child: AlembicChild, db: str, revisions: list[dict]) -> None:
        ignore, url = self.version_tables, self.pg.url(db)
        conn = self.pg.connect(db)
        try:
            before = catalog.snapshot(conn, ignore)
            for i, rev in enumerate(revisions):
                rid, path = rev["revision"], f"{tree.folder}/{rev['path']}"
                trip = Roundtrip(tree.folder, rid, path)
                self.result.roundtrips.append(trip)
                self.say(f"roundtrip {i + 1}/{len(revisions)}: {rid}")
                up = child.step("upgrade", rid, tree.folder, url)
                if not up.ok:
                    first = (up.error or "").splitlines()[0][:200] if up.error else ""
                    self.result.notes.append(f"{tree.folder}: roundtrips stopped at {rid}, whose upgrade failed ({first})")
                    return
                after_up = catalog.snapshot(conn, ignore)
                target = rev["down"][0] if len(rev["down"]) > 1 else f"{rid}@-1"
                trip.downgrade = child.step("downgrade", target, tree.folder, url)
                if not trip.downgrade.ok:
                    trip.downgrade.revision = rid
                    before = after_up  # its transaction rolled back: the database is still at rid
                    continue
                added, removed, changed = catalog.compare(before, catalog.snapshot(conn, ignore))
                trip.left_behind, trip.destroyed, trip.changed = added, removed, changed
                trip.upgrade_again = child.step("upgrade", rid, tree.folder, url)
                if not trip.upgrade_again.ok:
                    # what the downgrade left makes the revision fail: start again from a fresh database
                    conn.close()
                    conn = self._rebuild(n, db, rid)
                    if conn is None:
                        self.result.notes.append(f"{tree.folder}: roundtrips stopped at {rid}: a fresh database could not be brought to it")
                        return
                    before = catalog.snapshot(conn, ignore)
                    continue
                again = catalog.snapshot(conn, ignore)
                a2, r2, c2 = catalog.compare(after_up, again)
                trip.differs = [f"+ {k}" for k in a2] + [f"- {k}" for k in r2] + [f"~ {k}" for k in c2]
                before = again
        finally:
            conn.close()

    def _rebuild(self, n: int, db: str, rid: str):
        """The roundtrip database made again: the trees before tree n at their heads, tree n at rid."""
        with self.pg.connect("postgres") as conn:
            conn.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
        self.database(db)
        url = self.pg.url(db)
        for m, tree in enumerate(self.trees[: n + 1]):
            if tree.database != self.trees[n].database:
                continue
            target = rid if m == n else "heads"
            if not self.child(m, "trip").step("upgrade", target, tree.folder, url).ok:
                return None
        return self.pg.connect(db)


# -- offline SQL ------------------------------------------------------------------------------------


@dataclass(slots=True)
class OfflineSql:
    tree: str  # the versions folder
    sql: str | None  # what `alembic upgrade base:heads --sql` prints, through the replacement env.py
    error: str | None = None


def offline_sql(root: str | os.PathLike[str], *, found=None, allow_imports: bool = False, python: str | None = None) -> list[OfflineSql]:
    """The SQL each tree's migrations would run, rendered offline (no database: Alembic's --sql mode)
    by the sandboxed child with the replacement env.py. For linters such as squawk."""
    root = Path(root).expanduser().resolve()
    if found is None:
        from analyzers.engine import scan

        found = scan(root)
    plan = make_plan(root, found.facts, [c.path for c in found.layout.python])
    if not allow_imports:
        _hold_back_importing_trees(plan)
    try:
        box = sandbox()
    except SandboxError as exc:
        raise VerifyError(str(exc)) from None
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="dbreview-sql-"))
    out: list[OfflineSql] = []
    try:
        work.chmod(0o711)
        home = work / "home"
        home.mkdir(mode=0o700)
        box.give(home)
        rt = _child_runtime(root, plan, home, box, allow_imports, python)
        url = "postgresql+psycopg://offline@/offline"
        for n, tree in enumerate(plan.trees):
            if tree.skipped:
                out.append(OfflineSql(tree.folder, None, f"skipped: {tree.skipped}"))
                continue
            location = copy_tree(root, tree.folder, home / f"tree-{n}", box)
            with AlembicChild(box, rt, home, location, url, tree.version_table) as child:
                answer = child.ask({"op": "sql", "range": "base:heads"})
            out.append(OfflineSql(tree.folder, answer.get("sql"), None if answer.get("ok") else answer.get("error")))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out
