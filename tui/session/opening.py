"""Making the review file ready to open, before anything reads or writes it: its folders and the file
created with the right mode, its schema revision read, what is not ours refused. sqlite3 only, so
`dbreview open` checks the file without SQLAlchemy (ReviewStore.open starts here too)."""

from __future__ import annotations

import os
from pathlib import Path

from tui.paths import file_mode
from tui.session.reading import SessionStoreError, inspect


def prepare(path: Path) -> str | None:
    """The file at `path` (absolute) created if missing, its mode as its folder wants it; its schema
    revision (None: no tables yet). SessionStoreError for a file that cannot be used."""
    try:
        _make_private_dirs(path.parent)
        mode = file_mode(path.parent)
        fresh = _create_file(path, mode)
        if not fresh:
            _give_mode(path, mode)
        return None if fresh else inspect(path)
    except OSError as exc:
        raise SessionStoreError(f"cannot open the review database {path}: {exc.strerror or exc}{_whose(path)}") from exc


def _make_private_dirs(directory: Path) -> None:
    """Create the missing directories 0700; existing ones are left as they are."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)
        d.chmod(0o700)


def _create_file(path: Path, mode: int) -> bool:
    """Create the database file before SQLite does (SQLite would use 0644), exactly `mode` whatever
    the umask (SQLite gives its -wal and -shm files the same); True when new."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return True


def _give_mode(path: Path, mode: int) -> None:
    """A review file of ours made before its folder was shared (0600), or readable by others, gets
    the folder's mode; another account's files are left to them."""
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            st = part.stat()
        except FileNotFoundError:
            continue
        if st.st_uid == os.getuid() and st.st_mode & 0o777 != mode:
            part.chmod(mode)


def _whose(path: Path) -> str:
    """For a refusal: whose the file is, when it is another account's."""
    import pwd

    try:
        owner = path.stat().st_uid
    except OSError:
        return ""
    if owner == os.getuid():
        return ""
    try:
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        name = f"user {owner}"
    return (f" (the file is {name}'s; in a folder shared by a group, as `chmod 2770 FOLDER` makes it, "
            f"dbreview creates review files the group can use: {name} can run `chmod 660 {path}*`)")
