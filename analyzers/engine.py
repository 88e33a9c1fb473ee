"""scan(): discover -> facts (cached by content, in parallel when it pays) -> rules -> findings; or,
when nothing changed since the last scan, discover -> that scan's result (kept beside the facts)."""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from analyzers import confine, scan_cache
from analyzers.discover import MAX_FILE_BYTES, Candidate, Layout, decode, discover, imported, relevant
from analyzers.facts.paths import current_app_packages, using_app_packages
from analyzers.findings import Finding, ScanError, ScanResult
from analyzers.scan_cache import Entry, no_cycle_collection
from analyzers.settings import Settings

if TYPE_CHECKING:  # imported where used: a warm scan that reuses the last result needs none of them
    from analyzers.facts.model import DocFact, Facts, ModuleFacts, SqlStatement

# Worker processes are started only for this much Python to parse (measured on 2 cores: below it the
# start and stop of a forked worker cost what it saves), or for FORKSERVER_MIN_BYTES when they must
# come from a fork server (a threaded caller), which takes a good 0.2 s to start the first time.
PARALLEL_MIN_BYTES = 512 * 1024
FORKSERVER_MIN_BYTES = 1536 * 1024
CHUNK_MIN_BYTES = 48 * 1024  # one task for a worker: small enough to share the tail evenly
MAX_PROCESSES = 4  # this process and up to three workers; more cores help little at this size
# Parsing costs 60-110x a module's size in memory, and ~400x for one of short statements: a file this
# big is parsed in a child that may grow by ISOLATED_MEMORY (a 3 MB migration needs 330-360 MB), so
# the whole scan, this process and the fork server included, stays under 500 MB. docs/reliability.md.
ISOLATE_MIN_BYTES = 256 * 1024
ISOLATED_MEMORY = 360 * 1024 * 1024
ISOLATED_SECONDS = 120
Progress = Callable[[str, int, int], None]  # (stage, done, total)
CHECKLIST = "database"  # the pack whose items the rules serve


@dataclass(slots=True)
class Scan:
    """Everything one scan learned: the result for people, the facts and layout for tools. When the
    last scan's result was reused (`reused`: nothing changed), the facts are linked only if asked for."""

    result: ScanResult
    layout: Layout
    timings: dict[str, float] = field(default_factory=dict)
    cache_hits: int = 0
    reused: bool = False
    _facts: Facts | None = None
    _link: Callable[[], Facts] | None = field(default=None, repr=False)

    @property
    def facts(self) -> Facts:
        if self._facts is None:
            assert self._link is not None
            self._facts, self._link = self._link(), None
        return self._facts


def scan(
    root: str | os.PathLike[str],
    *,
    settings: Settings | None = None,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    on_findings: Callable[[list[Finding]], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> Scan:
    """Analyze `root` as `settings` say (default: the target's own). Raises discover.TargetError
    when it is not a directory with Python in it, settings.SettingsError when its settings cannot be
    used. With a `cache_dir`, a scan that finds nothing changed since the last one (its inputs, see
    `_inputs`) gives that scan's result without linking the facts or running a rule."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    started_ns = time.time_ns()
    layout = discover(Path(root), settings)
    with using_app_packages(layout.app_packages):  # this target's, never the last scan's
        settings = layout.settings
        timings["discover"] = time.perf_counter() - t0
        include = (settings.prefix, *settings.include)  # which files are read depends on them too
        # and which files' imports are read on the application's packages (an entry's `refs`): the facts cache is
        # pinned to both
        pins = (*include, ("app packages", *sorted(layout.app_packages))) if layout.app_packages else include
        cache_file = scan_cache.file_for(cache_dir, layout.root) if cache_dir else None
        kept_file = scan_cache.result_file_for(cache_dir, layout.root) if cache_dir else None
        inputs = _inputs(layout, pins) if kept_file else b""
        kept = scan_cache.load_result(kept_file, inputs) if kept_file else None
        if kept is not None:
            total = len(layout.python)
            if progress:
                progress("reading", total, total)
            if on_findings and kept.findings:
                on_findings(kept.findings)
            timings["total"] = time.perf_counter() - t0
            link_later = functools.partial(_facts_only, layout, cache_file, pins, jobs)
            return Scan(kept, layout, timings, total, reused=True, _link=link_later)

        t1 = time.perf_counter()
        from analyzers.facts.sql import NO_PARSER, NO_PARSER_PATH, parser_missing

        no_parser = parser_missing()
        if no_parser:  # the SQL facts of this scan are not those of a whole install: not cached, not kept
            cache_file = kept_file = None
        entries, hits, saved = _entries(layout, cache_file, pins, jobs, progress, is_cancelled)
        timings["facts"] = time.perf_counter() - t1

        # Linking and the rules leave no reference cycles to collect (none on fides, polar or dispatch), while
        # the cycle collector's passes over the facts' millions of objects cost a tenth to a fifth of the stage.
        with no_cycle_collection():
            t2 = time.perf_counter()
            facts, modules, errors = _linked(layout, entries, [ScanError(NO_PARSER_PATH, NO_PARSER)] if no_parser else [])
            timings["link"] = time.perf_counter() - t2

            t3 = time.perf_counter()
            result, rules_failed = _findings(facts, modules, errors, layout, on_findings, is_cancelled)
            timings["rules"] = time.perf_counter() - t3
        if cache_file is not None:  # the files the rules read on demand, for the next scan
            scan_cache.save_loaded(cache_file, saved, entries, pins)
        if kept_file is not None:  # kept only if nothing could have changed unseen while it was found
            complete = not (is_cancelled and is_cancelled()) and not rules_failed
            settled = all(not e.racy for e in entries.values()) and all(c.mtime_ns < started_ns - _RACY_NS for c in layout.python)
            scan_cache.save_result(kept_file, inputs, result if complete and settled else None)
        timings["total"] = time.perf_counter() - t0
        return Scan(result, layout, timings, hits, _facts=facts)


def _inputs(layout: Layout, include: tuple[object, ...]) -> bytes:
    """What a scan's result depends on besides the code (scan_cache.result_version): the settings, and
    every file the scan lists (Python and set-up files), by size and mtime (a file changed in the clock tick of its read is
    never kept: see `scan`), added or gone; the Alembic set-ups and what discovery skipped and why."""
    s = layout.settings
    settings = {name: getattr(s, name) for name in s.__slots__} | {"severity": sorted(s.severity.items())}
    head = repr((str(layout.root), include, settings, layout.python_total, layout.alembic_ini, layout.docs, layout.skipped))
    files = "\n".join(f"{c.path}\0{c.size}\0{c.mtime_ns}" for c in (*layout.python, *layout.configs))
    return f"{head}\n{files}".encode("utf-8", "surrogateescape")


def _entries(
    layout: Layout,
    cache_file: Path | None,
    include: tuple[object, ...],
    jobs: int | None,
    progress: Progress | None,
    is_cancelled: Callable[[], bool] | None,
) -> tuple[dict[str, Entry], int, scan_cache.Cached]:
    """Every listed file's entry, the cache hits, and what the cache file holds once they are saved."""
    cache = scan_cache.load(cache_file, include)
    entries, hits = _read_all(layout, cache, jobs, progress, is_cancelled)
    if cache_file is not None:  # what changed is appended; a cancelled scan keeps what it finished
        cache = scan_cache.save(cache_file, cache, entries, include)
    return entries, hits, cache


def _linked(
    layout: Layout, entries: dict[str, Entry], said: list[ScanError] = []  # noqa: B006 - never changed
) -> tuple[Facts, list[ModuleFacts], list[ScanError]]:
    """The facts of every file linked into one model, and the scan errors met on the way (after
    discovery's, those `said` for the whole scan)."""
    from analyzers.facts.link import link
    from analyzers.facts.model import Span, Unread

    errors = [ScanError(path, why) for path, why in layout.skipped if not why.startswith("directory already")]
    errors += [ScanError(path, why) for path, why in layout.skipped if why.startswith("directory already")]
    errors += said
    facts = _linked_class()(root=str(layout.root), settings=layout.settings, app_packages=layout.app_packages)
    modules = []
    unread = [Unread("file", Span(path, 1, 1), why) for path, why in layout.skipped if path.endswith(".py")]
    for path, entry in sorted(entries.items()):
        if entry.warning:
            errors.append(ScanError(path, entry.warning))
        if entry.facts is None:
            if entry.warning:  # not read at all (NUL bytes, unreadable, the extractor failed)
                unread.append(Unread("file", Span(path, 1, 1), entry.warning))
            continue
        modules.append(entry.facts)
        errors.extend(ScanError(path, msg, line) for line, msg in entry.facts.errors)
    load = _loader(str(layout.root), entries)
    readers = [m for path in _model_readers(entries, modules) if (m := load(path)) is not None]
    for m in readers:
        errors.extend(ScanError(m.path, msg, line) for line, msg in m.errors)
    modules = sorted(modules + readers, key=lambda m: m.path)
    link(facts, modules, unread, [c.path for c in layout.python], load)
    facts.derived["readers"] = [m.path for m in readers]
    facts.docs = [_doc(layout.root, d) for d in layout.docs]
    facts.configs = [c.path for c in layout.configs]
    return facts, modules, errors


def _model_readers(entries: dict[str, Entry], modules: list[ModuleFacts]) -> list[str]:
    """The files without a marker that import a model: a mapped class or a Table(...) from the module that
    defines it or a package above it (a re-export), or that module itself. They query the models without
    naming SQLAlchemy (Flask-SQLAlchemy's `User.query`, a service over the app's own base's `Model.get(id)`)."""
    from analyzers.facts.paths import is_test_path

    wanted: set[str] = set()
    for m in modules:
        if m.revision is not None or is_test_path(m.path):
            continue
        names = [c.name for c in m.classes if c.tablename or c.columns or c.relationships]
        names += [n for n, span in m.binding_spans.items() if any(t.span.start == span.start for t in m.tables)]
        if not names:
            continue
        wanted.update(_suffixes(m.module))
        parts = m.module.split(".")
        for i in range(1, len(parts) + 1):  # the module and the packages above it, which may re-export
            for name in names:
                wanted.update(_suffixes(".".join([*parts[:i], name]), 2))
    return [path for path, e in entries.items() if e.facts is None and not e.warning and e.refs and not wanted.isdisjoint(e.refs)]


def _suffixes(dotted: str, least: int = 1) -> list[str]:
    """`a.b.c` -> `a.b.c`, `b.c`, `c`: a module is imported by its name from a source root (`app.models` for
    backend/app/models.py), which a path does not tell."""
    parts = dotted.split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - least + 1)]


def _facts_only(layout: Layout, cache_file: Path | None, include: tuple[object, ...], jobs: int | None) -> Facts:
    """The facts of a scan whose result was reused, for a caller that asks for them: from the facts
    cache as that scan found it (a file changed since is read again)."""
    with using_app_packages(layout.app_packages):
        entries, _, saved = _entries(layout, cache_file, include, jobs, None, None)
        facts = _linked(layout, entries)[0]
        if cache_file is not None:
            scan_cache.save_loaded(cache_file, saved, entries, include)
    return facts


def _findings(
    facts: Facts,
    modules: list[ModuleFacts],
    errors: list[ScanError],
    layout: Layout,
    on_findings: Callable[[list[Finding]], None] | None,
    is_cancelled: Callable[[], bool] | None,
) -> tuple[ScanResult, bool]:
    """The rules over the facts: the result, and whether a rule failed (such a result is not kept)."""
    from analyzers import suppressions
    from analyzers.answers import draft_answers
    from analyzers.checklist import load_checklist
    from analyzers.facts.model import Span
    from analyzers.findings import with_identity
    from analyzers.rules import applicability, rule_info, run_rules

    findings, rule_errors = run_rules(facts, on_findings=on_findings, is_cancelled=is_cancelled)
    items = {i.id: i.applies_when for i in load_checklist(CHECKLIST).items}
    not_applicable = applicability.not_applicable(facts, items)
    findings = [f for f in findings if f.item_id not in not_applicable]
    # Every finding's file was read for its evidence: its text is at hand for `# dbreview: ignore`;
    # the other files that mention "dbreview:" are read for comments that suppress nothing.
    findings = suppressions.apply(
        findings,
        lambda path: "\n".join(facts.lines(Span(path, 1, suppressions.WHOLE_FILE))),
        also=[m.path for m in modules if m.marked],
        rule_item=lambda rule_id: info.item_id if (info := rule_info(rule_id)) else None,
        enabled=layout.settings.rule_enabled,
    )
    result = ScanResult(
        root=str(layout.root),
        findings=with_identity(findings),
        errors=errors + rule_errors,
        files_scanned=len(layout.python),
        drafted_answers=draft_answers(facts),
        not_applicable=not_applicable,
    )
    return result, bool(rule_errors)


@functools.cache
def _linked_class() -> type[Facts]:
    """Facts once linked. Nothing changes them any more, so the lists that rules ask for once per
    table are built once (else a scan grows with tables x migrations)."""
    from analyzers.facts.model import Facts

    class Linked(Facts):
        @functools.cached_property
        def migration_sql(self) -> list[SqlStatement]:  # type: ignore[override]
            return Facts.migration_sql.fget(self)  # type: ignore[attr-defined]

    return Linked


def _read_all(
    layout: Layout,
    cache: dict[str, Entry],
    jobs: int | None,
    progress: Progress | None,
    is_cancelled: Callable[[], bool] | None,
) -> tuple[dict[str, Entry], int]:
    """Facts for every candidate: from the cache when size and mtime match (stat only, nothing is
    read), else the file is read once; unchanged bytes (same hash) keep their facts, files without
    a marker are done, and only the rest is parsed, in this process and in workers when it pays."""
    entries: dict[str, Entry] = {}
    misses: list[Candidate] = []
    for cand in layout.python:
        old = cache.get(cand.path)
        if old is not None and old.size == cand.size and old.mtime_ns == cand.mtime_ns and not old.racy:
            entries[cand.path] = old
        else:
            misses.append(cand)
    total = len(layout.python)
    if progress:
        progress("reading", len(entries), total)
    root = str(layout.root)
    settings = layout.settings
    now_ns = time.time_ns()
    reused = 0
    from analyzers.facts.paths import is_test_path

    todo: list[tuple[Candidate, bytes]] = []  # relevant and new: to be parsed
    pending: dict[str, tuple[str, bool]] = {}  # their digest and racy flag (an entry once parsed)
    for cand in misses:
        if is_cancelled and is_cancelled():
            break
        try:
            data = _read_bytes(root, cand.path)
        except OSError as exc:
            # racy: a chmod does not change the mtime, so look again next time
            entries[cand.path] = Entry(cand.size, cand.mtime_ns, "", None, f"cannot be read: {exc.strerror or exc}", True)
            continue
        # A file changed in the same clock tick as this read could keep its mtime: check its bytes next time.
        racy = cand.mtime_ns >= now_ns - _RACY_NS
        if not relevant(data, cand.path, settings):  # no digest: checking the markers again costs as little
            refs = () if is_test_path(cand.path) else imported(data, cand.path)  # a reader of the models?
            entries[cand.path] = Entry(cand.size, cand.mtime_ns, "", None, None, racy, refs=refs)
            continue
        old = cache.get(cand.path)
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        if old is not None and old.digest == digest:  # touched, checked out again: same bytes, same facts
            entries[cand.path] = Entry(cand.size, cand.mtime_ns, digest, old.facts, old.warning, racy)
            reused += 1
        else:
            pending[cand.path] = (digest, racy)
            todo.append((cand, data))
    hits = total - len(misses) + reused
    if progress:
        progress("reading", total - len(todo), total)
    sizes = {cand.path: cand for cand, _ in todo}
    big = [(cand, data) for cand, data in todo if len(data) >= ISOLATE_MIN_BYTES]
    small = [(cand, data) for cand, data in todo if len(data) < ISOLATE_MIN_BYTES]
    with no_cycle_collection():
        parsed = _extract_all(small, jobs, progress, total, is_cancelled)
        for path, (facts, warning) in itertools.chain(parsed, _extract_isolated(big, is_cancelled)):
            cand, (digest, racy) = sizes[path], pending[path]
            entries[path] = Entry(cand.size, cand.mtime_ns, digest, facts, warning, racy)
    if progress:
        progress("reading", total, total)
    return entries, hits


def _loader(root: str, entries: dict[str, Entry]) -> Callable[[str], ModuleFacts | None]:
    """`_load`, through the cache: a file a past scan read on demand (unchanged since: its entry stands)
    is unpickled, not parsed again; one read now is pickled into its entry for the next scan, at once,
    before any rule sees its facts."""

    def load(rel: str) -> ModuleFacts | None:
        entry = entries.get(rel)
        if entry is not None and entry.loaded is not None:
            try:
                return scan_cache.loads(entry.loaded)  # type: ignore[return-value]
            except Exception:  # noqa: BLE001 - damaged: read the file instead
                pass
        facts = _load(root, rel)
        if entry is not None and entry.facts is None and not entry.racy and facts is not None:
            entries[rel] = replace(entry, loaded=scan_cache.dumps(facts))
        return facts

    return load


def _load(root: str, rel: str) -> ModuleFacts | None:
    """A file the scan did not read (it mentions no SQLAlchemy), read because a name leads through it:
    a package's __init__ that re-exports `db`, a module that only imports and assigns."""
    try:
        data = _read_bytes(root, rel)
    except OSError:
        return None
    # such a module is a few lines of imports; one big enough to need isolating is not worth it here
    return _extract(rel, data)[0] if len(data) < ISOLATE_MIN_BYTES else None


def _read_bytes(root: str, rel: str) -> bytes:
    return confine.read_bytes(root, rel, MAX_FILE_BYTES)  # it may have grown since discovery


_RACY_NS = 2_000_000_000  # coarse file system clocks: an mtime this close to the read is not trusted


def _extract_all(
    todo: list[tuple[Candidate, bytes]],
    jobs: int | None,
    progress: Progress | None,
    total: int,
    is_cancelled: Callable[[], bool] | None,
) -> Iterator[tuple[str, tuple[ModuleFacts | None, str | None]]]:
    """Parse the files that need it. With enough work, worker processes take chunks from the front
    of the list while this process works from the back, so it never waits for them to start."""
    done = total - len(todo)
    work = sum(len(data) for _, data in todo)
    processes = jobs if jobs is not None else _cpus()
    fork = _can_fork()
    if processes < 2 or work < (PARALLEL_MIN_BYTES if fork else FORKSERVER_MIN_BYTES):
        for i, (cand, data) in enumerate(todo):
            if is_cancelled and is_cancelled():
                return
            yield cand.path, _extract(cand.path, data)
            if progress and i % 25 == 24:
                progress("reading", done + i + 1, total)
        return
    yield from _extract_shared(todo, processes, fork, work, progress, done, total, is_cancelled)


def _can_fork() -> bool:
    """fork() is safe (and quick) only while no other thread runs: the command line, not the app;
    and only on Linux (macOS system libraries do not survive it)."""
    return sys.platform == "linux" and threading.active_count() == 1


def _extract_shared(todo, processes, fork, work, progress, done, total, is_cancelled):
    # Largest first: the workers get the big files, this process the many small ones at the end.
    todo = sorted(todo, key=lambda item: -len(item[1]))
    size = max(CHUNK_MIN_BYTES, work // (processes * 12))
    chunks: list[list[tuple[str, bytes]]] = [[]]
    filled = 0
    for cand, data in todo:
        if filled >= size:
            chunks.append([])
            filled = 0
        chunks[-1].append((cand.path, data))
        filled += len(data)
    feeder = _Feeder(chunks, processes - 1, fork)
    feeder.start()
    finished = False
    try:
        # This process takes chunks from the back until it meets the ones the workers have claimed.
        first_claimed = len(chunks)
        for i in range(len(chunks) - 1, -1, -1):
            if is_cancelled and is_cancelled():
                return
            if not feeder.claim(i):
                break
            first_claimed = i
            for path, data in chunks[i]:
                yield path, _extract(path, data)
            done += len(chunks[i])
            if progress:
                progress("reading", done, total)
        for i in range(first_claimed):  # the workers' chunks, which they started in this order
            try:
                results = scan_cache.loads(feeder.futures[i].result())
            except Exception:  # noqa: BLE001 - a worker died (or could not pickle): do that chunk here
                results = [(path, _extract(path, data)) for path, data in chunks[i]]
            yield from results
            done += len(chunks[i])
            if progress:
                progress("reading", done, total)
            if is_cancelled and is_cancelled():
                return
        finished = True
    finally:
        feeder.close(finished)


class _Feeder(threading.Thread):
    """Starts the worker processes and hands them chunks from the front while the scanning thread
    works from the back. A single-threaded caller (the command line) forks them: ready in a few ms,
    with everything already imported. A threaded one (the app) must not fork: the workers come from
    a fork server, started off the scanning thread as it takes a good 0.1 s to answer."""

    def __init__(self, chunks: list, workers: int, fork: bool) -> None:
        super().__init__(name="dbreview-feeder", daemon=True)
        self.chunks, self.workers = chunks, workers
        self.futures: list = [None] * len(chunks)  # None: free; _LOCAL: this process's; else a Future
        self.lock = threading.Lock()
        self.pool = None  # a ProcessPoolExecutor once started
        self.closed = False
        self.fork = fork
        self.app_packages = current_app_packages()  # the scan's, for workers that do not inherit them

    def start(self) -> None:
        if self.fork:
            self.run()  # forking is quick, and must happen while this is the only thread
        else:
            super().start()

    def run(self) -> None:
        try:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            ctx = multiprocessing.get_context("fork") if self.fork else _forkserver()
            pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
            with self.lock:
                if self.closed:
                    pool.shutdown(wait=False)
                    return
                self.pool = pool
            if not self.fork:
                for ready in [pool.submit(_ready) for _ in range(self.workers)]:
                    ready.result()  # the workers are up: from now on submitting does not block
            for i, chunk in enumerate(self.chunks):
                with self.lock:
                    if self.closed or self.futures[i] is not None:
                        return
                    self.futures[i] = pool.submit(_extract_batch, chunk, self.app_packages)
        except Exception:  # noqa: BLE001 - no usable process pool here: the scanning thread does it all
            return

    def claim(self, i: int) -> bool:
        """Chunk i for this process, unless a worker has it already."""
        with self.lock:
            future = self.futures[i]
            if future is None or future.cancel():
                self.futures[i] = _LOCAL
                return True
            return False

    def close(self, finished: bool) -> None:
        """Stop the workers. After a complete scan they are idle: wait for them, so that none is
        left for the interpreter's exit to deal with. Else (cancelled, or a fork server still
        starting) let them go in the background."""
        with self.lock:
            self.closed = True
            pool = self.pool
        if pool is not None:
            pool.shutdown(wait=finished and not self.is_alive(), cancel_futures=True)


_LOCAL = object()


def _ready() -> bool:
    return True


def _cpus() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return min(MAX_PROCESSES, n)


def _forkserver():
    """A fork server (safe from a threaded caller such as the app) that has the extractor and pglast
    loaded once, so that each worker starts warm; it outlives the scan and serves the next one."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["analyzers.engine", "analyzers.facts.python_module", "analyzers.facts.sql", "pglast.parser"])
    return ctx


def _extract_batch(items: list[tuple[str, bytes]], app_packages: frozenset[str]) -> bytes:
    """In a worker: the list of (path, (facts, warning)), pickled as the cache pickles facts."""
    with no_cycle_collection(), using_app_packages(app_packages):
        return scan_cache.dumps([(path, _extract(path, data)) for path, data in items])


def _extract_in(app_packages: frozenset[str], path: str, data: bytes) -> tuple[ModuleFacts | None, str | None]:
    """_extract in a child process, with the scan's application packages."""
    with using_app_packages(app_packages):
        return _extract(path, data)


def _extract(path: str, data: bytes) -> tuple[ModuleFacts | None, str | None]:
    """(facts, warning) of one relevant file's bytes."""
    from analyzers import suppressions
    from analyzers.facts.python_module import extract_module

    text = decode(data)
    if "\x00" in text:
        return None, "skipped: holds NUL bytes (binary?)"
    warning = None
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        warning = "not valid in its declared encoding: undecodable bytes were replaced"
    try:
        facts = extract_module(path, text)
    except MemoryError:
        raise  # in a limited child: the reason it is skipped
    except Exception as exc:  # noqa: BLE001 - an extractor bug on one file must not lose the others
        return None, f"facts could not be read ({type(exc).__name__}: {exc})"
    facts.marked = suppressions.MARKER in text
    return facts, warning


def _extract_isolated(
    todo: list[tuple[Candidate, bytes]], is_cancelled: Callable[[], bool] | None
) -> Iterator[tuple[str, tuple[ModuleFacts | None, str | None]]]:
    """Files big enough to threaten the memory budget, one at a time, each in a child process that
    may grow by ISOLATED_MEMORY: over it (or over ISOLATED_SECONDS) the file is skipped with the reason."""
    from analyzers.isolate import LimitExceeded, run_limited

    for cand, data in todo:
        if is_cancelled and is_cancelled():
            return
        try:  # from the fork server, never a fork of this process: its free heap would count for nothing
            found = run_limited(
                _extract_in, (current_app_packages(), cand.path, data), memory=ISOLATED_MEMORY, seconds=ISOLATED_SECONDS,
                context=_forkserver(), is_cancelled=is_cancelled,
            )
        except LimitExceeded as exc:
            if is_cancelled and is_cancelled():
                return  # nothing learned: not an entry for the cache
            found = None, f"skipped: {len(data) // 1024} KiB of Python that {exc}"
        yield cand.path, found


def _doc(root: Path, rel: str) -> DocFact:
    from analyzers.facts.model import DocFact

    title = rel.rsplit("/", 1)[-1].removesuffix(".md")
    lines = 0
    try:
        text = confine.read_text(str(root), rel)
    except OSError:
        text = ""
    for lines, line in enumerate(text.splitlines(), 1):
        if lines < 40 and line.startswith("# ") and title == rel.rsplit("/", 1)[-1].removesuffix(".md"):
            title = line[2:].strip()
    return DocFact(rel, title, lines)
