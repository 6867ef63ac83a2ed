"""State behind one interface: `Store`; `MemoryStore` by default, `SqliteStore` with --state."""

from mock_server.store.base import Record, Store
from mock_server.store.factory import open_store

__all__ = ["Record", "Store", "open_store"]
