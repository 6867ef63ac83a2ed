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
import time
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


#: How long the reads of one task or thread may share one probe (see ReadCache.read).
REUSE_S = 0.001


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
        self._version = -1  # -1: unknown (never probed, or this process wrote since)
        self._values: dict[Hashable, object] = {}
        # when the current task (or thread) last probed; each request is a task of its own
        self._probed: ContextVar[float] = ContextVar(f"probed-{id(self)}", default=-REUSE_S)

    def read(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value `load()` gave for `key` while the file has not changed, else load it
        again.

        One probe serves the reads of one task for REUSE_S: a request's three reads (the
        clock, the fault rules, its job) probe once, and every request probes at least
        once, after it arrived, so it sees every commit made before, in any process. A
        value loaded after a commit that no probe has seen yet is kept under the older
        version; the next probe empties the cache, which costs a read, not a stale answer.
        """
        now = time.monotonic()
        with self._lock:
            version = self._version
            if version < 0 or now - self._probed.get() > REUSE_S:
                version = self._probe_version()
                self._probed.set(now)
            if key in self._values:
                return self._values[key]  # type: ignore[return-value]  # load() gave it
        value = load()
        with self._lock:
            if self._version == version:  # the cache did not move on meanwhile
                if len(self._values) >= self._size:
                    self._values.clear()
                self._values[key] = value
        return value

    def _probe_version(self) -> int:
        probe = self._probe
        if probe is None:
            if self._closed:
                raise sqlite3.ProgrammingError("the store is closed")
            probe = self._probe = self._connect()
        (version,) = probe.execute("PRAGMA data_version").fetchone()
        if version != self._version:
            self._values.clear()
            self._version = version
        return int(version)

    def forget(self) -> None:
        """This process wrote to the file: the next read of every task probes again (its
        probe may predate the write, and a read must see its own process's writes)."""
        with self._lock:
            self._version = -1
            self._values.clear()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._version = -1  # every later read probes, and finds the store closed
            self._values.clear()
            if self._probe is not None:
                self._probe.close()
                self._probe = None
