"""Pick the store implementation for a config: memory by default, SQLite with a state file."""

from __future__ import annotations

from pathlib import Path

from mock_server.store.base import Store


def open_store(state: Path | None) -> Store:
    """MemoryStore for None, SqliteStore(state) otherwise."""
    if state is None:
        from mock_server.store.memory import MemoryStore

        return MemoryStore()
    from mock_server.store.sqlite import SqliteStore

    return SqliteStore(state)
