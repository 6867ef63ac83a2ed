"""What only a file can promise, beyond the `Store` contract (test_store_contract.py): the
state outlives the process, several processes write it at once and lose nothing, an
acknowledged write survives kill -9, and the request journal reaches the file from its own
thread."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from mock_server.store.packing import unpack_batch
from mock_server.store.sqlite import SqliteStore
from mock_server.store.sqlite_journal import JournalWriter, sqlite_batches
from tests.store.helpers import set_field

ROOT = Path(__file__).resolve().parents[2]


# --- SQLite only: the file outlives the process ----------------------------------------------


def test_sqlite_keeps_everything_across_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    first = SqliteStore(path)
    made = first.insert("finetune", "alice", "a", {"v": [1, {"x": None}]})
    first.update("finetune", "a", None, set_field("status", "done"))
    first.set_meta("clock", {"offset": 3})
    first.append_journal({"n": 1}, keep=5)
    first.close()
    with pytest.raises(Exception, match="closed"):
        first.get("finetune", "a", None)

    second = SqliteStore(path)
    try:
        kept = second.get("finetune", "a", "alice")
        assert kept is not None
        assert (kept.doc, kept.version) == ({"v": [1, {"x": None}], "status": "done"}, 2)
        assert second.get_meta("clock") == {"offset": 3}
        assert second.journal(5) == [{"n": 1}]
        assert second.insert("finetune", "alice", "b", {}).seq > made.seq
    finally:
        second.close()


_WORKER = """
import sys, time
from pathlib import Path
from types import MappingProxyType
from mock_server.store.sqlite import SqliteStore

path, job, name = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

def bump(doc):
    n = doc["n"]
    time.sleep(0.001)  # widen the read-write window: a non-atomic update would lose counts
    return {"n": n + 1}

store = SqliteStore(path)
try:
    (path.parent / f"ready-{name}").touch()
    while not (path.parent / "go").exists():
        time.sleep(0.001)
    for i in range(100):
        if job == "update":
            store.update("counter", "c", None, bump)
        elif job == "update_meta":
            store.update_meta("n", lambda old: bump({"n": old or 0})["n"])
        elif job == "insert":
            store.insert("job", name, f"{name}-{i}", {"i": i})
    if job == "acknowledge":
        for i in range(50):
            store.insert("job", name, f"{name}-{i}", {"i": i})
        (path.parent / f"acknowledged-{name}").touch()
        time.sleep(60)
finally:
    store.close()
"""


class Workers:
    """Processes running _WORKER on one file; whatever is still running at teardown is killed,
    so a failing test fails instead of hanging."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, path: Path, job: str, names: list[str]) -> None:
        """One process per name; all open the store first, then work at the same moment."""
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-W", "error", "-c", _WORKER, str(path), job, name],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in names
        ]
        self.wait_for(path.parent, [f"ready-{name}" for name in names])
        (path.parent / "go").touch()

    def wait_for(self, folder: Path, files: list[str]) -> None:
        deadline = time.monotonic() + 30
        while not all((folder / name).exists() for name in files):
            for proc in self.procs:
                assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, f"workers never wrote {files}"
            time.sleep(0.005)

    def finish(self) -> None:
        for proc in self.procs:
            err = proc.communicate(timeout=60)[1]
            assert (proc.returncode, err) == (0, "")

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            if proc.stderr is not None and not proc.stderr.closed:  # not read yet
                proc.communicate()
            else:
                proc.wait()


@pytest.fixture
def workers() -> Iterator[Workers]:
    started = Workers()
    yield started
    started.kill_all()


def test_sqlite_updates_from_two_processes_are_atomic(tmp_path: Path, workers: Workers) -> None:
    path = tmp_path / "s.db"
    setup = SqliteStore(path)
    setup.insert("counter", "alice", "c", {"n": 0})
    setup.close()

    workers.start(path, "update", ["p1", "p2"])
    workers.finish()

    store = SqliteStore(path)
    try:
        final = store.get("counter", "c", None)
        assert final is not None
        assert (final.doc, final.version) == ({"n": 200}, 201)
    finally:
        store.close()


def test_sqlite_inserts_from_two_processes_on_a_fresh_file(
    tmp_path: Path, workers: Workers
) -> None:
    path = tmp_path / "s.db"  # the file does not exist yet: both workers race to create it

    workers.start(path, "insert", ["p1", "p2"])
    workers.finish()

    store = SqliteStore(path)
    try:
        records = store.list("job", None)
        assert len(records) == store.count("job", None) == 200
        assert len({record.seq for record in records}) == 200
        assert {record.id for record in records} == {
            f"p{p}-{i}" for p in (1, 2) for i in range(100)
        }
        assert store.count("job", "p1") == store.count("job", "p2") == 100
    finally:
        store.close()


def test_sqlite_acknowledged_writes_survive_kill_9(tmp_path: Path, workers: Workers) -> None:
    path = tmp_path / "s.db"
    workers.start(path, "acknowledge", ["victim"])
    workers.wait_for(tmp_path, ["acknowledged-victim"])

    (proc,) = workers.procs
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    store = SqliteStore(path)
    try:
        assert store.count("job", "victim") == 50
    finally:
        store.close()


def test_sqlite_reads_see_another_processs_commits_at_once(
    tmp_path: Path, workers: Workers
) -> None:
    # the read cache asks PRAGMA data_version, which moves with another process's commits too
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    try:
        assert (store.count("job", "other"), store.get("job", "other-49", None)) == (0, None)
        workers.start(path, "acknowledge", ["other"])
        workers.wait_for(tmp_path, ["acknowledged-other"])  # it has committed, and still runs
        assert store.count("job", "other") == 50
        assert store.get("job", "other-49", None) is not None
    finally:
        store.close()


def test_sqlite_meta_updates_from_two_processes_are_atomic(
    tmp_path: Path, workers: Workers
) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    workers.start(path, "update_meta", ["w1", "w2"])
    workers.finish()
    store = SqliteStore(path)
    try:
        assert store.get_meta("n") == 200
    finally:
        store.close()


def test_sqlite_journal_reaches_another_store_on_the_file_without_a_read_or_close(
    tmp_path: Path,
) -> None:
    # batched (store.sqlite_journal): the writer thread commits within moments
    path = tmp_path / "s.db"
    first, second = SqliteStore(path), SqliteStore(path)
    try:
        first.append_journal({"n": 1}, keep=5)
        deadline = time.monotonic() + 10
        while second.journal(5) != [{"n": 1}]:
            assert time.monotonic() < deadline, "the entry never reached the file"
            time.sleep(0.01)
    finally:
        first.close()
        second.close()


def _transactions(path: Path) -> Callable[[], AbstractContextManager[sqlite3.Connection]]:
    """What SqliteStore gives its journal writer: a write transaction, committed on leaving."""

    @contextmanager
    def write() -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        finally:
            conn.close()

    return write


def test_sqlite_journal_writes_a_full_batch_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path).close()  # the schema

    writer = JournalWriter(
        sqlite_batches(_transactions(path)), interval=3600, batch=3
    )  # no timed batches
    try:
        for n in range(3):
            writer.append({"n": n}, keep=2)
        deadline = time.monotonic() + 10
        while not _journal_rows(path):
            assert time.monotonic() < deadline, "the full batch was never written"
            time.sleep(0.01)
        with sqlite3.connect(path) as reader:
            rows = reader.execute("SELECT entry FROM journal ORDER BY seq").fetchall()
        [(batch,)] = rows  # one row for the batch, read back trimmed to keep
        keep, entries = unpack_batch(batch)
        assert (keep, list(entries)) == (2, [{"n": 2}, {"n": 1}, {"n": 0}])
    finally:
        writer.close()


def _journal_rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as reader:
        found = reader.execute("SELECT entry FROM journal ORDER BY seq").fetchall()
    return [entry["n"] for (batch,) in found for entry in reversed([*unpack_batch(batch)[1]])]


def test_sqlite_journal_is_written_by_its_thread_never_by_the_appending_one(
    tmp_path: Path,
) -> None:
    # a write waits for the file's write lock: a request (an event loop) must never wait
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    transactions = _transactions(path)
    writers: list[str] = []

    @contextmanager
    def write() -> Iterator[sqlite3.Connection]:
        writers.append(threading.current_thread().name)
        with transactions() as conn:
            yield conn

    now = [0.0]
    writer = JournalWriter(sqlite_batches(write), interval=0.01, batch=2, clock=lambda: now[0])
    try:
        writer.append({"n": 0}, keep=10)
        time.sleep(0.1)  # the writer thread wakes ~10 times; not due by the still clock
        assert _journal_rows(path) == []
        writer.append({"n": 1}, keep=10)  # a full batch
        now[0] = 1.0
        writer.append({"n": 2}, keep=10)  # due by the clock
        deadline = time.monotonic() + 10
        while _journal_rows(path) != [0, 1, 2]:
            assert time.monotonic() < deadline, "the writer thread never wrote the entries"
            time.sleep(0.01)
        assert set(writers) == {"tunemock-journal"}
    finally:
        writer.close()
