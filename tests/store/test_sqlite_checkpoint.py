"""The SQLite store's checkpoints come from a thread of their own (store.sqlite_checkpoint),
not from the commit of a request: what a request commits reaches the database file itself
without any request doing it."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from mock_server.store.sqlite import SqliteStore
from mock_server.store.sqlite_checkpoint import FALLBACK_PAGES, Checkpointer


def _in_the_database_file(path: Path, tmp_path: Path) -> int:
    """How many records the file holds without its write-ahead log (what was checkpointed)."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)  # the -wal file stays behind
    conn = sqlite3.connect(copy)
    try:
        (n,) = conn.execute("SELECT COUNT(*) FROM records").fetchone()
    except sqlite3.OperationalError:  # not even the schema is in the file yet
        n = 0
    finally:
        conn.close()
    copy.unlink()
    return int(n)


def test_commits_reach_the_database_file_from_the_checkpoint_thread(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    try:
        assert store._checkpoints._thread is None  # no write yet: no thread
        for n in range(20):
            store.insert("finetune", "alice", f"j{n}", {"n": n})
        # a commit checkpoints only past FALLBACK_PAGES: these few pages stay in the log
        # until the thread copies them
        deadline = time.monotonic() + 10
        while _in_the_database_file(path, tmp_path) != 20:
            assert time.monotonic() < deadline, "the checkpoint thread never ran"
            time.sleep(0.02)
        thread = store._checkpoints._thread
        assert thread is not None and thread.is_alive()
    finally:
        store.close()
    assert not thread.is_alive()  # stopped and joined by close


def test_serving_connections_leave_checkpoints_to_the_thread(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        with store._connection() as conn:
            (pages,) = conn.execute("PRAGMA wal_autocheckpoint").fetchone()
        assert pages == FALLBACK_PAGES
    finally:
        store.close()


def test_a_failing_checkpoint_is_tried_again(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    calls: list[int] = []

    def connect() -> sqlite3.Connection:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("unable to open database file")
        return sqlite3.connect(path, check_same_thread=False)

    checkpoints = Checkpointer(connect, interval=0.01)
    checkpoints.start()
    try:
        deadline = time.monotonic() + 10
        while len(calls) < 2:  # the thread lived through the error and connected again
            assert time.monotonic() < deadline, "the thread died with the first error"
            time.sleep(0.01)
    finally:
        checkpoints.close()
    thread = checkpoints._thread
    assert thread is not None and not thread.is_alive()
    checkpoints.start()  # closed: never again
    assert checkpoints._thread is thread
