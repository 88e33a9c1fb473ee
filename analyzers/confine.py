"""The one place that decides what of a repository under review may be read: regular files inside
its root, whatever the symbolic links. Discovery, the scan, the evidence lines, the source view,
search, the context documents and the target's settings all read through here.

`root` is always the repository's real path (discovery resolves it once). A file is opened first and
checked after, on what was actually opened (its real path from /proc/self/fd, its type from fstat),
so a link swapped between discovery and reading cannot lead outside either. Nothing is opened that
could block (FIFOs) or take over the terminal (O_NOCTTY).
"""

from __future__ import annotations

import errno
import os
import stat

MAX_READ_BYTES = 8 * 1024 * 1024  # what any one read may hold: no view or parser needs more
_PROC_FD = "/proc/self/fd"
_HAVE_PROC_FD = os.path.isdir(_PROC_FD)
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class Refused(OSError):
    """Not read: outside the repository, not a regular file, or too large. `strerror` says which,
    so the callers' usual `except OSError` shows it as the reason."""

    def __init__(self, why: str, rel: str) -> None:
        super().__init__(errno.EACCES, why, rel)


def inside(root: str, real: str) -> bool:
    """Whether the real path `real` is `root` or under it."""
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def link_leaves(root: str, path: str) -> str | None:
    """For a symbolic link at `path` (absolute, under `root`): what it points at when that is outside
    the repository (for the skipped list), else None. Resolving reads no file."""
    if inside(root, os.path.realpath(path)):
        return None
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def read_bytes(root: str, rel: str, limit: int = MAX_READ_BYTES) -> bytes:
    """The bytes of the regular file `rel` (relative, POSIX) of the repository at `root`. Raises
    Refused (an OSError) for anything outside it, anything but a regular file, and files over
    `limit` bytes; any other OSError as the system gives it."""
    if "\x00" in rel or os.path.isabs(rel):
        raise Refused("not a path inside the repository", rel)
    path = os.path.join(root, rel)
    if not _HAVE_PROC_FD and not inside(root, os.path.realpath(path)):
        raise Refused("outside the repository (a symbolic link leads out)", rel)
    fd = os.open(path, _FLAGS)
    try:
        if _HAVE_PROC_FD and not inside(root, os.readlink(f"{_PROC_FD}/{fd}")):
            raise Refused("outside the repository (a symbolic link leads out)", rel)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused("not a regular file (a FIFO, a device or a socket)", rel)
        if st.st_size > limit:
            raise Refused(f"{_size(st.st_size)} is over the {_size(limit)} read limit", rel)
        chunks, left = [], limit + 1
        while left > 0:  # a file growing under us stops at the limit, not at the end of memory
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise Refused(f"grew over the {_size(limit)} read limit while read", rel)
        return data
    finally:
        os.close(fd)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def read_text(root: str, rel: str, limit: int = MAX_READ_BYTES) -> str:
    """read_bytes as UTF-8 text, undecodable bytes replaced; a leading byte order mark dropped."""
    return read_bytes(root, rel, limit).decode("utf-8", errors="replace").removeprefix("\ufeff")
