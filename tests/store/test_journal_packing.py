"""Journal entries in the SQLite file (store.packing): the edge's entries go packed, as
marshal bytes, and read back exactly as the memory store formats them; a row that cannot
be read back is skipped, and the rest of the journal still reads."""

from __future__ import annotations

import json
import logging
import marshal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response

from mock_server.http.capture import Exchange, JournalEntry
from mock_server.store import packing
from mock_server.store.base import encode
from mock_server.store.memory import MemoryStore
from mock_server.store.sqlite import SqliteStore


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


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "s.db")
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
    assert read[0]["request"]["headers"][0] == ["x-api-key", "secr…23"]  # masked
    assert "hunter22" not in read[0]["request"]["body"]
    [row] = _rows(store)
    assert isinstance(row, bytes) and b"hunter22" in row  # packed as it came; masked on read
    assert isinstance(read[0], dict)


@pytest.mark.anyio
async def test_unreadable_rows_are_skipped_and_the_rest_reads(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    good = await _entry()
    bad_rows: list[Any] = [
        b"\x00not marshal",
        marshal.dumps(("no-such-codec/9", ())),
        marshal.dumps(("journal-entry/1", ("too", "short"))),
        marshal.dumps(("journal-entry/1", (("a",), (1, 2), 1.0, ((), b"", 0, (), b"", 0)))),
        marshal.dumps(("journal-entry/1", (("a",), (1,), 1.0, ((1, 2), b"", 0, (), b"", 0)))),
        "[1, 2]",  # JSON, not an object
        "{not json",
    ]
    store.append_journal(good, keep=50)
    store.journal(1)  # written
    with sqlite3.connect(store.path) as conn:
        conn.executemany("INSERT INTO journal (entry) VALUES (?)", [(r,) for r in bad_rows])
        conn.execute("INSERT INTO journal (entry) VALUES (?)", ('{"n": "old text row"}',))

    with caplog.at_level(logging.WARNING, logger="tunemock"):
        read = store.journal(50)

    assert read[0] == {"n": "old text row"}  # a file from before packing still reads
    assert read[1]["method"] == "POST" and len(read) == 2
    assert caplog.text.count("skipped an entry") == len(bad_rows)


def test_an_entry_marshal_cannot_take_goes_as_json(store: SqliteStore) -> None:
    class Odd(dict[str, Any]):
        def packed(self) -> tuple[str, Any]:
            return "journal-entry/1", (object(),)  # marshal refuses an object

    store.append_journal(Odd(n=1), keep=5)
    assert store.journal(5) == [{"n": 1}]
    assert _rows(store) == ['{"n":1}']


def test_pack_keeps_plain_mappings_as_json() -> None:
    assert packing.pack({"n": 1}) == '{"n":1}'
    assert packing.unpack('{"n":1}') == {"n": 1}
