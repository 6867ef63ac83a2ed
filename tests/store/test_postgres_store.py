"""What only the PostgreSQL store promises beyond the contract: several stores (instances) on
one database see one state, change it atomically, and start at once without a race; and a
machine without the server binaries is told how to get them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from mock_server.errors import ConfigError
from mock_server.store.postgres import PostgresStore
from mock_server.store.postgres_schema import MIGRATIONS
from tests.fixtures import postgres as pg
from tests.fixtures.server import KEY_A, running_app


@pytest.fixture
def pair(postgres_url: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    yield first, second
    first.close()
    second.close()


def _in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_stores_starting_at_once_migrate_once(postgres_url: str) -> None:
    stores = _in_threads(6, lambda _: PostgresStore(postgres_url))
    try:
        with psycopg.connect(postgres_url) as conn:
            versions = [v for (v,) in conn.execute("SELECT version FROM tunemock_schema")]
        assert sorted(versions) == [version for version, _ in MIGRATIONS]
        stores[0].insert("finetune", "alice", "a", {})
        assert all(store.get("finetune", "a", "alice") is not None for store in stores)
    finally:
        for store in stores:
            store.close()


def test_a_database_of_a_newer_tunemock_is_refused(postgres_url: str) -> None:
    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:
        conn.execute("INSERT INTO tunemock_schema (version) VALUES (9999)")
    with pytest.raises(ConfigError, match="schema version 9999"):
        PostgresStore(postgres_url)


def test_an_unreachable_database_is_one_clear_error(postgres: pg.PostgresServer) -> None:
    url = f"postgresql://{pg.USER}@127.0.0.1:{postgres.port}/no_such_database"
    with pytest.raises(ConfigError, match="no_such_database"):
        PostgresStore(url)


def test_one_stores_writes_are_the_others_reads(pair: tuple[PostgresStore, PostgresStore]) -> None:
    first, second = pair
    mark = second.changes()
    made = first.insert("finetune", "alice", "a", {"n": 1})
    first.set_meta("clock.offset", 30.0)
    first.schedule({"job:a": 5.0})

    assert second.get("finetune", "a", "alice") == made
    assert second.get_meta("clock.offset") == 30.0
    assert list(second.due(10.0, 5)) == ["job:a"]
    deadline = time.monotonic() + 10
    while second.changes() == mark and time.monotonic() < deadline:
        time.sleep(0.01)  # the other store hears of the writes through LISTEN/NOTIFY
    assert second.changes() != mark


def test_updates_from_two_stores_lose_nothing(pair: tuple[PostgresStore, PostgresStore]) -> None:
    first, second = pair
    first.insert("counter", "alice", "c", {"n": 0})
    first.set_meta("credits", 100)

    def work(i: int) -> None:
        store = pair[i % 2]
        for _ in range(20):
            store.update("counter", "c", None, lambda doc: {"n": doc["n"] + 1})
            store.update_meta("credits", lambda old: old - 1)

    _in_threads(4, work)
    final = second.get("counter", "c", None)
    assert final is not None and final.doc == {"n": 80} and final.version == 81
    assert first.get_meta("credits") == 20


def test_new_records_reach_a_feed_in_seq_order(pair: tuple[PostgresStore, PostgresStore]) -> None:
    # what the dispatcher's feed relies on: a reader that remembers the last seq it saw
    # never misses a record committed after it read (inserts of a kind take turns)
    reader = pair[1]
    seen, found, done = 0, [], threading.Event()

    def drain() -> None:
        nonlocal seen
        while batch := reader.records_after("job", seen, 7):
            found.extend(r.id for r in batch)
            seen = batch[-1].seq

    def feed() -> None:
        while not done.is_set():
            drain()

    feeder = threading.Thread(target=feed)
    feeder.start()
    _in_threads(4, lambda i: [pair[i % 2].insert("job", "t", f"{i}-{n}", {}) for n in range(25)])
    done.set()
    feeder.join()
    drain()
    assert sorted(found) == sorted(f"{i}-{n}" for i in range(4) for n in range(25))


def test_journal_of_both_stores_is_one_view(pair: tuple[PostgresStore, PostgresStore]) -> None:
    first, second = pair
    first.append_journal({"at": "2026-01-01T00:00:01Z", "path": "/one"}, keep=10)
    second.append_journal({"at": "2026-01-01T00:00:02Z", "path": "/two"}, keep=10)
    first.close()  # writes its waiting batch
    assert [e["path"] for e in second.journal(10)] == ["/two", "/one"]


def test_missing_server_binaries_fail_with_the_install_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pg, "find_bindir", lambda: None)
    with pytest.raises(pytest.fail.Exception) as failed, pg.postgres_server():
        pass
    assert str(failed.value) == pg.MISSING
    assert "apt-get install postgresql" in pg.MISSING


@pytest.mark.anyio
async def test_a_database_that_goes_away_is_a_503_and_coming_back_heals() -> None:
    # a cluster of its own: this test stops it
    with pg.postgres_server() as server:
        url = server.create_database()
        async with running_app(KEY_A, state=url, clock="virtual", datasets="skip") as client:
            assert (await client.get("/finetune/request/list")).status_code == 200
            server.stop("fast")
            try:
                down = await client.get("/finetune/request/list")
                assert down.status_code == 503
                assert "state database is unavailable" in down.json()["error"]
                assert down.headers["retry-after"] == "1"
            finally:
                server.start()
            statuses = [(await client.get("/finetune/request/list")).status_code for _ in range(4)]
            assert statuses[-1] == 200  # the pool drops the broken connections, opens new ones
            assert set(statuses) <= {200, 503}
