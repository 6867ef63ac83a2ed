"""Helpers for the store tests."""

from __future__ import annotations

import contextvars
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest

from mock_server.store.base import Store
from mock_server.store.memory import MemoryStore
from mock_server.store.sqlite import SqliteStore
from mock_server.store.sqlite_cache import ReadCache

T = TypeVar("T")

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


def new_request(call: Callable[[], T]) -> T:
    """Run a call in a fresh context, as the server runs each request (a task of its own)."""
    return contextvars.Context().run(call)


def traced_connect(path: Path, statements: list[str]) -> Callable[[], sqlite3.Connection]:
    """A connect() whose connections record every statement they run."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.set_trace_callback(statements.append)
        return conn

    return connect


def cache_on(path: Path) -> tuple[ReadCache, sqlite3.Connection]:
    """A read cache on a new state file, and a connection writing it as another process."""
    SqliteStore(path).close()  # the schema
    writer = sqlite3.connect(path, isolation_level=None)
    return ReadCache(lambda: sqlite3.connect(path, check_same_thread=False)), writer


def selects(statements: list[str]) -> list[str]:
    """The statements that read the file."""
    return [s for s in statements if s.startswith("SELECT")]
