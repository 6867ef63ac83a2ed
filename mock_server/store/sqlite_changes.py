"""Whether an SQLite file changed: a mark that moves with every commit to it, by any
connection of any process.

In WAL mode (the store's), every commit rewrites the WAL-index header at the start of the
file's `-shm` file, which every connection of every process shares through mmap: its
change counter and frame count move (https://www.sqlite.org/walformat.html, "The WAL-Index
Header"). Read through an mmap of our own, the header costs a fraction of `PRAGMA
data_version`, SQLite's own answer, and the store asks before every read. No library
exposes the header, hence the few lines here.

Without a `-shm` file (the file not in WAL mode: a file system without shared memory)
the mark is `PRAGMA data_version`, asked on a connection that never writes.

Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's
WAL locks included (found the hard way: another process's commit went through while this
one held the write lock). So the `-shm` file is opened once per process and file
(`_Mapped`), shared by every store on it, and closed only when the last of them has
closed and none of its connections is in use any more (`release`): then SQLite in this
process holds no lock on it. Code that opens the file with sqlite3 itself, in a process
with a store on it, must not keep it open past that store (tests do not).
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

#: the two copies of the 48-byte header (a writer updates one, then the other)
_HEADER_BYTES = 96


class Changes:
    """`mark()`: equal marks mean no commit came between them (a commit still being made
    may or may not show; once it returned, it shows). The connection opened here stays open
    while this is: it holds the `-shm` file, which SQLite never truncates while any
    connection of any process has it open."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._probe: sqlite3.Connection | None = None
        self._header: mmap.mmap | None = None  # the mapped header (None: data_version's)
        self._mapped: _Mapped | None = None
        self._closed = False

    def mark(self) -> Hashable:
        probe = self._probe
        if probe is None:
            probe = self._open()
        header = self._header
        return header[:_HEADER_BYTES] if header is not None else data_version(probe)

    def _open(self) -> sqlite3.Connection:
        if self._closed:
            raise sqlite3.ProgrammingError("the store is closed")
        probe = self._probe = self._connect()
        probe.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the WAL
        (mode,) = probe.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() == "wal":
            # the name SQLite itself uses (symbolic links resolved)
            (main,) = probe.execute(
                "SELECT file FROM pragma_database_list WHERE name = 'main'"
            ).fetchone()
            self._mapped = _Mapped.take(Path(f"{main}-shm"))
            self._header = None if self._mapped is None else self._mapped.header
        return probe

    def close(self) -> None:
        """Close the connection; the mapping stays until `release` (other connections of
        the store may still be in use, holding locks on the file)."""
        self._closed = True
        self._header = None
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    def release(self) -> None:
        """Give up the mapping (after close, once no connection of the store is in use)."""
        self.close()
        if self._mapped is not None:
            self._mapped.release()
            self._mapped = None


@dataclass
class _Mapped:
    """A `-shm` file's header, mapped read-only, once per process and file."""

    key: tuple[int, int]  # the file's (device, inode)
    fd: int
    header: mmap.mmap | None  # holds a descriptor of its own; None: mmap refused
    users: int = 1

    @classmethod
    def take(cls, shm: Path) -> _Mapped | None:
        """The file's mapping, shared; None if it is not there or too short for a header
        (then data_version serves)."""
        with _MAPPED_LOCK:
            try:
                found = os.stat(shm)
            except OSError:
                return None
            key = (found.st_dev, found.st_ino)
            mapped = _MAPPED.get(key)
            if mapped is not None:
                mapped.users += 1
                return mapped
            if found.st_size < _HEADER_BYTES:
                return None
            # opened while a connection of this process holds it open: the same file
            fd = os.open(shm, os.O_RDONLY)
            header: mmap.mmap | None
            try:
                header = mmap.mmap(fd, _HEADER_BYTES, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                header = None  # the descriptor stays until the last user: closing it now
                # would drop SQLite's locks
            mapped = _MAPPED[key] = cls(key, fd, header)
            return mapped

    def release(self) -> None:
        with _MAPPED_LOCK:
            self.users -= 1
            if self.users == 0:
                del _MAPPED[self.key]
                if self.header is not None:
                    self.header.close()
                os.close(self.fd)


def data_version(conn: sqlite3.Connection) -> int:
    """SQLite's own mark for `conn`: moves with every commit by another connection, never
    with one of `conn`'s own."""
    (version,) = conn.execute("PRAGMA data_version").fetchone()
    return int(version)


_MAPPED: dict[tuple[int, int], _Mapped] = {}
_MAPPED_LOCK = threading.Lock()
