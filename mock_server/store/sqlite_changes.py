"""Whether an SQLite file changed: a mark that moves with every commit to it, by any
connection of any process.

In WAL mode (the store's), every commit rewrites the WAL-index header at the start of the
file's `-shm` file, which every connection of every process shares through mmap: its
change counter and frame count move (https://www.sqlite.org/walformat.html, "The WAL-Index
Header"). Read through an mmap of our own, the header costs ~0.2 µs; `PRAGMA
data_version`, SQLite's own answer, costs 2-4 µs, and the store asks before every read
(issue 13). No library exposes the header, hence the few lines here.

Without a `-shm` file (the file not in WAL mode: a file system without shared memory)
the mark is `PRAGMA data_version`, asked on a connection that never writes.
"""

from __future__ import annotations

import mmap
import sqlite3
from collections.abc import Callable, Hashable
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
        self._header: mmap.mmap | None = None
        self._closed = False

    def mark(self) -> Hashable:
        header = self._header
        if header is not None:
            return header[:_HEADER_BYTES]
        probe = self._probe
        if probe is None:
            probe = self._open()
            if self._header is not None:
                return self._header[:_HEADER_BYTES]
        (version,) = probe.execute("PRAGMA data_version").fetchone()
        return int(version)

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
            self._header = _map_header(Path(f"{main}-shm"))
        return probe

    def close(self) -> None:
        self._closed = True
        if self._header is not None:
            self._header.close()
            self._header = None
        if self._probe is not None:
            self._probe.close()
            self._probe = None


def _map_header(shm: Path) -> mmap.mmap | None:
    """The header, mapped read-only; None if the file is not there or too short for one
    (then data_version serves)."""
    try:
        with shm.open("rb") as file:
            if shm.stat().st_size < _HEADER_BYTES:
                return None
            return mmap.mmap(file.fileno(), _HEADER_BYTES, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
