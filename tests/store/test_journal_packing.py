"""Journal entries in the SQLite file (store.packing): the edge's entries go packed, as
marshal bytes, and read back exactly as the memory store formats them; a row that cannot
be read back is skipped, and the rest of the journal still reads."""

from __future__ import annotations

import json
import logging
import marshal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response

from mock_server.http.capture import Exchange, JournalEntry, register_codec
from mock_server.store import packing
from mock_server.store.base import encode
from mock_server.store.memory import MemoryStore
from mock_server.store.sqlite import SqliteStore


@pytest.fixture(autouse=True)
def _codec() -> None:
    register_codec()  # as create_app does where it builds the store


async def _entry(body: bytes = b'{"password": "hunter22", "n": 1}') -> JournalEntry:
    scope = {
        "type": "http",
        "headers": [(b"x-api-key", b"secret-key-123"), (b"content-type", b"application/json")],
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop()

    async def send(message: dict[str, Any]) -> None:
        pass

    exchange = Exchange(scope, receive, send)
    await exchange.receive()
    await Response(b'{"ok": true}', media_type="application/json")(
        scope, exchange.receive, exchange.send
    )
    return JournalEntry(("method", "status", "fault"), ("POST", 200, None), exchange)


class StillClock:
    """The journal writer's clock, moved only by the test: a batch closes when the test
    reads the journal, never because the machine was slow between two appends (on the
    wall clock, a first append more than 20 ms after the store opened went alone, and a
    test expecting one batch found two rows)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> StillClock:
    return StillClock()


@pytest.fixture
def store(tmp_path: Path, clock: StillClock) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "s.db", journal_clock=clock)
    yield opened
    opened.close()


def _rows(store: SqliteStore) -> list[Any]:
    with sqlite3.connect(store.path) as conn:
        return [value for (value,) in conn.execute("SELECT entry FROM journal ORDER BY seq")]


@pytest.mark.anyio
async def test_an_edge_entry_is_packed_and_reads_back_as_the_memory_store_gives_it(
    store: SqliteStore,
) -> None:
    entry = await _entry()
    memory = MemoryStore()
    memory.append_journal(entry, keep=5)
    store.append_journal(entry, keep=5)

    read = store.journal(5)

    assert read == memory.journal(5) == [json.loads(encode(entry))]
    assert read[0]["request"]["headers"][0] == ["x-api-key", "sec…"]  # a quarter of it
    assert "hunter22" not in read[0]["request"]["body"]
    [row] = _rows(store)
    assert isinstance(row, bytes) and b"hunter22" not in row  # masked at capture: the file too
    keep, entries = packing.unpack_batch(row)
    assert (keep, list(entries)) == (5, read)
    assert isinstance(read[0], dict)


@pytest.mark.anyio
async def test_unreadable_rows_and_entries_are_skipped_and_the_rest_reads(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    good = await _entry()
    header = ((), b"", 0, (), b"", 0)
    bad_entries: list[Any] = [
        ("no-such-codec/9", ()),
        ("journal-entry/1", ("too", "short")),
        ("journal-entry/1", (("a",), (1, 2), 1.0, header)),  # values do not match names
        ("journal-entry/1", (("a",), (1,), 1.0, ((1, 2), b"", 0, (), b"", 0))),  # headers
        "[1, 2]",  # JSON, not an object
        "{not json",
    ]
    bad_rows: list[Any] = [
        b"\x00not marshal",
        marshal.dumps(("journal-batch/1", "50", [])),  # a size that is not a number
        marshal.dumps(("not-a-batch/1", 50, [])),
        "[1, 2]",  # a row from before batches that is not an object
        "{not json",
    ]
    store.append_journal(good, keep=50)
    store.journal(1)  # written
    mixed = marshal.dumps(("journal-batch/1", 50, [*bad_entries, '{"n": "in a batch"}']))
    with sqlite3.connect(store.path) as conn:
        conn.executemany("INSERT INTO journal (entry) VALUES (?)", [(r,) for r in bad_rows])
        conn.execute("INSERT INTO journal (entry) VALUES (?)", (mixed,))
        conn.execute("INSERT INTO journal (entry) VALUES (?)", ('{"n": "old text row"}',))

    with caplog.at_level(logging.WARNING, logger="tunemock"):
        read = store.journal(50)

    assert read[0]["method"] == "POST" and len(read) == 3  # the one with a time comes first
    assert read[1] == {"n": "old text row"}  # a file from before batches still reads
    assert read[2] == {"n": "in a batch"}
    assert caplog.text.count("skipped") == len(bad_rows) + len(bad_entries)


def test_an_entry_marshal_cannot_take_goes_as_json(store: SqliteStore) -> None:
    class Odd(dict[str, Any]):
        def packed(self) -> tuple[str, Any]:
            return "journal-entry/1", (object(),)  # marshal refuses an object

    store.append_journal(Odd(n=1), keep=5)
    store.append_journal({"n": 2}, keep=5)
    assert store.journal(5) == [{"n": 2}, {"n": 1}]
    [row] = _rows(store)
    assert marshal.loads(row) == ("journal-batch/1", 5, ['{"n":1}', '{"n":2}'])


def test_entries_wait_for_the_interval_then_go_in_one_batch(
    store: SqliteStore, clock: StillClock
) -> None:
    # the writer's clock held still: no interval passes, so nothing is written until the
    # journal is read (on the wall clock a loaded machine lets one pass at any moment)
    for n in (1, 2, 3):
        store.append_journal({"n": n}, keep=5)
    time.sleep(0.1)  # the writer thread wakes several times
    assert _rows(store) == []
    assert store.journal(5) == [{"n": 3}, {"n": 2}, {"n": 1}]
    assert [len(list(packing.unpack_batch(row)[1])) for row in _rows(store)] == [3]


def test_a_batch_says_how_many_entries_the_journal_keeps() -> None:
    blob = packing.pack_batch([{"n": 1}, {"n": 2}, {"n": 3}], keep=2)
    keep, entries = packing.unpack_batch(blob)
    assert (keep, list(entries)) == (2, [{"n": 3}, {"n": 2}, {"n": 1}])
    keep, entries = packing.unpack_batch('{"n": 1}')
    assert (keep, list(entries)) == (None, [{"n": 1}])  # a row from before batches


def test_a_file_from_before_batches_gets_its_sizes_and_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the journal table as it was
        conn.execute(
            "CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)"
        )
        conn.executemany("INSERT INTO journal (entry) VALUES (?)", [('{"n":1}',), ('{"n":2}',)])
    store = SqliteStore(path)
    try:
        assert store.journal(10) == [{"n": 2}, {"n": 1}]
        for n in range(3, 6):
            store.append_journal({"n": n}, keep=3)
        assert store.journal(10) == [{"n": 5}, {"n": 4}, {"n": 3}]
        store.append_journal({"n": 6}, keep=3)
        store.journal(1)
        with sqlite3.connect(path) as conn:  # the old rows went once 3 newer entries held
            assert conn.execute("SELECT SUM(n) FROM journal").fetchone() <= (4,)
    finally:
        store.close()
    assert _trim_reads_only_the_index(path)


def _trim_reads_only_the_index(path: Path) -> bool:
    """The journal's trim sums `n` from an index, never from the rows (where `n` sits after
    a batch's overflow pages: reading it walked them all, ~3x the trim's time)."""
    with sqlite3.connect(path) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT seq, SUM(n) OVER (ORDER BY seq DESC) FROM journal"
        ).fetchall()
    return any("COVERING INDEX journal_sizes" in str(row[-1]) for row in plan)


def test_the_journal_trim_reads_only_the_index(store: SqliteStore) -> None:
    assert _trim_reads_only_the_index(store.path)


def test_reading_the_newest_entries_formats_only_those(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the dashboard asks for the newest entry every tick: not for a whole batch's
    for n in range(100):
        store.append_journal({"n": n}, keep=1000)
    store.journal(0)  # written, as one batch
    formatted: list[Any] = []
    entry_of = packing._entry
    monkeypatch.setattr(packing, "_entry", lambda item: formatted.append(item) or entry_of(item))

    assert store.journal(2) == [{"n": 99}, {"n": 98}]
    assert len(formatted) == 2


def test_two_workers_entries_read_in_the_order_they_were_made(tmp_path: Path) -> None:
    # each worker commits its batch up to 20 ms after its first entry: batches overlap
    first, second = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    try:
        first.append_journal({"n": 1, "at": "2026-12-03T09:00:00.001Z"}, keep=10)
        second.append_journal({"n": 2, "at": "2026-12-03T09:00:00.002Z"}, keep=10)
        first.append_journal({"n": 3, "at": "2026-12-03T09:00:00.003Z"}, keep=10)
        second.journal(0)  # the second worker's batch is committed first
        first.journal(0)
        assert [e["n"] for e in second.journal(10)] == [3, 2, 1]
    finally:
        first.close()
        second.close()
