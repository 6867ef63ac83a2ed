"""Helpers for the store tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from mock_server.store.base import Store
from mock_server.store.memory import MemoryStore
from mock_server.store.sqlite import SqliteStore

#: The stores every contract test runs against.
KINDS = ["memory", "sqlite", "postgresql"]


def set_field(key: str, value: Any) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    """A store change that sets one field of the doc."""
    return lambda doc: {**doc, key: value}


def open_kind(kind: str, path: Path, request: pytest.FixtureRequest) -> Store:
    """A fresh store of a kind: SQLite in the file `path`, PostgreSQL in a new database of the
    test process's throwaway server (tests.fixtures.postgres)."""
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(path)
    from mock_server.store.postgres import PostgresStore

    return PostgresStore(request.getfixturevalue("postgres_url"))


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
