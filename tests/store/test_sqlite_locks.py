"""The SQLite store's read cache never costs a lock or a write: closing any descriptor of a
file drops every POSIX lock the process holds on it, and SQLite's locks are POSIX locks, so
the cache's change probe (a connection of its own, opened and closed beside the store's
writers) must keep the process's write lock, a store closing must keep the lock of a write
still running, and a write that committed must never fail over what the cache asks after."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mock_server.store import sqlite_cache
from mock_server.store.sqlite import SqliteStore
from tests.store.helpers import selects, traced_store

_TRY_WRITE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
try:
    conn.execute("BEGIN IMMEDIATE")
    print("got the write lock")
except sqlite3.OperationalError as exc:
    print(exc)
"""


def _another_process_tries_to_write(path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _TRY_WRITE, str(path)], capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip()


def test_the_change_probe_keeps_the_processs_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # this process holds the write lock ...
        assert store.get_meta("k") is None  # ... when the cache first opens its probe
        assert store.get_meta("k") is None
        assert _another_process_tries_to_write(path) == "database is locked"
        holder.execute("COMMIT")
        assert _another_process_tries_to_write(path) == "got the write lock"
    finally:
        holder.close()
        store.close()


def test_closing_a_store_keeps_the_lock_of_a_write_still_running(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    store.insert("counter", "alice", "c", {"n": 0})
    assert store.get("counter", "c", None) is not None  # the probe is open
    inside, finish = threading.Event(), threading.Event()

    def slow_bump(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        inside.set()
        assert finish.wait(30)
        return {"n": doc["n"] + 1}

    writer = threading.Thread(target=store.update, args=("counter", "c", None, slow_bump))
    writer.start()
    try:
        assert inside.wait(30)  # the write holds the lock ...
        store.close()  # ... while the store closes
        assert _another_process_tries_to_write(path) == "database is locked"
    finally:
        finish.set()
        writer.join(30)
    assert _another_process_tries_to_write(path) == "got the write lock"
    reopened = SqliteStore(path)
    record = reopened.get("counter", "c", None)
    reopened.close()
    assert record is not None and record.doc == {"n": 1}


def test_a_committed_write_never_fails_over_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, statements = traced_store(tmp_path / "s.db")
    version = sqlite_cache.data_version

    def failing_after_commit(conn: sqlite3.Connection) -> int:
        # after_write's question to the writing connection, after the COMMIT
        if conn is not store._cache._probe and not conn.in_transaction:
            raise sqlite3.OperationalError("database is locked")
        return version(conn)

    try:
        store.set_meta("clock", {"offset": 1})
        assert store.get_meta("clock") == {"offset": 1}
        monkeypatch.setattr(sqlite_cache, "data_version", failing_after_commit)
        store.insert("finetune", "alice", "a", {})  # committed: no error
        monkeypatch.undo()
        statements.clear()
        assert store.get_meta("clock") == {"offset": 1}
        assert len(selects(statements)) == 1  # not knowing, the cache dropped everything
        assert store.count("finetune", None) == 1
    finally:
        store.close()
