"""The SQLite store's request journal: entries written in batches, by a thread of its own.

Every request appends an entry. Written one transaction each (insert, trim, commit), the
journal was about half of a SQLite-backed request. Here an entry waits in the process
about `interval` seconds (or until `batch` of them are waiting, or the journal is read, or
the store closes) and the writer thread puts it in the file with the others in one
transaction. The request that appends never writes: a write waits for the file's write
lock, which another worker process may hold, and that wait must not stall an event loop.
The cost: another worker process sees an entry up to that much later, and a kill -9 takes
the entries of that last while. The journal is diagnostics; jobs, meta and deliveries are
written at once, as before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from mock_server.store.packing import pack_batch

log = logging.getLogger("tunemock")

#: The batches older than the newest that hold `keep` (the one parameter) entries between
#: them go; standard SQL, PostgresStore's journal trims with it too.
TRIM = (
    "DELETE FROM journal WHERE seq < (SELECT seq FROM"
    " (SELECT seq, SUM(n) OVER (ORDER BY seq DESC) AS newer FROM journal) AS sizes"
    " WHERE newer >= ? ORDER BY seq DESC LIMIT 1)"
)


#: Writes one packed batch of `n` entries and trims the journal to `keep` entries, in one
#: transaction of the store's database: (batch, n, keep).
StoreBatch = Callable[[bytes, int, int], None]


def sqlite_batches(write: Callable[[], AbstractContextManager[sqlite3.Connection]]) -> StoreBatch:
    """The SQLite store's `StoreBatch`, in a write transaction of `write`."""

    def store_batch(batch: bytes, n: int, keep: int) -> None:
        with write() as conn:
            conn.execute("INSERT INTO journal (entry, n) VALUES (?, ?)", (batch, n))
            conn.execute(TRIM, (keep,))

    return store_batch


class JournalWriter:
    """Batches `append`s into one transaction each; `flush` writes what waits now, through
    `store_batch` (the store's database)."""

    def __init__(
        self,
        store_batch: StoreBatch,
        interval: float = 0.02,
        batch: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store_batch = store_batch
        self._clock = clock
        self._interval = interval
        self._batch = batch
        self._pending: list[tuple[Mapping[str, Any], int]] = []
        self._pending_lock = threading.Lock()  # held only to swap or append to the list
        self._write_lock = threading.Lock()  # one flush at a time, and close waits for it
        self._wake = threading.Event()  # a full batch waits, or the writer is closing
        self._thread: threading.Thread | None = None
        self._closed = False
        self._flushed = clock()  # when the last flush began

    def append(self, entry: Mapping[str, Any], keep: int) -> None:
        with self._pending_lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the store is closed")
            self._pending.append((entry, keep))
            if len(self._pending) >= self._batch:
                self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tunemock-journal", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        """Write what waits: every `interval` by `clock`, and at once when a batch is full."""
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()  # a wake-up lost here is found by the length check below
            if self._closed:
                return  # close writes what waits
            with self._pending_lock:
                full = len(self._pending) >= self._batch
            if full or self._clock() - self._flushed >= self._interval:
                self._flush_logged()

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:  # diagnostics only: say so, drop the batch, keep serving
            log.warning("request journal: a batch could not be written", exc_info=True)

    def flush(self) -> None:
        """Write every entry waiting now, in one transaction."""
        with self._write_lock:
            with self._pending_lock:
                waiting, self._pending = self._pending, []
                self._flushed = self._clock()
            if not waiting:
                return
            keep = max(waiting[-1][1], 0)
            self._store_batch(pack_batch([entry for entry, _ in waiting], keep), len(waiting), keep)

    def drop_pending(self) -> None:
        """Forget what waits (a reset deletes the journal)."""
        with self._pending_lock:
            self._pending = []

    def close(self) -> None:
        """Stop the writer thread, then write what waits."""
        with self._pending_lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        try:
            self.flush()
        except Exception:  # closing never fails over diagnostics
            log.warning("request journal: the last batch could not be written", exc_info=True)
