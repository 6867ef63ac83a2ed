"""Views of the SQLite read cache (`Store.view`): a request asks the file whether it changed
once for all its reads, sees every commit that returned before its first read and its own
process's writes at once, and overlapping requests never take the cache back."""

from __future__ import annotations

import contextvars
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mock_server.store import sqlite_cache
from mock_server.store.sqlite import SqliteStore
from mock_server.store.sqlite_cache import ReadCache
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A, running_app
from tests.store.helpers import cache_on, new_request, traced_connect


def _asks(statements: list[str]) -> int:
    return statements.count("PRAGMA data_version")


def test_a_view_asks_the_file_once_for_all_its_reads(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.db").close()
    statements: list[str] = []
    cache = ReadCache(traced_connect(tmp_path / "s.db", statements))
    for key in ("clock", "faults", "job"):
        cache.read("r", key, lambda: "filled")
    before = _asks(statements)

    def request() -> list[str]:
        with cache.view():
            return [
                cache.read("r", key, lambda: "not read: cached")
                for key in ("clock", "faults", "job")
            ]

    assert new_request(request) == ["filled"] * 3
    assert _asks(statements) - before == 1
    assert new_request(request) == ["filled"] * 3
    assert _asks(statements) - before == 2  # the next request asks again
    cache.close()


def test_a_view_sees_every_commit_that_returned_before_its_first_read(tmp_path: Path) -> None:
    cache, writer = cache_on(tmp_path / "s.db")
    assert new_request(lambda: cache.read("r", "k", lambda: "old")) == "old"
    writer.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")  # another process

    def request() -> str:
        with cache.view():
            return cache.read("r", "k", lambda: "new")

    assert new_request(request) == "new"
    cache.close()
    writer.close()


def test_a_view_reads_its_own_processs_writes_at_once(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")

    def request() -> list[Any]:
        with store.view():
            seen = [store.get_meta("k"), store.count("finetune", None)]
            store.set_meta("k", 1)
            store.insert("finetune", "alice", "a", {})
            record = store.get("finetune", "a", "alice")
            return [*seen, store.get_meta("k"), store.count("finetune", None), record is not None]

    try:
        assert new_request(request) == [None, 0, 1, 1, True]
    finally:
        store.close()


def test_a_view_that_finds_the_cache_moved_on_asks_again(tmp_path: Path) -> None:
    """Two requests of one process overlap, and the later one sees another process's commit:
    the earlier one, reading again, asks the file too, and never takes the cache back to
    the mark it saw first (which would empty it for every request after)."""
    cache, writer = cache_on(tmp_path / "s.db")
    earlier = contextvars.Context()
    view = cache.view()
    earlier.run(view.__enter__)
    assert earlier.run(cache.read, "r", "k", lambda: "old") == "old"
    writer.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")  # another process

    def later() -> str:
        with cache.view():
            return cache.read("r", "j", lambda: "j")

    assert new_request(later) == "j"
    assert earlier.run(cache.read, "r", "k", lambda: "new") == "new"
    assert new_request(lambda: cache.read("r", "j", lambda: "not read: cached")) == "j"
    earlier.run(view.__exit__, None, None, None)
    cache.close()
    writer.close()


@pytest.mark.anyio
async def test_a_served_request_asks_the_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edge opens one view a vendor request: a details poll reads the clock, the fault
    rules and the job, and asks SQLite whether the file changed once."""
    asks: list[int] = []
    real = sqlite_cache.data_version

    def counted(conn: sqlite3.Connection) -> int:
        asks.append(1)
        return real(conn)

    async with running_app(KEY_A, state=tmp_path / "state.sqlite") as client:
        made = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        job = {"request_id": made.json()["finetune_id"]}
        monkeypatch.setattr(sqlite_cache, "data_version", counted)
        seen = []
        for _ in range(2):
            asks.clear()
            answer = await client.request("GET", "/finetune/request/details", json=job)
            seen += [answer.status_code, len(asks)]
    assert seen == [200, 1, 200, 1]
