"""The scan cache: the facts read from each file of a target, kept between scans by content, so
that a second scan parses only what changed. Everything about its format is here (the engine only
loads, asks whether anything changed, and saves), so that the format can change in one place.

One pickle per target root: (tag, the target's `include` pins, {relative path: (size, mtime_ns,
digest, facts, warning, racy)}). Its name carries a hash of the code that produces facts, so a new
version never reads old facts. A pickle can run code when it is loaded: the cache lives in the
user's own cache folder (tui/paths.py), and a file that another account owns, or that others could
write, is never loaded."""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from analyzers.facts.model import ModuleFacts

TAG = "dbreview-facts-2"


@dataclass(slots=True)
class Entry:
    """What one file gave the last time it was read."""

    size: int
    mtime_ns: int
    digest: str
    facts: ModuleFacts | None  # None: read, but nothing for us in it
    warning: str | None = None
    racy: bool = False  # modified too close to when it was read for its mtime to be trusted


def code_version() -> str:
    """Facts depend on the extractor's code and on this format: any change to either invalidates
    every cache."""
    here = Path(__file__).parent
    h = hashlib.blake2b(digest_size=8)
    for p in sorted((here / "facts").glob("*.py")) + [here / "discover.py", here / "engine.py", Path(__file__)]:
        h.update(p.read_bytes())
    return h.hexdigest()


def file_for(cache_dir: Path, root: Path) -> Path:
    key = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
    return cache_dir / f"{key}-{code_version()}.pickle"


def load(path: Path | None, include: tuple[str, ...] = ()) -> dict[str, Entry]:
    """The entries saved at `path`, or none: a cache is only ever a faster scan."""
    if path is None:
        return {}
    try:
        with open(path, "rb") as fh:
            if not _only_mine(os.fstat(fh.fileno())) or not _only_mine(path.parent.stat()):
                return {}  # written by someone else, or open to them: never unpickled here
            tag, pinned, data = pickle.load(fh)
        if tag != TAG or pinned != include:
            return {}
        return {p: Entry(*fields) for p, fields in data.items()}
    except Exception:  # missing, damaged or foreign
        return {}


def _only_mine(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def changed(cache: dict[str, Entry], entries: dict[str, Entry]) -> bool:
    """Whether the cache file needs writing: a warm scan with nothing changed writes nothing."""
    if cache.keys() != entries.keys():
        return True
    for path, new in entries.items():
        old = cache[path]
        if old is not new and (old.size, old.mtime_ns, old.digest, old.racy) != (new.size, new.mtime_ns, new.digest, new.racy):
            return True
    return False


def save(path: Path, entries: dict[str, Entry], include: tuple[str, ...] = ()) -> None:
    """Written to a temporary file and renamed over the old one; older versions' files go."""
    data = (TAG, include, {p: (e.size, e.mtime_ns, e.digest, e.facts, e.warning, e.racy) for p, e in entries.items()})
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for old in path.parent.glob(path.name.split("-")[0] + "-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")  # 0600
        with os.fdopen(fd, "wb") as fh:
            pickler = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = _pickle_table()
            pickler.dump(data)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, RecursionError):
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        # the cache is an optimisation; a read-only cache folder still scans


@functools.cache
def _pickle_table() -> dict:
    """Facts as (class, field values): slotted dataclasses otherwise pickle through per-object Python
    __getstate__/__setstate__ that look their fields up each time; this halves saving and loading."""
    import copyreg
    import dataclasses
    import operator

    from analyzers.facts import model

    table = dict(copyreg.dispatch_table)
    for cls in vars(model).values():
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__):
            continue
        fields = dataclasses.fields(cls)
        if len(fields) < 2 or hasattr(cls, "__post_init__") or not all(f.init and not f.kw_only for f in fields):
            continue  # pickled the usual way
        table[cls] = _reducer(operator.attrgetter(*(f.name for f in fields)))
    return table


def _reducer(values: Callable[[object], tuple]) -> Callable[[object], tuple]:
    return lambda obj: (type(obj), values(obj))
