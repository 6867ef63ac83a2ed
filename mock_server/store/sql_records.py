"""The records' and meta values' SQL that both database stores run (SqliteStore and
PostgresStore): one text per statement and one way of turning rows into Records, so the two
stores cannot drift apart in what they answer.

Each store keeps its connections, transactions, locks and caches: every method here runs its
statements on the connection it is given, inside whatever transaction the caller holds.
Statements are written with `?` marks (sqlite3's paramstyle) and handed to each driver in
its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from mock_server.store.base import DocChange, Record, decode, encode_doc

#: The records table after its `seq` column (whose type each database names its own way).
#: It is PostgreSQL's first migration and what every SQLite file was created with: a
#: change to it is a new migration step there and an ALTER of old files here, never an edit.
RECORDS_TABLE = """
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    doc TEXT NOT NULL,
    version INTEGER NOT NULL,
    UNIQUE (kind, id)
"""

#: The meta table and the index of one tenant's records, in both databases.
META_TABLE = "meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
TENANT_INDEX = "records_by_tenant ON records (kind, tenant, seq)"

_COLUMNS = "kind, id, tenant, doc, version, seq"

_SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_MAKE_META = "INSERT INTO meta (key, value) VALUES (?, 'null') ON CONFLICT (key) DO NOTHING"

Row = tuple[Any, ...]


class Rows(Protocol):
    """What both drivers' cursors answer (sqlite3.Cursor, psycopg.Cursor)."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Sequence[Any]: ...

    @property
    def rowcount(self) -> int: ...


class Connection(Protocol):
    """What both drivers' connections answer (sqlite3.Connection, psycopg.Connection)."""

    def execute(self, sql: str, params: Sequence[Any], /) -> Rows: ...


def record(row: Row) -> Record:
    """A Record of a row of `_COLUMNS`."""
    kind, id, tenant, text, version, seq = row
    return Record(kind, id, tenant, text, version, seq)


def _by_id(kind: str, id: str) -> tuple[str, tuple[Any, ...]]:
    return "kind = ? AND id = ?", (kind, id)


def _of_tenant(
    condition: str, args: tuple[Any, ...], tenant: str | None
) -> tuple[str, tuple[Any, ...]]:
    """`condition` narrowed to one tenant's records, unless `tenant` is None (any)."""
    return (condition, args) if tenant is None else (f"{condition} AND tenant = ?", (*args, tenant))


class RecordSql:
    """The statements in one database's dialect.

    `mark`: the driver's parameter placeholder. `lock`: what a read that a write follows
    adds to lock its rows until the commit (" FOR UPDATE" in PostgreSQL, where writers lock
    rows; nothing in SQLite, whose write transaction holds the whole file). `no_limit`: the
    LIMIT that limits nothing (-1 in SQLite, NULL in PostgreSQL).
    """

    def __init__(self, mark: str = "?", lock: str = "", no_limit: int | None = -1) -> None:
        self._mark = mark
        self._lock = lock
        self._no_limit = no_limit

    def _sql(self, text: str) -> str:
        return text if self._mark == "?" else text.replace("?", self._mark)

    def _select(
        self,
        conn: Connection,
        where: tuple[str, tuple[Any, ...]],
        tenant: str | None,
        tail: tuple[str, tuple[Any, ...]] = ("", ()),
    ) -> Rows:
        """The rows of the records WHERE `where` (a condition and its arguments), of
        `tenant` unless it is None, then `tail` (an ORDER BY ... LIMIT, or the lock)."""
        condition, args = _of_tenant(*where, tenant)
        sql = f"SELECT {_COLUMNS} FROM records WHERE {condition}{tail[0]}"
        return conn.execute(self._sql(sql), (*args, *tail[1]))

    # --- records -------------------------------------------------------------------------

    def get(self, conn: Connection, kind: str, id: str, tenant: str | None) -> Row | None:
        """The record's row (a cache may keep it; `record` makes each reader's Record)."""
        row: Row | None = self._select(conn, _by_id(kind, id), tenant).fetchone()
        return row

    def list(
        self, conn: Connection, kind: str, tenant: str | None, limit: int | None
    ) -> Sequence[Record]:
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        last = self._no_limit if limit is None else limit
        newest = (" ORDER BY seq DESC LIMIT ?", (last,))
        rows = self._select(conn, ("kind = ?", (kind,)), tenant, newest).fetchall()
        return [record(row) for row in rows]

    def update(
        self, conn: Connection, kind: str, id: str, tenant: str | None, change: DocChange
    ) -> Record | None:
        """`Store.update` in the caller's write transaction: the row is read (and locked)
        first, so no other writer's change comes between the read and the write."""
        row = self._select(conn, _by_id(kind, id), tenant, (self._lock, ())).fetchone()
        if row is None:
            return None
        old = record(row)
        text = encode_doc(change(old.doc))
        conn.execute(
            self._sql("UPDATE records SET doc = ?, version = ? WHERE seq = ?"),
            (text, old.version + 1, old.seq),
        )
        return Record(kind, id, old.tenant, text, old.version + 1, old.seq)

    def delete(self, conn: Connection, kind: str, id: str, tenant: str | None) -> bool:
        condition, args = _of_tenant(*_by_id(kind, id), tenant)
        return conn.execute(self._sql(f"DELETE FROM records WHERE {condition}"), args).rowcount > 0

    def count(self, conn: Connection, kind: str, tenant: str | None) -> int:
        condition, args = _of_tenant("kind = ?", (kind,), tenant)
        sql = f"SELECT COUNT(*) FROM records WHERE {condition}"
        (n,) = conn.execute(self._sql(sql), args).fetchone()
        return int(n)

    def records_after(self, conn: Connection, kind: str, seq: int, limit: int) -> Sequence[Record]:
        # in SQLite a range of the primary key, then the kind; in PostgreSQL records_by_kind
        where = ("seq > ? AND kind = ?", (seq, kind))
        rows = self._select(conn, where, None, (" ORDER BY seq LIMIT ?", (max(limit, 0),)))
        return [record(row) for row in rows.fetchall()]

    # --- meta ----------------------------------------------------------------------------

    def meta_text(self, conn: Connection, key: str) -> str | None:
        row = conn.execute(self._sql("SELECT value FROM meta WHERE key = ?"), (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, conn: Connection, key: str, text: str) -> None:
        conn.execute(self._sql(_SET_META), (key, text))

    def delete_meta(self, conn: Connection, key: str) -> None:
        conn.execute(self._sql("DELETE FROM meta WHERE key = ?"), (key,))

    def update_meta(self, conn: Connection, key: str, change: Callable[[Any | None], Any]) -> Any:
        """`Store.update_meta` in the caller's write transaction. Where writers lock rows,
        the row is made first (a JSON null reads as unset), so that its lock serialises
        every writer of the key, the first one included."""
        if self._lock:
            conn.execute(self._sql(_MAKE_META), (key,))
        row = conn.execute(
            self._sql(f"SELECT value FROM meta WHERE key = ?{self._lock}"), (key,)
        ).fetchone()
        encoded = encode_doc(change(None if row is None else decode(row[0])))
        conn.execute(self._sql(_SET_META), (key, encoded))
        return decode(encoded)
