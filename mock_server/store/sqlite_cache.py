"""The SQLite store's read cache: what was read, kept until the file changes.

Every request reads the file several times (the clock's offset, the fault rules, the job),
and another worker process may have changed any of them, so none can be kept for a while.
SQLite says whether anything changed: `PRAGMA data_version` on a connection moves whenever
another connection (of this process or any other) commits to the file. One probe (~2 µs)
costs less than the read it replaces (4-7 µs), and a request reads unchanged rows far more
often than changed ones (issue 13).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class ReadCache:
    """Values by key, valid while the file's data_version stays what it was when they were
    read. The probe connection only ever runs the probe: it never writes, so every commit
    to the file is another connection's and moves its data_version."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], size: int = 4096) -> None:
        self._connect = connect
        self._probe: sqlite3.Connection | None = None  # opened by the first read
        self._closed = False
        self._size = size
        self._lock = threading.Lock()
        self._version = -1
        self._values: dict[Hashable, object] = {}

    def read(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value `load()` gave for `key` while the file has not changed, else load it
        again. A value is kept only if the file did not change between the probe and the
        read (a newer value is dropped too, which costs a read, not a stale answer)."""
        with self._lock:
            probe = self._probe
            if probe is None:
                if self._closed:
                    raise sqlite3.ProgrammingError("the store is closed")
                probe = self._probe = self._connect()
            (version,) = probe.execute("PRAGMA data_version").fetchone()
            if version != self._version:
                self._values.clear()
                self._version = version
            elif key in self._values:
                return self._values[key]  # type: ignore[return-value]  # load() gave it
        value = load()
        with self._lock:
            if self._version == version:  # no other read saw the file change meanwhile
                if len(self._values) >= self._size:
                    self._values.clear()
                self._values[key] = value
        return value

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._probe is not None:
                self._probe.close()
                self._probe = None
