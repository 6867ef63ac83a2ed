"""Helpers for the store tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mock_server.store.sqlite import SqliteStore


def traced_store(path: Path) -> tuple[SqliteStore, list[str]]:
    """A store whose pooled connections record every statement they run (in order)."""
    statements: list[str] = []
    store = SqliteStore(path)
    connect = store._connect

    def traced() -> sqlite3.Connection:
        conn = connect()
        conn.set_trace_callback(statements.append)
        return conn

    store._connect = traced  # type: ignore[method-assign]
    store._idle.clear()  # the pool's connections are opened again, traced
    return store, statements
