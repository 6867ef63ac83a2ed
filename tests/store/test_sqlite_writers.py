"""The writers of one process take the SQLite file's write lock in turn, never by polling."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mock_server.store import sqlite as sqlite_store
from mock_server.store.sqlite import SqliteStore


def test_one_processs_writers_never_wait_on_sqlites_busy_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no busy timeout, a writer that found the file locked by another thread of its own
    process would fail at once ("database is locked"): none does, so they queued in the
    process, where SQLite's busy handler (sleeps of up to 100 ms) plays no part."""
    monkeypatch.setattr(sqlite_store, "_BUSY_TIMEOUT_MS", 0)
    store = SqliteStore(tmp_path / "s.db")
    store.insert("finetune", "alice", "a", {"n": 0})
    failures: list[BaseException] = []
    start = threading.Barrier(16)

    def write(worker: int) -> None:
        start.wait()
        try:
            for i in range(25):
                store.update("finetune", "a", None, lambda doc: {"n": doc["n"] + 1})
                store.set_meta(f"worker-{worker}", i)
                store.append_journal({"worker": worker, "i": i}, keep=100)
        except BaseException as exc:  # every failure is reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        record = store.get("finetune", "a", None)
        assert record is not None and record.doc == {"n": 16 * 25}
        assert len(store.journal(1000)) == 100
    finally:
        store.close()
