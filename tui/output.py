"""The one way a report reaches a file: whole or not at all.

The text goes to a temporary file beside the target, is synced, and is renamed over it, so a kill,
a full disk or a file size limit at any moment leaves either the old report or the new one, never
an empty or a cut one. `-o` onto a symbolic link replaces the file it points at (the link stays);
the file keeps its mode. `-` and /dev/stdout are standard output, /dev/null takes anything; any other
file that is not a regular one (a FIFO, a device, a directory) is refused: writing to it could block
or do what a report should not.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

STDOUT = ("-", "/dev/stdout")
DISCARD = ("/dev/null",)


class NotWritten(Exception):
    """The report was not written; the message is one line and says why. Any earlier file is intact."""


def write(text: str, output: str | None) -> None:
    if output is None or output in STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    if output in DISCARD:
        return
    target = Path(os.path.realpath(Path(output).expanduser()))  # through a link: its file is replaced
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise NotWritten(f"cannot write {output}: {exc.strerror or exc}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise NotWritten(f"cannot write {output}: not a regular file (a FIFO, a device or a directory)")
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
    try:
        _replace(target, text.encode("utf-8"), mode, st)
    except OSError as exc:
        kept = "; the file that was there is unchanged" if st is not None else ""
        raise NotWritten(f"cannot write {output}: {exc.strerror or exc}{kept}") from None


def _replace(target: Path, data: bytes, mode: int, old: os.stat_result | None) -> None:
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".dbreview-tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), mode)
            if old is not None:
                with contextlib.suppress(OSError):  # root writing someone's report: it stays theirs
                    os.fchown(fh.fileno(), old.st_uid, old.st_gid)
        os.replace(temporary, target)
    except BaseException:  # a kill (KeyboardInterrupt) too: no temporary file is left behind
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a power cut
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _umask() -> int:
    """The process's umask, read without setting it (os.umask would change it for every thread)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
