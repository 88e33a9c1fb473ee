"""scan(): discover -> facts (cached by content, in parallel when it pays) -> rules -> findings."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from analyzers.discover import Candidate, Layout, decode, discover, relevant
from analyzers.facts.link import link
from analyzers.facts.model import DocFact, Facts, ModuleFacts
from analyzers.findings import Finding, ScanError, ScanResult, with_identity

PARALLEL_MIN_FILES = 1000  # below this the process pool start-up (~0.35 s) costs more than it saves
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(slots=True)
class _Entry:
    size: int
    mtime_ns: int
    digest: str
    facts: ModuleFacts | None  # None: read, but nothing for us in it
    warning: str | None = None


@dataclass(slots=True)
class Scan:
    """Everything one scan learned: the result for people, the facts and layout for tools."""

    result: ScanResult
    facts: Facts
    layout: Layout
    timings: dict[str, float] = field(default_factory=dict)
    cache_hits: int = 0


def scan(
    root: str | os.PathLike[str],
    *,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    on_findings: Callable[[list[Finding]], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> Scan:
    """Analyze `root`. Raises discover.TargetError when it is not a directory with Python in it."""
    from analyzers.answers import draft_answers
    from analyzers.rules import run_rules

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    layout = discover(Path(root))
    timings["discover"] = time.perf_counter() - t0
    errors = [ScanError(path, why) for path, why in layout.skipped if not why.startswith("directory already")]
    errors += [ScanError(path, why) for path, why in layout.skipped if why.startswith("directory already")]

    t1 = time.perf_counter()
    cache_file = _cache_file(cache_dir, layout.root) if cache_dir else None
    cache = _load_cache(cache_file)
    entries, hits = _read_all(layout, cache, jobs, progress, is_cancelled)
    if cache_file is not None:
        _save_cache(cache_file, entries)
    timings["facts"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    facts = Facts(root=str(layout.root))
    modules = []
    for path, entry in sorted(entries.items()):
        if entry.warning:
            errors.append(ScanError(path, entry.warning))
        if entry.facts is None:
            continue
        modules.append(entry.facts)
        errors.extend(ScanError(path, msg, line) for line, msg in entry.facts.errors)
    link(facts, modules)
    facts.docs = [_doc(layout.root, d) for d in layout.docs]
    timings["link"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    findings, rule_errors = run_rules(facts, on_findings=on_findings, is_cancelled=is_cancelled)
    errors.extend(rule_errors)
    result = ScanResult(
        root=str(layout.root),
        findings=with_identity(findings),
        errors=errors,
        files_scanned=len(layout.python),
        drafted_answers=draft_answers(facts),
    )
    timings["rules"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    return Scan(result, facts, layout, timings, hits)


def _read_all(
    layout: Layout,
    cache: dict[str, _Entry],
    jobs: int | None,
    progress: Progress | None,
    is_cancelled: Callable[[], bool] | None,
) -> tuple[dict[str, _Entry], int]:
    entries: dict[str, _Entry] = {}
    misses: list[Candidate] = []
    for cand in layout.python:
        old = cache.get(cand.path)
        if old is not None and old.size == cand.size and old.mtime_ns == cand.mtime_ns:
            entries[cand.path] = old
        else:
            misses.append(cand)
    hits = len(entries)
    total = len(layout.python)
    if progress:
        progress("reading", hits, total)
    root = str(layout.root)
    include = layout.settings.include
    workers = jobs if jobs is not None else min(2, os.cpu_count() or 1)
    digests = _digests(cache)
    if workers > 1 and len(misses) >= PARALLEL_MIN_FILES:
        try:
            _read_parallel(root, misses, digests, include, workers, entries, progress, total, is_cancelled)
        except (BrokenProcessPool, OSError, RuntimeError):
            pass  # no usable process pool here (odd __main__, no /dev/shm): read what is left serially
    for i, cand in enumerate(c for c in misses if c.path not in entries):
        if is_cancelled and is_cancelled():
            break
        entries[cand.path] = _read_one(root, cand, digests, include)
        if progress and i % 25 == 0:
            progress("reading", len(entries), total)
    # A file whose bytes did not change (touched, checked out again) keeps its facts.
    for path, entry in entries.items():
        if entry.facts is _REUSE:
            entry.facts = cache[path].facts
    if progress:
        progress("reading", total, total)
    return entries, hits


_REUSE = ModuleFacts(path="", module="")  # marker: same content as the cached entry


def _read_parallel(root, misses, digests, include, workers, entries, progress, total, is_cancelled) -> None:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["analyzers.facts.python_module"])
    chunks = [misses[i :: workers * 4] for i in range(workers * 4)]
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = [pool.submit(_read_batch, root, chunk, digests, include) for chunk in chunks]
        for future in futures:
            for path, entry in future.result():
                entries[path] = entry
            if progress:
                progress("reading", len(entries), total)
            if is_cancelled and is_cancelled():
                for f in futures:
                    f.cancel()
                return


def _digests(cache: dict[str, _Entry]) -> dict[str, str]:
    return {path: e.digest for path, e in cache.items()}


def _read_batch(root: str, cands: list[Candidate], digests: dict[str, str], include: list[str]) -> list[tuple[str, _Entry]]:
    return [(c.path, _read_one(root, c, digests, include)) for c in cands]


def _read_one(root: str, cand: Candidate, digests: dict[str, str], include: list[str]) -> _Entry:
    from analyzers.facts.python_module import extract_module

    try:
        with open(os.path.join(root, cand.path), "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return _Entry(cand.size, cand.mtime_ns, "", None, f"cannot be read: {exc.strerror or exc}")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if digests.get(cand.path) == digest:
        return _Entry(cand.size, cand.mtime_ns, digest, _REUSE)
    if not relevant(data, cand.path, include):
        return _Entry(cand.size, cand.mtime_ns, digest, None)
    warning = None
    text = decode(data)
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        warning = "not valid in its declared encoding: undecodable bytes were replaced"
    if "\x00" in text:
        return _Entry(cand.size, cand.mtime_ns, digest, None, "skipped: holds NUL bytes (binary?)")
    return _Entry(cand.size, cand.mtime_ns, digest, extract_module(cand.path, text), warning)


def _doc(root: Path, rel: str) -> DocFact:
    title = rel.rsplit("/", 1)[-1].removesuffix(".md")
    lines = 0
    try:
        with open(root / rel, encoding="utf-8", errors="replace") as fh:
            for lines, line in enumerate(fh, 1):
                if lines < 40 and line.startswith("# ") and title == rel.rsplit("/", 1)[-1].removesuffix(".md"):
                    title = line[2:].strip()
    except OSError:
        pass
    return DocFact(rel, title, lines)


# -- cache ------------------------------------------------------------------------------------

def _code_version() -> str:
    """Facts depend on the extractor's code: any change to it invalidates every cache."""
    h = hashlib.blake2b(digest_size=8)
    for p in sorted((Path(__file__).parent / "facts").glob("*.py")) + [Path(__file__).parent / "discover.py"]:
        h.update(p.read_bytes())
    return h.hexdigest()


def _cache_file(cache_dir: Path, root: Path) -> Path:
    key = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
    return cache_dir / f"{key}-{_code_version()}.pickle"


def _load_cache(path: Path | None) -> dict[str, _Entry]:
    if path is None or not path.is_file():
        return {}
    try:
        with open(path, "rb") as fh:
            data = pickle.load(fh)
        return data if isinstance(data, dict) else {}
    except Exception:  # a damaged cache is only a slower scan
        return {}


def _save_cache(path: Path, entries: dict[str, _Entry]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for old in path.parent.glob(path.name.split("-")[0] + "-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # the cache is an optimisation; a read-only data dir still scans
