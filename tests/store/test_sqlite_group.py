"""The SQLite store's group commit (store.sqlite_group): the inserts of one event-loop turn
share one transaction, and no task hears back before that transaction has committed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_server.errors import Conflict
from mock_server.store.sqlite import SqliteStore
from tests.store.helpers import traced_store

pytestmark = pytest.mark.anyio


async def test_the_inserts_of_one_turn_are_one_transaction(tmp_path: Path) -> None:
    store, statements = traced_store(tmp_path / "s.db")
    try:
        statements.clear()
        made = await asyncio.gather(
            *(store.insert_grouped("finetune", "alice", f"j{n}", {"n": n}) for n in range(5))
        )
        assert statements.count("BEGIN IMMEDIATE") == 1
        assert statements.count("COMMIT") == 1
        assert [r.id for r in made] == [f"j{n}" for n in range(5)]

        statements.clear()  # one task alone: a transaction of its own, at once
        await store.insert_grouped("finetune", "alice", "k", {})
        assert statements.count("COMMIT") == 1
    finally:
        store.close()


async def test_a_task_hears_back_only_after_the_commit(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    try:
        seen: list[int] = []

        async def submit(n: int) -> None:
            await store.insert_grouped("finetune", "alice", f"j{n}", {})
            with sqlite3.connect(path) as other:  # another process's view of the file
                (count,) = other.execute("SELECT COUNT(*) FROM records").fetchone()
            seen.append(count)

        await asyncio.gather(*(submit(n) for n in range(3)))
        assert seen == [3, 3, 3]
    finally:
        store.close()


async def test_a_failed_transaction_fails_every_task_of_the_turn(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    blocker = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    try:
        store._connect = _quick_to_give_up(store._connect)  # type: ignore[method-assign]
        store._idle.clear()
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        outcomes = await asyncio.gather(
            *(store.insert_grouped("finetune", "alice", f"j{n}", {}) for n in range(3)),
            return_exceptions=True,
        )
        assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes), outcomes
        blocker.execute("ROLLBACK")
        assert store.count("finetune", None) == 0
        made = await store.insert_grouped("finetune", "alice", "j0", {})  # nothing half-done
        assert made.id == "j0" and store.count("finetune", None) == 1
    finally:
        blocker.close()
        store.close()


def _quick_to_give_up(
    connect: Callable[[], sqlite3.Connection],
) -> Callable[[], sqlite3.Connection]:
    def quick() -> sqlite3.Connection:
        conn = connect()
        conn.execute("PRAGMA busy_timeout = 50")
        return conn

    return quick


async def test_a_cancelled_task_leaves_the_others_their_records(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        first = asyncio.ensure_future(store.insert_grouped("finetune", "alice", "a", {}))
        second = asyncio.ensure_future(store.insert_grouped("finetune", "alice", "b", {}))
        await asyncio.sleep(0)  # both wait for the turn's transaction
        first.cancel()
        assert (await second).id == "b"
        with pytest.raises(asyncio.CancelledError):
            await first
        # the cancelled one was written with the turn (as a submit answered too late would be)
        assert store.count("finetune", None) == 2
    finally:
        store.close()


async def test_a_conflict_is_that_tasks_alone(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        store.insert("finetune", "alice", "taken", {})
        outcomes = await asyncio.gather(
            store.insert_grouped("finetune", "bob", "taken", {}),
            store.insert_grouped("finetune", "bob", "free", {}),
            return_exceptions=True,
        )
        assert isinstance(outcomes[0], Conflict)
        assert store.get("finetune", "free", "bob") == outcomes[1]
        assert store.get("finetune", "taken", None).tenant == "alice"  # type: ignore[union-attr]
    finally:
        store.close()
