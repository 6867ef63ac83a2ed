"""The SQLite store's read cache: what was read, kept until the file changes.

Every request reads the file several times (the clock's offset, the fault rules, the job),
and another worker process may have changed any of them at any moment, so none can be kept
for a while. Whether the file changed is cheap to ask (store.sqlite_changes: ~0.2 µs in WAL
mode), far cheaper than the read it replaces (4-7 µs), and a request reads unchanged rows
far more often than changed ones (issue 13).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from mock_server.store.sqlite_changes import Changes

T = TypeVar("T")


class ReadCache:
    """Values by key, valid while the file's change mark stays what it was when they were
    read."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], size: int = 4096) -> None:
        self._changes = Changes(connect)
        self._size = size
        self._lock = threading.Lock()
        self._mark: Hashable = None  # None: unknown (never asked, or this process wrote)
        self._values: dict[Hashable, object] = {}

    def read(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value `load()` gave for `key` while the file has not changed, else load it
        again. Every read asks whether the file changed, so it sees every commit that
        returned before it, in any process. A value loaded after a commit that the mark
        did not show yet is kept under the older mark; the next read empties the cache,
        which costs a read, not a stale answer."""
        with self._lock:
            mark = self._changes.mark()
            if mark != self._mark:
                self._values.clear()
                self._mark = mark
            elif key in self._values:
                return self._values[key]  # type: ignore[return-value]  # load() gave it
        value = load()
        with self._lock:
            if self._mark == mark:  # the cache did not move on meanwhile
                if len(self._values) >= self._size:
                    self._values.clear()
                self._values[key] = value
        return value

    def forget(self) -> None:
        """This process wrote to the file: forget what it read before (the mark moves with
        the write too; this also covers a write still in the making)."""
        with self._lock:
            self._mark = None
            self._values.clear()

    def close(self) -> None:
        with self._lock:
            self._mark = None  # a later read asks again, and finds the store closed
            self._values.clear()
            self._changes.close()
