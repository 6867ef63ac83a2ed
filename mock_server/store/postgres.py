"""The shared store (--state postgresql://...): one PostgreSQL database that several tunemock
instances, on one host or many, use at once; every piece of state (records, meta, the
journal, the due queue) lives there, none in a process.

Atomicity comes from the database: a read-change-write (`update`, `update_meta`) holds the
row's lock (SELECT ... FOR UPDATE) from its read to its commit, so two instances changing
one job, one delivery's lease or one key's credits take turns, and neither change is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import psycopg
import psycopg_pool

from mock_server.errors import ConfigError, Conflict, StateUnavailable
from mock_server.store.base import DocChange, Record, decode, encode_doc
from mock_server.store.factory import redacted
from mock_server.store.packing import newest_entries
from mock_server.store.postgres_changes import NOTIFY, ChangeMark
from mock_server.store.postgres_schema import NewerSchema, migrate
from mock_server.store.sql_records import RecordSql, record
from mock_server.store.sqlite_journal import TRIM, JournalWriter

_CONNECT_SECONDS = 15
_POOL_SIZE = 16  # connections per instance; PostgreSQL's default allows 100 in all
# rows a write reads are locked until its commit; LIMIT NULL limits nothing
_SQL = RecordSql(mark="%s", lock=" FOR UPDATE", no_limit=None)

Conn = psycopg.Connection[tuple[Any, ...]]


class PostgresStore:
    """`Store` in one PostgreSQL database, shared by every instance pointed at it."""

    writes_may_wait = True  # row locks and the network

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            # one connection first: a wrong URL or a missing database is its own error at
            # once (a pool would retry until its timeout), and the schema is there after it
            with psycopg.connect(url, autocommit=True, connect_timeout=_CONNECT_SECONDS) as conn:
                migrate(conn)
        except (psycopg.Error, NewerSchema) as exc:
            raise ConfigError(f"--state {redacted(url)}: {exc}") from exc
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=2,
            max_size=_POOL_SIZE,
            kwargs={"autocommit": True},  # reads need no transaction; writes open their own
            timeout=_CONNECT_SECONDS,  # a request waits this long for a connection, then 503
            open=False,
        )
        self._pool.open(wait=True, timeout=_CONNECT_SECONDS)
        self._mark = ChangeMark(url)
        self._journal = JournalWriter(self._store_journal_batch)

    def _store_journal_batch(self, batch: bytes, n: int, keep: int) -> None:
        """The journal writer's one transaction (no change notification: the journal is
        not state the dashboard's live parts or the dispatcher wait on)."""
        with self._write(notify=False) as conn:
            conn.execute("INSERT INTO journal (entry, n) VALUES (%s, %s)", (batch, n))
            conn.execute(TRIM.replace("?", "%s"), (keep,))

    @contextmanager
    def _read(self) -> Iterator[Conn]:
        with self._unavailable_as_503(), self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _write(self, notify: bool = True) -> Iterator[Conn]:
        """One transaction; committed with a notification to every instance's change mark
        (`notify`), rolled back if the block raises."""
        with self._unavailable_as_503(), self._pool.connection() as conn, conn.transaction():
            yield conn
            if notify:
                conn.execute(NOTIFY)
        if notify:
            self._mark.bump()

    @contextmanager
    def _unavailable_as_503(self) -> Iterator[None]:
        """A lost or refused connection is StateUnavailable (503, retry), not a bug (500):
        the pool drops a broken connection and opens new ones when the server is back."""
        try:
            yield
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StateUnavailable(
                f"The mock's state database is unavailable ({redacted(self.url)}): {first}"
            ) from exc

    # --- records -------------------------------------------------------------------------

    def insert(
        self,
        kind: str,
        tenant: str,
        id: str,
        doc: Mapping[str, Any],
        due: Mapping[str, float] | None = None,
    ) -> Record:
        text = encode_doc(doc)
        with self._write() as conn:
            # Inserts of one kind take turns, so seqs are committed in their order: a reader
            # of `records_after` (the dispatcher's feed, in any instance) never passes a seq
            # whose record commits later.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (kind,))
            row = conn.execute(
                "INSERT INTO records (kind, id, tenant, doc, version) VALUES (%s, %s, %s, %s, 1)"
                " ON CONFLICT (kind, id) DO NOTHING RETURNING seq",
                (kind, id, tenant, text),
            ).fetchone()
            if row is None:
                raise Conflict(f"{kind} {id!r} exists already")
            if due:
                _schedule(conn, due)
        return Record(kind, id, tenant, text, 1, int(row[0]))

    def get(self, kind: str, id: str, tenant: str | None) -> Record | None:
        with self._read() as conn:
            row = _SQL.get(conn, kind, id, tenant)
        return None if row is None else record(row)

    def list(self, kind: str, tenant: str | None, limit: int | None = None) -> Sequence[Record]:
        with self._read() as conn:
            return _SQL.list(conn, kind, tenant, limit)

    def update(self, kind: str, id: str, tenant: str | None, change: DocChange) -> Record | None:
        with self._write() as conn:
            return _SQL.update(conn, kind, id, tenant, change)

    def delete(self, kind: str, id: str, tenant: str | None) -> bool:
        with self._write() as conn:
            return _SQL.delete(conn, kind, id, tenant)

    def count(self, kind: str, tenant: str | None) -> int:
        with self._read() as conn:
            return _SQL.count(conn, kind, tenant)

    def records_after(self, kind: str, seq: int, limit: int) -> Sequence[Record]:
        with self._read() as conn:
            return _SQL.records_after(conn, kind, seq, limit)

    # --- meta ----------------------------------------------------------------------------

    def get_meta(self, key: str) -> Any | None:
        with self._read() as conn:
            text = _SQL.meta_text(conn, key)
        return None if text is None else decode(text)

    def set_meta(self, key: str, value: Any) -> None:
        text = encode_doc(value)
        with self._write() as conn:
            _SQL.set_meta(conn, key, text)

    def delete_meta(self, key: str) -> None:
        with self._write() as conn:
            _SQL.delete_meta(conn, key)

    def update_meta(self, key: str, change: Callable[[Any | None], Any]) -> Any:
        with self._write() as conn:
            return _SQL.update_meta(conn, key, change)

    # --- journal -------------------------------------------------------------------------

    def append_journal(self, entry: Mapping[str, Any], keep: int) -> None:
        """Batched as SqliteStore's journal is: one transaction per ~20 ms of requests, not
        one per request, off the request's path."""
        self._journal.append(entry, keep)

    def journal(self, limit: int) -> Sequence[Mapping[str, Any]]:
        self._journal.flush()  # this process's own entries, however recent
        with self._read() as conn:
            # only the newest batches that hold `limit` entries: the dashboard's live view
            # asks for the newest one every 0.4 s
            rows = conn.execute(
                "SELECT entry FROM (SELECT seq, entry, SUM(n) OVER (ORDER BY seq DESC) - n"
                " AS newer FROM journal) AS sizes WHERE newer < %s ORDER BY seq DESC",
                (max(limit, 0),),
            ).fetchall()
        return newest_entries((stored for (stored,) in rows), limit)

    # --- due queue -----------------------------------------------------------------------

    def schedule(self, entries: Mapping[str, float]) -> None:
        if not entries:
            return
        with self._write() as conn:
            _schedule(conn, entries)

    def unschedule(self, keys: Sequence[str]) -> None:
        if keys:
            with self._write(notify=False) as conn:
                conn.execute("DELETE FROM due WHERE key = ANY(%s)", (sorted(set(keys)),))

    def due(self, now: float, limit: int) -> Sequence[str]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT key FROM due WHERE at <= %s ORDER BY at LIMIT %s", (now, max(limit, 0))
            ).fetchall()
        return [str(key) for (key,) in rows]

    def next_due(self) -> float | None:
        with self._read() as conn:
            row = conn.execute("SELECT MIN(at) FROM due").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # --- the rest ------------------------------------------------------------------------

    def changes(self) -> Hashable:
        return self._mark.value()

    def view(self) -> AbstractContextManager[None]:
        return nullcontext()  # every read asks the database

    def reset(self) -> None:
        self._journal.drop_pending()
        with self._write() as conn:
            # seqs restart like a fresh database's, as the other stores' do
            conn.execute("TRUNCATE records, meta, journal, due RESTART IDENTITY")

    def close(self) -> None:
        """Write the journal's last batch, stop listening, close every connection."""
        self._journal.close()
        self._mark.close()
        self._pool.close()


def _schedule(conn: Conn, entries: Mapping[str, float]) -> None:
    with conn.cursor() as cursor:
        # in key order: two instances scheduling overlapping keys lock them in one order
        cursor.executemany(
            "INSERT INTO due (key, at) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET at = excluded.at",
            [(key, float(entries[key])) for key in sorted(entries)],
        )
