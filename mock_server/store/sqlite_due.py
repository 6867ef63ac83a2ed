"""The due queue of SqliteStore: a table of (key, time) with an index on the time, so the
earliest keys are found by the index, whatever else the file holds."""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager

SCHEMA = """
CREATE TABLE IF NOT EXISTS due (key TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS due_by_time ON due (at);
"""

#: the due queue's region in the read cache: writing it keeps cached records and meta
REGION = "tunemock.due"


def schedule(conn: sqlite3.Connection, entries: Mapping[str, float]) -> None:
    conn.executemany(
        "INSERT INTO due (key, at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET at = excluded.at",
        [(key, float(at)) for key, at in entries.items()],
    )


def unschedule(conn: sqlite3.Connection, keys: Sequence[str]) -> None:
    conn.executemany("DELETE FROM due WHERE key = ?", [(key,) for key in keys])


def due(conn: sqlite3.Connection, now: float, limit: int) -> list[str]:
    rows = conn.execute(
        "SELECT key FROM due WHERE at <= ? ORDER BY at LIMIT ?", (now, max(limit, 0))
    ).fetchall()
    return [str(key) for (key,) in rows]


def next_due(conn: sqlite3.Connection) -> float | None:
    (at,) = conn.execute("SELECT MIN(at) FROM due").fetchone()
    return None if at is None else float(at)


class DueQueue(ABC):
    """SqliteStore's due-queue methods (Store.schedule ...), over its connection pool and
    write transactions."""

    @abstractmethod
    def _connection(self) -> AbstractContextManager[sqlite3.Connection]:
        """A pooled connection (SqliteStore's)."""

    @abstractmethod
    def _write(self, region: str | None) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction that drops `region` from the read cache (SqliteStore's)."""

    def schedule(self, entries: Mapping[str, float]) -> None:
        if entries:
            with self._write(REGION) as conn:
                schedule(conn, entries)

    def unschedule(self, keys: Sequence[str]) -> None:
        if keys:
            with self._write(REGION) as conn:
                unschedule(conn, keys)

    def due(self, now: float, limit: int) -> Sequence[str]:
        with self._connection() as conn:
            return due(conn, now, limit)

    def next_due(self) -> float | None:
        with self._connection() as conn:
            return next_due(conn)
