"""The store's due queue and new-record feed, held by the memory, SQLite and PostgreSQL stores
alike: what the webhook dispatcher finds due work with, instead of reading every job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server.errors import Conflict
from mock_server.store.base import Store
from mock_server.store.sqlite import SqliteStore
from tests.store.helpers import KINDS, open_kind


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    # a nested path: SqliteStore must create the missing parent directory
    opened = open_kind(request.param, tmp_path / "state" / "s.db", request)
    yield opened
    opened.close()


def test_due_keys_come_earliest_first_and_only_when_due(store: Store) -> None:
    store.schedule({"c": 30.0, "a": 10.0, "b": 20.0})
    assert store.next_due() == 10.0
    assert list(store.due(5.0, 10)) == []
    assert list(store.due(25.0, 10)) == ["a", "b"]
    assert list(store.due(100.0, 2)) == ["a", "b"]  # at most `limit`
    assert list(store.due(100.0, 10)) == ["a", "b", "c"]  # due keys stay until moved


def test_moving_and_removing_keys(store: Store) -> None:
    store.schedule({"a": 10.0, "b": 20.0})
    store.schedule({"a": 50.0})  # moved, not added twice
    assert list(store.due(30.0, 10)) == ["b"]
    assert store.next_due() == 20.0
    store.unschedule(["b", "never-there"])
    assert list(store.due(100.0, 10)) == ["a"]
    store.unschedule(["a"])
    assert store.next_due() is None and list(store.due(1e12, 10)) == []


def test_many_moves_keep_the_order(store: Store) -> None:
    for round in range(5):  # each key moved several times: the heap's stale entries skipped
        store.schedule({f"k{i:03d}": float((i * 7 + round) % 100) for i in range(100)})
    expected = sorted((float((i * 7 + 4) % 100), f"k{i:03d}") for i in range(100))
    assert list(store.due(1000.0, 1000)) == [key for _, key in expected]
    assert list(store.due(9.0, 1000)) == [key for at, key in expected if at <= 9.0]


def test_an_insert_queues_its_keys_in_the_same_write(store: Store) -> None:
    mark = store.changes()
    store.insert("delivery", "t", "d1", {"n": 1}, {"delivery d1": 10.0, "prune d1": 99.0})
    assert store.changes() != mark
    assert list(store.due(50.0, 10)) == ["delivery d1"]
    store.schedule({"delivery d1": 70.0})
    with pytest.raises(Conflict):  # nothing of a refused insert is written, its keys neither
        store.insert("delivery", "t", "d1", {"n": 2}, {"delivery d1": 1.0, "other": 2.0})
    assert list(store.due(100.0, 10)) == ["delivery d1", "prune d1"]
    assert store.get("delivery", "d1", None).doc == {"n": 1}  # type: ignore[union-attr]


def test_reset_empties_the_queue(store: Store) -> None:
    store.schedule({"a": 1.0})
    store.reset()
    assert store.next_due() is None


def test_records_after_gives_only_new_records_oldest_first(store: Store) -> None:
    first = store.insert("job", "t", "j1", {"n": 1})
    store.insert("other", "t", "o1", {"n": 0})
    store.insert("job", "t", "j2", {"n": 2})
    store.insert("job", "u", "j3", {"n": 3})
    assert [r.id for r in store.records_after("job", 0, 10)] == ["j1", "j2", "j3"]
    assert [r.id for r in store.records_after("job", first.seq, 10)] == ["j2", "j3"]
    assert [r.id for r in store.records_after("job", first.seq, 1)] == ["j2"]
    last = store.records_after("job", 0, 10)[-1]
    assert list(store.records_after("job", last.seq, 10)) == []
    assert store.records_after("job", 0, 10)[1].doc == {"n": 2}


def test_changes_move_with_every_write_and_only_then(store: Store) -> None:
    mark = store.changes()
    assert store.changes() == mark
    store.get_meta("x")
    store.list("job", None)
    assert store.changes() == mark  # reads leave it
    for write in (
        lambda: store.insert("job", "t", "j", {}),
        lambda: store.update("job", "j", None, lambda d: {**d, "n": 1}),
        lambda: store.set_meta("clock", 1.0),
        lambda: store.update_meta("clock", lambda old: 2.0),
        lambda: store.schedule({"a": 1.0}),
        lambda: store.delete("job", "j", None),
    ):
        write()
        assert store.changes() != mark
        mark = store.changes()


def test_a_second_sqlite_store_sees_the_queue_and_the_changes(tmp_path: Path) -> None:
    one, two = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    try:
        mark = two.changes()
        one.schedule({"a": 1.0})
        assert two.changes() != mark
        assert list(two.due(2.0, 10)) == ["a"]
    finally:
        one.close()
        two.close()
