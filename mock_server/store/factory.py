"""Pick the store implementation for a config: memory by default, SQLite with a state file,
PostgreSQL with a postgresql:// URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mock_server.errors import ConfigError
from mock_server.store.base import Store


def open_store(state: Path | str | None) -> Store:
    """MemoryStore for None, PostgresStore for a postgresql:// URL, SqliteStore otherwise."""
    if state is None:
        from mock_server.store.memory import MemoryStore

        return MemoryStore()
    if is_database_url(state):
        try:  # imported only here: psycopg is an optional extra
            from mock_server.store.postgres import PostgresStore
        except ImportError as exc:
            raise ConfigError(
                f"--state {redacted(str(state))} needs psycopg: pip install 'tunemock[postgres]'"
            ) from exc

        return PostgresStore(str(state))
    from mock_server.store.sqlite import SqliteStore

    return SqliteStore(Path(state))


def is_database_url(state: object) -> bool:
    """Whether a --state value names a PostgreSQL database rather than a SQLite file."""
    return isinstance(state, str) and state.startswith(("postgresql://", "postgres://"))


def described(state: Path | str | None) -> str:
    """Where the state lives, for a banner or /_mock/health (never a password)."""
    if state is None:
        return "memory"
    return redacted(state) if isinstance(state, str) else str(state)


def redacted(url: str) -> str:
    """A database URL without its password, fit for a banner or a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
