"""The scan cache: the facts read from each file of a target, kept between scans by content, so
that a second scan parses only what changed; and, beside them, the last scan's result, for a scan
that finds nothing changed at all (at the end of this module). Everything about their format is
here (the engine only loads and saves), so that the format can change in one place.

One file per target root, named with a hash of the code that produces facts (a new version never
reads old facts): a header line, then segments, each `length, digest, payload`. The first payload
holds every entry; each later one what a scan changed ({relative path: entry} and the paths that
went), appended, so a scan that re-read ten files writes ten entries, not the whole tree. When the
appended segments grow past the first one, or MAX_SEGMENTS, the file is written anew, whole.

Payloads are pickles, for load speed: the C unpickler builds the facts' objects faster than any
format decoded in Python. They are read by an unpickler that can name nothing but the facts'
dataclasses (`_Facts.find_class`), so no byte of the file can make it call anything else: the
documented way to unpickle data one did not write. And, as before, a file that another account
owns, or that others could write, or in a folder others could write, is never read: the cache
lives in the user's own cache folder (tui/paths.py), but a folder shared by a group must not let
one member's bytes into another's process at all."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import io
import os
import pickle
import stat
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:  # a warm scan that reuses its last result never needs the facts' classes
    from analyzers.facts.model import ModuleFacts
    from analyzers.findings import ScanResult

TAG = b"dbreview-facts-3\n"
MAX_SEGMENTS = 16
_FRAME = struct.Struct("<Q16s")  # payload length, blake2b-128 of the payload


@dataclass(slots=True)
class Entry:
    """What one file gave the last time it was read."""

    size: int
    mtime_ns: int
    digest: str
    facts: ModuleFacts | None  # None: read, but nothing for us in it
    warning: str | None = None
    racy: bool = False  # modified too close to when it was read for its mtime to be trusted
    # A file with nothing for us in it that a rule read all the same, following a name through it (a
    # package's __init__ that re-exports `db`): its facts as `dumps` pickled them when it was read, before
    # any rule could touch them, unpickled (by `loads`) only when a later scan follows a name there again.
    loaded: bytes | None = None
    # A file with nothing for us in it: the dotted names it imports (discover.imported), by which the scan
    # knows it for a reader of the models (engine._model_readers) without reading it again.
    refs: tuple[str, ...] = ()


class Cached(dict[str, Entry]):
    """The entries a cache file held, and what `save` needs to know to append to it."""

    def __init__(self, entries: dict[str, Entry] | None = None, segments: int = 0, first: int = 0, appended: int = 0) -> None:
        super().__init__(entries or {})
        self.segments = segments  # 0: nothing usable was read; the next save writes the file whole
        self.first = first  # bytes of the first segment, which holds every entry
        self.appended = appended  # bytes of the segments after it


def code_version() -> str:
    """Facts depend on the extractor's code and on this format: any change to either invalidates
    every cache."""
    here = Path(__file__).parent
    h = hashlib.blake2b(digest_size=8)
    for p in sorted((here / "facts").glob("*.py")) + [here / "discover.py", here / "engine.py", Path(__file__)]:
        h.update(p.read_bytes())
    return h.hexdigest()


def file_for(cache_dir: Path, root: Path) -> Path:
    return cache_dir / f"{_root_key(root)}-{code_version()}.facts"


def _root_key(root: Path) -> str:
    return hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()


def load(path: Path | None, include: tuple[object, ...] = ()) -> Cached:
    """The entries saved at `path`, or none: a cache is only ever a faster scan. A damaged tail
    (a scan stopped while appending) keeps what came before it; the next save rewrites the file."""
    data = _read_own(path) if path is not None else None
    if data is None or not data.startswith(TAG):
        return Cached()
    entries: dict[str, Entry] = {}
    segments, first, at = 0, 0, len(TAG)
    with no_cycle_collection():
        while at + _FRAME.size <= len(data):
            length, digest = _FRAME.unpack_from(data, at)
            payload = memoryview(data)[at + _FRAME.size : at + _FRAME.size + length]
            if len(payload) != length or hashlib.blake2b(payload, digest_size=16).digest() != digest:
                break
            try:
                pinned, changed, removed = _Facts(io.BytesIO(payload)).load()
            except Exception:  # noqa: BLE001 - damaged or foreign: what came before it stands
                break
            if pinned != include:
                return Cached()  # the `include` pins (and the app packages) decide which files hold facts
            for p in removed:
                entries.pop(p, None)
            entries.update((p, Entry(*fields)) for p, fields in changed.items())
            segments += 1
            at += _FRAME.size + length
            first = first or length
    sound = at == len(data)
    return Cached(entries, segments if sound else 0, first, at - len(TAG) - first)


def _read_own(path: Path) -> bytes | None:
    """The file's bytes, unless another account owns it or could have written it (or its folder)."""
    try:
        with open(path, "rb") as fh:
            if not _only_mine(os.fstat(fh.fileno())) or not _only_mine(path.parent.stat()):
                return None  # written by someone else, or open to them: never read here
            return fh.read()
    except OSError:
        return None


def _only_mine(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def save(path: Path, cache: Cached, entries: dict[str, Entry], include: tuple[object, ...] = ()) -> Cached:
    """Append what changed since `cache` was loaded; write the file whole when there is none yet,
    it was damaged, or the appended segments have grown past the first. Nothing changed: nothing
    is written (a warm scan). Gives what the file holds now, for a later save to append to."""
    changed = {p: e for p, e in entries.items() if _differs(cache.get(p), e)}
    removed = [p for p in cache if p not in entries]
    if not changed and not removed and cache.segments:
        return cache
    try:
        whole = not cache.segments or cache.segments >= MAX_SEGMENTS or cache.appended > cache.first
        if not whole:
            segment = _segment(include, changed, removed)
            whole = not _append(path, segment)
            if not whole:
                return Cached(entries, cache.segments + 1, cache.first, cache.appended + len(segment))
        segment = _segment(include, entries, [])
        _write_whole(path, TAG + segment)
        return Cached(entries, 1, len(segment) - _FRAME.size, _FRAME.size)  # as `load` would count them
    except (OSError, pickle.PicklingError, RecursionError):
        return Cached()  # the cache is an optimisation; a read-only cache folder still scans


def save_loaded(path: Path, cache: Cached, entries: dict[str, Entry], include: tuple[object, ...] = ()) -> None:
    """After the rules: append the entries that gained facts read on demand since `save` gave `cache`.
    Only appended, never written whole: linking has since changed the other entries' facts in place."""
    changed = {p: e for p, e in entries.items() if _differs(cache.get(p), e)}
    if changed and cache.segments:
        with contextlib.suppress(OSError, pickle.PicklingError, RecursionError):
            _append(path, _segment(include, changed, []))


def _differs(old: Entry | None, new: Entry) -> bool:
    return old is None or (old is not new and (old.size, old.mtime_ns, old.digest, old.racy, old.loaded)
                           != (new.size, new.mtime_ns, new.digest, new.racy, new.loaded))


def _segment(include: tuple[object, ...], entries: dict[str, Entry], removed: list[str]) -> bytes:
    data = {p: (e.size, e.mtime_ns, e.digest, e.facts, e.warning, e.racy, e.loaded, e.refs) for p, e in entries.items()}
    payload = dumps((include, data, removed))
    return _FRAME.pack(len(payload), hashlib.blake2b(payload, digest_size=16).digest()) + payload


def dumps(obj: object) -> bytes:
    """Facts (and the plain values around them) pickled as (class, field values): for the cache file and
    for a worker process's answer, which default pickling would send at twice the cost."""
    out = io.BytesIO()
    with no_cycle_collection():
        pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = _pickle_table()
        pickler.dump(obj)
    return out.getvalue()


def loads(data: bytes) -> object:
    """What `dumps` made, read by the unpickler that can name nothing but facts."""
    with no_cycle_collection():
        return _Facts(io.BytesIO(data)).load()


def _append(path: Path, segment: bytes) -> bool:
    """One write at the end of the user's own file (never through a link, never another's file)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not _only_mine(os.fstat(fd)) or os.fstat(fd).st_size < len(TAG):
            return False
        with _locked(fd):
            os.write(fd, segment)
        return True
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    """Two scans of one target by one user (the app and the command line) append one at a time."""
    try:
        import fcntl
    except ImportError:  # not POSIX: a single write is the best there is
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _write_whole(path: Path, data: bytes) -> None:
    """Written to a temporary file and renamed over the old one; older versions' files go."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in path.parent.glob(path.name.split("-")[0] + "-*"):
        if old != path and old.suffix in _KINDS[path.suffix]:
            old.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_KINDS = {".facts": (".facts", ".pickle"), ".result": (".result",)}  # a file replaces the older ones of its kind


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Parsing, pickling and unpickling make millions of objects and no reference cycles (syntax
    trees and facts have no back links): the cycle collector would only walk them again and again,
    a pass each time the heap grows by a fraction, which makes loading a cache grow faster than it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_FACTS = "analyzers.facts"


class _Facts(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        cls = _fact_class(module, name)
        if cls is None:
            raise pickle.UnpicklingError(f"not a fact: {module}.{name}")
        return cls


@functools.cache
def _fact_class(module: str, name: str) -> type | None:
    """A dataclass defined in one of the facts' modules (analyzers/facts/*.py): all that a cache file
    may name."""
    import importlib

    if module.rpartition(".")[0] != _FACTS or not module.rpartition(".")[2].isidentifier():
        return None
    try:
        cls = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return cls if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module else None


@functools.cache
def _pickle_table() -> dict:
    """Facts as (class, field values): slotted dataclasses otherwise pickle through per-object Python
    __getstate__/__setstate__ that look their fields up each time; this halves saving and loading."""
    import copyreg
    import operator

    from analyzers.facts import model  # noqa: F401 - with the modules it imports: every fact class

    table = dict(copyreg.dispatch_table)
    modules = [m for name, m in list(sys.modules.items()) if name.rpartition(".")[0] == _FACTS]
    classes = [c for m in modules for c in vars(m).values() if isinstance(c, type) and _fact_class(m.__name__, c.__name__) is c]
    for cls in classes:
        fields = dataclasses.fields(cls)
        if len(fields) < 2 or hasattr(cls, "__post_init__") or not all(f.init and not f.kw_only for f in fields):
            continue  # pickled the usual way
        table[cls] = _reducer(operator.attrgetter(*(f.name for f in fields)))
    return table


def _reducer(values: Callable[[object], tuple]) -> Callable[[object], tuple]:
    return lambda obj: (type(obj), values(obj))


# -- the last scan's result -------------------------------------------------------------------------
# A scan that finds nothing changed (every file's size and mtime, the files themselves, the settings,
# the code) would find what the last one found: its ScanResult is kept beside the facts, one file per
# target, `RESULT_TAG, digest of the inputs, length, digest, payload`. The inputs (what the engine
# says the result depends on) are compared by digest before anything is unpickled; the payload is
# read by an unpickler that can name only analyzers.findings' own classes, and never from a file or
# folder another account could write.

RESULT_TAG = b"dbreview-result-1\n"
_DEPENDENCIES = ("pglast", "libcst")  # facts and suppressions read through them


def result_file_for(cache_dir: Path, root: Path) -> Path:
    return cache_dir / f"{_root_key(root)}-{result_version()}.result"


def result_version() -> str:
    """A result depends on all of dbreview's analyzers (the extractor, the rules, the checklist, the
    stubs), on Python (its ast) and on the parsers the facts come from: any change to any of them
    invalidates every kept result."""
    import importlib.machinery

    here = Path(__file__).parent
    h = hashlib.blake2b(sys.version.encode(), digest_size=8)
    for folder, dirs, files in os.walk(here):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith((".pyc", ".tmp")):
                with open(os.path.join(folder, name), "rb") as fh:
                    h.update(f"\0{os.path.relpath(fh.name, here)}\0".encode() + fh.read())
    for name in _DEPENDENCIES:  # an upgrade rewrites the package's files: where and when it was installed
        spec = importlib.machinery.PathFinder.find_spec(name)
        if spec is not None and spec.origin:
            st = os.stat(spec.origin)
            h.update(f"\0{spec.origin}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return h.hexdigest()


def load_result(path: Path, inputs: bytes) -> ScanResult | None:
    """The result kept at `path` if it was found from exactly these `inputs`, else None."""
    data = _read_own(path)
    at = len(RESULT_TAG) + 16
    if data is None or data[:at] != RESULT_TAG + _digest(inputs) or len(data) < at + _FRAME.size:
        return None
    length, digest = _FRAME.unpack_from(data, at)
    payload = memoryview(data)[at + _FRAME.size :]
    if len(payload) != length or hashlib.blake2b(payload, digest_size=16).digest() != digest:
        return None
    from analyzers.findings import ScanResult

    try:
        with no_cycle_collection():
            result = _Findings(io.BytesIO(payload)).load()
    except Exception:  # noqa: BLE001 - damaged or foreign: scan
        return None
    return result if type(result) is ScanResult else None


def save_result(path: Path, inputs: bytes, result: ScanResult | None) -> None:
    """Keep `result` for the next scan with the same `inputs`; None: keep nothing (and drop what was)."""
    try:
        if result is None:
            path.unlink(missing_ok=True)
            return
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        frame = _FRAME.pack(len(payload), hashlib.blake2b(payload, digest_size=16).digest())
        _write_whole(path, RESULT_TAG + _digest(inputs) + frame + payload)
    except (OSError, pickle.PicklingError, RecursionError):
        pass  # an optimisation, like the facts


def _digest(inputs: bytes) -> bytes:
    return hashlib.blake2b(inputs, digest_size=16).digest()


class _Findings(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        if module == "analyzers.findings" and name in _RESULT_CLASSES:
            from analyzers import findings

            return getattr(findings, name)
        raise pickle.UnpicklingError(f"not part of a scan result: {module}.{name}")


_RESULT_CLASSES = ("ScanResult", "Finding", "Location", "Related", "ScanError", "Severity")
