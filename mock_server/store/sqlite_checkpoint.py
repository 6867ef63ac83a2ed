"""The SQLite store's checkpoints, from a thread of their own instead of a request's commit.

In WAL mode a commit that takes the log past 1,000 pages copies them into the database file
(a checkpoint) before it returns, and with synchronous=NORMAL that includes two fsyncs:
milliseconds of mostly waiting for the disk, every few hundred submits, in the thread that
serves every request, holding up every request in flight. Here a
thread checkpoints every `interval` (SQLite releases the GIL while it copies and syncs;
nothing to copy costs microseconds), and the serving connections checkpoint themselves only
past `FALLBACK_PAGES`, should this thread fall behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger("tunemock")

#: the serving connections' own wal_autocheckpoint while this thread runs (SQLite's default
#: is 1,000 pages): only a log this thread did not keep short is checkpointed by a commit
FALLBACK_PAGES = 10_000


class Checkpointer:
    """A daemon thread running PASSIVE checkpoints (they never wait for readers or writers)
    on a connection of its own, from `start()` until `close()`."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], interval: float = 0.1) -> None:
        self._connect = connect
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self) -> None:
        """Start the thread (once; a no-op later, and after close)."""
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="tunemock-checkpoint", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self._interval):
                try:
                    if conn is None:
                        conn = self._connect()
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # the next round tries again; commits checkpoint too
                    log.debug("SQLite checkpoint failed", exc_info=True)
        finally:
            if conn is not None:
                conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
