"""PostgresStore's change mark: every write transaction NOTIFYs one channel, and a thread of
each store LISTENs on it, so `changes()` is a counter in memory, never a query, and moves
within a moment of any instance's write (the dispatcher and the dashboard's events poll it).
"""

from __future__ import annotations

import logging
import threading

import psycopg

log = logging.getLogger("tunemock")

CHANNEL = "tunemock_changes"
NOTIFY = f"NOTIFY {CHANNEL}"
LISTEN = f"LISTEN {CHANNEL}"

#: How long the listener waits for a notification before it looks whether to stop, and
#: before it connects again after losing its connection.
_WAIT_SECONDS = 0.5


class ChangeMark:
    """A counter that moves with this process's writes (at once) and every notification
    (any instance's writes, this one's included)."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._count = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tunemock-listen", daemon=True)
        self._thread.start()
        self._listening.wait(10)  # a write right after start must already be heard

    def bump(self) -> None:
        with self._lock:
            self._count += 1

    def value(self) -> int:
        return self._count

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(LISTEN)
                    self._listening.set()
                    self.bump()  # what was written while no one listened
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=_WAIT_SECONDS):
                            self.bump()
            except psycopg.Error:
                if not self._stop.is_set():
                    log.warning("store change listener lost its connection; reconnecting")
                self._listening.set()
                self._stop.wait(_WAIT_SECONDS)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(_WAIT_SECONDS * 4)
