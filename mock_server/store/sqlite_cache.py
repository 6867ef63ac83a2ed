"""The SQLite store's read cache: what was read, kept until the file changes.

Every request reads the file several times (the clock's offset, the fault rules, the job),
and another worker process may have changed any of them at any moment, so none can be kept
for a while. Whether the file changed is cheaper to ask than the read it replaces (`PRAGMA
data_version` on a connection of the cache's own that never writes: SQLite's public answer,
https://www.sqlite.org/pragma.html#pragma_data_version), and a request reads unchanged rows
far more often than changed ones.

Values are kept by region (what one write can change: the records of a kind, one meta
key). A write of this process's own moves the file's mark too; when it can tell that no
other connection committed meanwhile (`after_write`), only the written region is dropped:
a submit no longer makes the next request read the clock, fault rules and credits again.

A request reads several times (the clock's offset, the fault rules, the job), and asking
the file costs about as much as the rest of a cached read. Inside a `view` (one request),
the cache asks once: a later read of the view that finds the cache still at the mark the
view saw uses it without asking again. The view's reads then see every commit that
returned before its first read, which is what a client that waits for one answer before
it sends the next request can tell apart.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple, TypeVar

T = TypeVar("T")
_MISSING = object()


class _View:
    """The file's mark as a view's first read (or a later one that found it moved) saw it."""

    __slots__ = ("cache", "mark")

    def __init__(self, cache: ReadCache) -> None:
        self.cache = cache
        self.mark: int | None = None


# the view of the running request (a task's context; a worker thread it starts copies it)
_VIEW: ContextVar[_View | None] = ContextVar("tunemock.sqlite.view", default=None)


class WriteStart(NamedTuple):
    """What `before_write` saw, inside the write transaction (the file's write lock held)."""

    cached: int | None  # the mark the cache's values were read under
    mark: int  # the file's mark then
    version: int  # the writing connection's data_version then


class ReadCache:
    """Values by region and key, valid while the file's change mark stays what it was when
    they were read."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], size: int = 4096) -> None:
        self._connect = connect
        self._probe: sqlite3.Connection | None = None  # opened on first use, never writes
        self._size = size
        self._lock = threading.Lock()  # also the probe's: one statement on it at a time
        self._mark: int | None = None  # None: unknown (never asked, or this process wrote)
        self._values: dict[Hashable, object] = {}  # by key (keys are unique across regions)
        self._regions: dict[Hashable, set[Hashable]] = {}  # the keys read in each region
        self._closed = False

    def read(self, region: Hashable, key: Hashable, load: Callable[..., T], *args: object) -> T:
        """The value `load(*args)` gave for `key` while the file has not changed, else load
        it again. Every read asks whether the file changed, so it sees every commit that
        returned before it, in any process. A value loaded after a commit that the mark
        did not show yet is kept under the older mark; the next read empties the cache,
        which costs a read, not a stale answer. (Every request reads three times: the hit
        path is kept short.)"""
        view = _VIEW.get()
        if view is not None and view.cache is not self:
            view = None  # another store's view (tests open several stores in one process)
        with self._lock:
            if view is not None and view.mark is not None and view.mark == self._mark:
                mark = view.mark  # asked in this view, and no write of ours moved it since
            else:
                mark = self._file_mark()
                if view is not None:
                    view.mark = mark
            if mark == self._mark:
                value = self._values.get(key, _MISSING)
                if value is not _MISSING:
                    return value  # type: ignore[return-value]  # load() gave it
            else:
                self._clear()
                self._mark = mark
        value = load(*args)
        with self._lock:
            if self._mark == mark:  # the cache did not move on meanwhile
                if len(self._values) >= self._size:
                    self._clear()
                self._values[key] = value
                self._regions.setdefault(region, set()).add(key)
        return value

    @contextmanager
    def view(self) -> Iterator[None]:
        """Reads inside ask the file whether it changed once, not each time (see above)."""
        token = _VIEW.set(_View(self))
        try:
            yield
        finally:
            _VIEW.reset(token)

    def _file_mark(self) -> int:
        """The probe's data_version (the cache's lock held): moves with every commit to the
        file by any other connection, of this process or another, and the probe makes none."""
        if self._probe is None:
            if self._closed:
                raise sqlite3.ProgrammingError("the store is closed")
            self._probe = self._connect()
        return data_version(self._probe)

    def changes(self) -> Hashable:
        """The file's change mark (moves with every commit, by any process)."""
        with self._lock:
            return self._file_mark()

    def before_write(self, conn: sqlite3.Connection) -> WriteStart:
        """Called on the writing connection inside its write transaction: no other
        connection can commit until it commits."""
        with self._lock:
            cached, mark = self._mark, self._file_mark()
        return WriteStart(cached, mark, data_version(conn))

    def after_write(self, conn: sqlite3.Connection, start: WriteStart, region: Hashable) -> None:
        """The write that `start` began committed and changed only `region` (None: maybe
        anything). If no other connection committed from `before_write` until now, the
        values of other regions stay valid under the file's new mark.

        data_version on the writing connection moves with every commit by another
        connection and never with its own (SQLite documents both), and it is asked after
        the new mark is read: unmoved, the new mark is this write's alone."""
        with self._lock:
            if self._closed:  # the write committed as the store closed: nothing to keep
                return
            mark = self._file_mark()
        try:
            alone = (
                region is not None
                and start.mark == start.cached  # the cache had seen every commit before
                and data_version(conn) == start.version
            )
        except sqlite3.Error:  # the write is committed: never fail it over the cache
            alone = False
        with self._lock:
            if alone and self._mark == start.cached:  # and no read moved the cache on since
                self._mark = mark
                for key in self._regions.pop(region, ()):
                    del self._values[key]
            else:
                self._mark = None
                self._clear()

    def forget(self) -> None:
        """This process wrote to the file, or may have: forget everything read before."""
        with self._lock:
            self._mark = None
            self._clear()

    def _clear(self) -> None:
        self._values.clear()
        self._regions.clear()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._mark = None  # a later read asks again, and finds the store closed
            self._clear()
            if self._probe is not None:
                self._probe.close()
                self._probe = None


def data_version(conn: sqlite3.Connection) -> int:
    """SQLite's change mark for `conn`: moves with every commit by another connection, never
    with one of `conn`'s own."""
    (version,) = conn.execute("PRAGMA data_version").fetchone()
    return int(version)
