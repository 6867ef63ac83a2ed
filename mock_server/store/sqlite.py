"""The durable store (--state FILE): one SQLite file shared by every thread and worker process,
surviving restarts and kill -9."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from mock_server.errors import Conflict
from mock_server.store import sqlite_due
from mock_server.store.base import DocChange, Record, decode, encode_doc
from mock_server.store.packing import newest_entries
from mock_server.store.sql_records import (
    META_TABLE,
    RECORDS_TABLE,
    TENANT_INDEX,
    RecordSql,
    Row,
    record,
)
from mock_server.store.sqlite_cache import ReadCache
from mock_server.store.sqlite_journal import JournalWriter, sqlite_batches

_BUSY_TIMEOUT_MS = 10_000

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT,{RECORDS_TABLE});
CREATE INDEX IF NOT EXISTS {TENANT_INDEX};
CREATE TABLE IF NOT EXISTS {META_TABLE};
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entry TEXT NOT NULL, -- a batch of entries (store.packing), or one entry's JSON text
    n INTEGER NOT NULL DEFAULT 1 -- how many entries
);
"""

_SQL = RecordSql()  # sqlite3's `?` marks; the write transaction holds the whole file
_JOURNAL = "tunemock.request-journal"  # the journal's region in the read cache (not a kind)


def _add_batch_sizes(conn: sqlite3.Connection) -> None:
    """A file from before journal batches: its journal table gets the batch size column
    (each old row holds one entry)."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(journal)")]
    if "n" not in columns:
        conn.execute("ALTER TABLE journal ADD COLUMN n INTEGER NOT NULL DEFAULT 1")


class SqliteStore(sqlite_due.DueQueue):
    """`Store` in one SQLite file (WAL, synchronous=NORMAL).

    Connections come from a small pool instead of one per thread: the server's worker threads
    come and go (anyio retires idle ones), and per-thread connections would pile up. Every
    write that reads first runs in BEGIN IMMEDIATE, which takes the file's write lock up
    front, so read-change-write is atomic across processes too. Each process opens its own
    SqliteStore (as uvicorn's spawned workers do): SQLite connections must not cross a fork.
    """

    writes_may_wait = True  # the file's write lock, up to the busy timeout

    def __init__(self, path: Path, journal_clock: Callable[[], float] = time.monotonic) -> None:
        """`journal_clock` times the journal's batches (tests hold it still: a batch then
        closes only when read, whatever the machine's load)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # This process's writers queue here, in turn, for the file's write lock. Left to
        # SQLite, the threads of one process waiting for it poll with growing sleeps (its
        # busy handler, up to 100 ms a sleep), and a submit among 32 could wait a second
        # while others got in; across processes that polling is still how they wait.
        self._writing = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._in_use = 0  # connections out of the pool
        self._closed = False
        self._cache = ReadCache(self._connect)
        # the request journal, written in batches; a region of its own, which nothing reads
        # through the cache: its batches leave the values read before them in place
        self._journal = JournalWriter(
            sqlite_batches(lambda: self._write(_JOURNAL)), clock=journal_clock
        )
        try:
            self._initialise()
        except BaseException:
            self.close()
            raise

    def _initialise(self) -> None:
        """WAL mode and the schema. Two workers opening a fresh file race here, and SQLite
        answers a journal-mode switch it cannot take at once with "database is locked"
        without waiting (the busy timeout does not cover it), so it is retried."""
        deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                with self._connection() as conn:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.executescript(_SCHEMA)
                    _add_batch_sizes(conn)
                    conn.executescript(sqlite_due.SCHEMA)
                    # the journal's trim sums `n` over every row: from this index, without
                    # reading past each row's batch (`n` is stored after it, and reading it
                    # from the row walks the batch's overflow pages)
                    conn.execute("CREATE INDEX IF NOT EXISTS journal_sizes ON journal (seq, n)")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; the ones below are explicit.
        conn = sqlite3.connect(
            self.path,
            timeout=_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            # NORMAL in WAL mode: a commit is in the log (the OS's page cache) before it is
            # acknowledged, so it survives kill -9 and a crash of the process, which is what
            # --state promises; the log is fsync'd at checkpoints, so a power loss can take
            # the newest commits but never corrupts the file. FULL (an fsync per commit)
            # made every submit wait for the disk: half its time, and 32 concurrent submits
            # queued behind each other's fsyncs.
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError(f"store {self.path} is closed")
            conn = self._idle.pop() if self._idle else None
            self._in_use += 1
        try:
            if conn is None:
                conn = self._connect()
            yield conn
        finally:
            with self._lock:
                self._in_use -= 1
                if conn is not None:  # None: connect() failed
                    if self._closed:
                        conn.close()
                    else:
                        self._idle.append(conn)

    @contextmanager
    def _write(self, region: str | None) -> Iterator[sqlite3.Connection]:
        """A transaction holding the file's write lock from its first statement. `region`:
        what it may change, which the read cache forgets (store.sqlite_cache): a kind's
        records, or one meta key (their regions are their names; a meta key named like a
        kind would only make both forgotten together); None: anything."""
        with self._writing, self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                start = self._cache.before_write(conn)
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # the connection goes back to the pool: leave it clean
                    conn.execute("ROLLBACK")
                self._cache.forget()
                raise
            self._cache.after_write(conn, start, region)

    def insert(
        self,
        kind: str,
        tenant: str,
        id: str,
        doc: Mapping[str, Any],
        due: Mapping[str, float] | None = None,
    ) -> Record:
        text = encode_doc(doc)
        try:
            with self._write(kind) as conn:
                cursor = conn.execute(
                    "INSERT INTO records (kind, id, tenant, doc, version) VALUES (?, ?, ?, ?, 1)",
                    (kind, id, tenant, text),
                )
                if due:  # the due queue is never cached: the kind's region is all to forget
                    sqlite_due.schedule(conn, due)
        except sqlite3.IntegrityError:  # the transaction is rolled back: nothing written
            raise Conflict(f"{kind} {id!r} exists already") from None
        assert cursor.lastrowid is not None  # an INSERT that wrote always sets it
        return Record(kind, id, tenant, text, 1, cursor.lastrowid)

    def get(self, kind: str, id: str, tenant: str | None) -> Record | None:
        row = self._cache.read(kind, ("get", kind, id, tenant), self._get, kind, id, tenant)
        return None if row is None else record(row)  # each reader's own Record (its doc)

    def _get(self, kind: str, id: str, tenant: str | None) -> Row | None:
        with self._connection() as conn:
            return _SQL.get(conn, kind, id, tenant)

    def list(self, kind: str, tenant: str | None, limit: int | None = None) -> Sequence[Record]:
        with self._connection() as conn:
            return _SQL.list(conn, kind, tenant, limit)

    def update(self, kind: str, id: str, tenant: str | None, change: DocChange) -> Record | None:
        with self._write(kind) as conn:
            return _SQL.update(conn, kind, id, tenant, change)

    def delete(self, kind: str, id: str, tenant: str | None) -> bool:
        with self._write(kind) as conn:
            return _SQL.delete(conn, kind, id, tenant)

    def count(self, kind: str, tenant: str | None) -> int:
        return self._cache.read(kind, ("count", kind, tenant), self._count, kind, tenant)

    def _count(self, kind: str, tenant: str | None) -> int:
        with self._connection() as conn:
            return _SQL.count(conn, kind, tenant)

    def get_meta(self, key: str) -> Any | None:
        text = self._cache.read(key, key, self._meta_text, key)
        return None if text is None else decode(text)  # each reader's own copy

    def _meta_text(self, key: str) -> str | None:
        with self._connection() as conn:
            return _SQL.meta_text(conn, key)

    def set_meta(self, key: str, value: Any) -> None:
        text = encode_doc(value)
        with self._write(key) as conn:
            _SQL.set_meta(conn, key, text)

    def delete_meta(self, key: str) -> None:
        with self._write(key) as conn:
            _SQL.delete_meta(conn, key)

    def update_meta(self, key: str, change: Callable[[Any | None], Any]) -> Any:
        with self._write(key) as conn:
            return _SQL.update_meta(conn, key, change)

    def append_journal(self, entry: Mapping[str, Any], keep: int) -> None:
        """Batched (store.sqlite_journal): every request writes an entry, and a transaction
        each made SQLite the mock's bottleneck. The journal's own thread writes it to the file
        within about one batch interval (another process sees it then, and a kill -9 can
        take that last while), packed as it was made and formatted only when read
        (store.packing)."""
        self._journal.append(entry, keep)

    def journal(self, limit: int) -> Sequence[Mapping[str, Any]]:
        self._journal.flush()  # this process's own entries, however recent
        with self._connection() as conn:
            rows = conn.execute("SELECT entry FROM journal ORDER BY seq DESC")
            return newest_entries((stored for (stored,) in rows), limit)  # reads what it needs

    def reset(self) -> None:
        self._journal.drop_pending()
        with self._write(None) as conn:
            conn.execute("DELETE FROM records")
            conn.execute("DELETE FROM meta")
            conn.execute("DELETE FROM journal")
            conn.execute("DELETE FROM due")
            # seqs restart like a fresh file's, as MemoryStore's counter does
            conn.execute("DELETE FROM sqlite_sequence")

    def records_after(self, kind: str, seq: int, limit: int) -> Sequence[Record]:
        with self._connection() as conn:
            return _SQL.records_after(conn, kind, seq, limit)

    def changes(self) -> Hashable:
        return self._cache.changes()

    def view(self) -> AbstractContextManager[None]:
        return self._cache.view()

    def close(self) -> None:
        """Write the journal's last batch, then close every pooled connection; one still in
        use closes when its call returns."""
        self._journal.close()
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        self._cache.close()
