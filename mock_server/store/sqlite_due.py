"""The due queue of SqliteStore: a table of (key, time) with an index on the time, so the
earliest keys are found by the index, whatever else the file holds."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

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
