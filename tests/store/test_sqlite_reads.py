"""The SQLite store's read cache (store.sqlite_cache): a request never reads from before a
commit another connection or process made before it arrived, nor from before its own
process's writes, and an unchanged file is not read again. (Its locks: test_sqlite_locks.py;
its views: test_sqlite_views.py.)

Each request is a task with a context of its own; `new_request(...)` (tests.store.helpers)
runs a call in a fresh context as the server runs each request."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_server.store.sqlite import SqliteStore
from mock_server.store.sqlite_cache import ReadCache
from tests.store.helpers import cache_on, new_request, selects, traced_connect, traced_store


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SqliteStore, SqliteStore]]:
    """Two stores on one file, as two worker processes have."""
    path = tmp_path / "s.db"
    first, second = SqliteStore(path), SqliteStore(path)
    yield first, second
    first.close()
    second.close()


def _reads(store: SqliteStore) -> tuple[Any, ...]:
    return new_request(lambda: _read_all(store))


def _read_all(store: SqliteStore) -> tuple[Any, ...]:
    record = store.get("finetune", "a", "alice")
    return (
        None if record is None else (dict(record.doc), record.version),
        store.count("finetune", None),
        store.count("finetune", "alice"),
        store.get_meta("clock"),
    )


CHANGES: dict[str, Callable[[SqliteStore], object]] = {
    "insert": lambda s: s.insert("finetune", "bob", "b", {}),
    "update": lambda s: s.update("finetune", "a", None, lambda doc: {**doc, "n": 2}),
    "delete": lambda s: s.delete("finetune", "a", None),
    "set_meta": lambda s: s.set_meta("clock", {"offset": 9}),
    "update_meta": lambda s: s.update_meta("clock", lambda v: {"offset": 7}),
    "reset": lambda s: s.reset(),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_commit_by_another_store_is_read_at_once(
    pair: tuple[SqliteStore, SqliteStore], change: str
) -> None:
    first, second = pair
    first.insert("finetune", "alice", "a", {"n": 1})
    first.set_meta("clock", {"offset": 1})
    before = _reads(first)
    assert _reads(first) == before  # now cached

    CHANGES[change](second)

    fresh = SqliteStore(second.path)  # a fresh store's view
    assert _reads(first) == _reads(fresh)
    fresh.close()
    assert _reads(first) != before


def test_own_writes_are_read_at_once(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        assert store.get("finetune", "a", None) is None
        store.insert("finetune", "alice", "a", {"n": 1})
        assert store.get("finetune", "a", None) is not None
        assert store.count("finetune", None) == 1
        store.set_meta("k", 1)
        assert store.get_meta("k") == 1
        store.update_meta("k", lambda v: v + 1)
        assert store.get_meta("k") == 2
    finally:
        store.close()


def test_a_cached_read_is_still_each_readers_own_copy(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        store.insert("finetune", "alice", "a", {"n": [1]})
        store.set_meta("k", {"n": [1]})
        record = store.get("finetune", "a", None)
        meta = store.get_meta("k")
        assert record is not None
        record.doc["n"].append(2)  # type: ignore[index]
        meta["n"].append(2)
        again = store.get("finetune", "a", None)
        assert again is not None and again.doc == {"n": [1]}
        assert store.get_meta("k") == {"n": [1]}
    finally:
        store.close()


def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    cache, writer = cache_on(tmp_path / "s.db")
    loads: list[str] = []

    def load() -> str:
        loads.append("x")
        return "value"

    assert [new_request(lambda: cache.read("r", "k", load)) for _ in range(5)] == ["value"] * 5
    assert loads == ["x"]
    writer.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
    assert new_request(lambda: cache.read("r", "k", load)) == "value"
    assert loads == ["x", "x"]  # the commit emptied the cache
    cache.close()
    writer.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        cache.read("r", "k", load)


def test_a_commit_during_a_read_is_noticed_by_the_next_read(tmp_path: Path) -> None:
    cache, writer = cache_on(tmp_path / "s.db")
    values = iter(["before the commit", "after it"])

    def load_while_another_commits() -> str:
        value = next(values)  # what the read found ...
        writer.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")  # ... then a commit
        return value

    assert (
        new_request(lambda: cache.read("r", "k", load_while_another_commits)) == "before the commit"
    )
    assert new_request(lambda: cache.read("r", "k", lambda: "after it")) == "after it"
    cache.close()
    writer.close()


def test_the_cache_stays_within_its_size(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.db").close()
    cache = ReadCache(lambda: sqlite3.connect(tmp_path / "s.db", check_same_thread=False), size=3)
    for n in range(10):
        assert cache.read(f"region {n % 2}", n, lambda n=n: n) == n  # type: ignore[misc]
    assert len(cache._values) <= 3
    assert sum(len(keys) for keys in cache._regions.values()) <= 3
    cache.close()


def test_a_read_that_started_before_a_commit_never_overwrites_a_newer_one(tmp_path: Path) -> None:
    # two threads, interleaved: the slow read began before the commit, the quick one after
    cache, writer = cache_on(tmp_path / "s.db")

    def slow_load() -> str:
        writer.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        quick = new_request(lambda: cache.read("r", "k", lambda: "after the commit"))
        assert quick == "after the commit"
        return "before the commit"

    assert new_request(lambda: cache.read("r", "k", slow_load)) == "before the commit"
    assert (
        new_request(lambda: cache.read("r", "k", lambda: "not read: cached")) == "after the commit"
    )
    cache.close()
    writer.close()


def test_a_cached_read_asks_only_whether_the_file_changed(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.db").close()
    statements: list[str] = []
    cache = ReadCache(traced_connect(tmp_path / "s.db", statements))
    writer = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    assert cache.read("r", "a", lambda: "a") == "a"
    opened = len(statements)
    assert [cache.read("r", "a", lambda: "not read: cached") for _ in range(5)] == ["a"] * 5
    assert statements[opened:] == ["PRAGMA data_version"] * 5  # each said: unchanged

    writer.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")
    assert cache.read("r", "a", lambda: "a again") == "a again"  # the next read, not a moment later
    cache.close()
    writer.close()


def test_a_commit_within_one_request_is_read_by_its_next_read(tmp_path: Path) -> None:
    cache, writer = cache_on(tmp_path / "s.db")

    def request() -> list[str]:
        first = cache.read("r", "a", lambda: "a")
        writer.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")  # another process
        return [first, cache.read("r", "a", lambda: "a again")]

    assert new_request(request) == ["a", "a again"]
    cache.close()
    writer.close()


def test_without_wal_every_read_asks_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "rollback.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=DELETE")
    writer.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    statements: list[str] = []
    cache = ReadCache(traced_connect(path, statements))
    assert cache.read("r", "a", lambda: "a") == "a"
    assert cache.read("r", "a", lambda: "not read: cached") == "a"
    assert statements.count("PRAGMA data_version") == 2
    writer.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")
    assert cache.read("r", "a", lambda: "a again") == "a again"
    assert not (path.parent / "rollback.db-shm").exists()
    cache.close()
    writer.close()


def test_a_request_reads_its_own_processs_writes_at_once(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")

    def request() -> list[Any]:
        seen = [store.get_meta("k"), store.count("finetune", None)]
        store.set_meta("k", 1)
        store.insert("finetune", "alice", "a", {})
        return [*seen, store.get_meta("k"), store.count("finetune", None)]

    try:
        assert new_request(request) == [None, 0, 1, 1]
    finally:
        store.close()


def test_a_read_right_after_close_finds_the_store_closed(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.set_meta("k", 1)

    def request() -> None:
        assert store.get_meta("k") == 1  # read and cached
        store.close()
        store.get_meta("k")

    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        new_request(request)


def test_an_own_write_drops_only_what_it_changed(tmp_path: Path) -> None:
    store, statements = traced_store(tmp_path / "s.db")
    try:
        store.set_meta("clock", {"offset": 1})
        store.insert("fault", "alice", "f", {})
        reads = lambda: (store.get_meta("clock"), store.count("fault", None))  # noqa: E731
        assert reads() == ({"offset": 1}, 1)
        statements.clear()

        store.insert("finetune", "alice", "a", {"n": 1})  # a submit
        assert reads() == ({"offset": 1}, 1)
        assert selects(statements) == []  # neither read again
        assert store.count("finetune", None) == 1  # the written kind is
        assert store.get("finetune", "a", None) is not None

        store.set_meta("clock", {"offset": 2})
        statements.clear()
        assert reads() == ({"offset": 2}, 1)
        assert len(selects(statements)) == 1  # only the written key
    finally:
        store.close()


def test_a_journal_batch_drops_nothing_read(tmp_path: Path) -> None:
    # every request appends to the journal: its batches must not make the next request
    # read the clock, fault rules and job again
    store, statements = traced_store(tmp_path / "s.db")
    try:
        store.set_meta("clock", {"offset": 1})
        store.insert("finetune", "alice", "a", {"n": 1})
        assert _reads(store) == _reads(store)  # cached
        statements.clear()

        store.append_journal({"n": 1}, keep=5)
        assert store.journal(5) == [{"n": 1}]  # the batch is in the file
        assert any(s.startswith("INSERT INTO journal") for s in statements)
        statements.clear()
        assert _reads(store) == (({"n": 1}, 1), 1, 1, {"offset": 1})
        assert selects(statements) == []
    finally:
        store.close()


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_commit_by_another_store_while_one_writes_is_read(
    pair: tuple[SqliteStore, SqliteStore], change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the other store commits between this store's COMMIT and its cache's after_write
    first, second = pair
    first.insert("finetune", "alice", "a", {"n": 1})
    first.set_meta("clock", {"offset": 1})
    assert _reads(first) == _reads(first)  # cached
    cache = first._cache
    after_write = cache.after_write

    def meanwhile(*args: Any) -> None:
        CHANGES[change](second)
        after_write(*args)

    monkeypatch.setattr(cache, "after_write", meanwhile)
    first.insert("lora-trainer", "alice", "t", {})
    monkeypatch.undo()
    fresh = SqliteStore(second.path)
    assert _reads(first) == _reads(fresh)
    fresh.close()


OWN_WRITES: dict[str, Callable[[SqliteStore], object]] = {
    "insert": lambda s: s.insert("finetune", "alice", "a", {}),
    "journal batch": lambda s: (s.append_journal({"n": 1}, keep=5), s.journal(5)),
}


@pytest.mark.parametrize("write", sorted(OWN_WRITES))
def test_an_own_write_after_an_unseen_commit_drops_everything(
    pair: tuple[SqliteStore, SqliteStore], write: str
) -> None:
    first, second = pair
    first.set_meta("clock", {"offset": 1})
    assert first.get_meta("clock") == {"offset": 1}
    second.set_meta("clock", {"offset": 5})  # not read by `first` yet
    OWN_WRITES[write](first)  # a journal batch commits when the journal is read
    assert first.get_meta("clock") == {"offset": 5}
