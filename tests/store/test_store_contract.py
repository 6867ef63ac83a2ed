"""The `Store` contract, held by the memory, SQLite and PostgreSQL stores alike, plus what only
a file can promise (restarts, several processes, kill -9)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.errors import Conflict
from mock_server.store.base import Record, Store
from mock_server.store.memory import MemoryStore
from mock_server.store.packing import unpack_batch
from mock_server.store.sqlite import SqliteStore
from mock_server.store.sqlite_journal import JournalWriter, sqlite_batches
from tests.store.helpers import KINDS, open_kind

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    # a nested path: SqliteStore must create the missing parent directory
    opened = open_kind(request.param, tmp_path / "state" / "s.db", request)
    yield opened
    opened.close()


def ids(records: Sequence[Record]) -> list[str]:
    return [record.id for record in records]


def set_field(key: str, value: Any) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    return lambda doc: {**doc, key: value}


# --- records ---------------------------------------------------------------------------------


def test_insert_returns_the_record_and_get_finds_it(store: Store) -> None:
    made = store.insert("finetune", "alice", "ft-1", {"name": "a", "steps": [1, 2]})

    assert (made.kind, made.id, made.tenant, made.version) == ("finetune", "ft-1", "alice", 1)
    assert made.doc == {"name": "a", "steps": [1, 2]}
    assert made.seq > 0
    assert store.get("finetune", "ft-1", "alice") == made
    assert store.get("finetune", "ft-1", None) == made
    assert store.get("finetune", "ft-2", None) is None
    assert store.get("inference", "ft-1", None) is None  # ids are per kind


def test_concurrent_inserts_are_each_their_own(store: Store) -> None:
    # what concurrent submits do (each in a worker thread): every insert gets its own record,
    # or its own Conflict
    store.insert("finetune", "alice", "taken", {})

    def add(id: str) -> Record | Exception:
        try:
            return store.insert("finetune", "alice", id, {"id": id})
        except Conflict as exc:
            return exc

    names = ["a", "taken", "b", "a", "c", "d", "taken"]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        outcomes = list(pool.map(add, names))

    made = [o for o in outcomes if isinstance(o, Record)]
    assert sorted(r.id for r in made) == ["a", "b", "c", "d"]  # one of the two "a"s
    assert sum(isinstance(o, Conflict) for o in outcomes) == 3
    assert all(r.doc == {"id": r.id} and r.version == 1 for r in made)
    assert len({r.seq for r in made}) == len(made)
    assert ids(store.list("finetune", None)) == [
        r.id for r in sorted(made, key=lambda r: r.seq, reverse=True)
    ] + ["taken"]
    assert all(store.get("finetune", r.id, "alice") == r for r in made)


def test_list_is_newest_first_limited_and_per_kind(store: Store) -> None:
    for name in ("a", "b", "c"):
        store.insert("finetune", "alice", name, {})
    store.insert("inference", "alice", "x", {})

    assert ids(store.list("finetune", None)) == ["c", "b", "a"]
    assert ids(store.list("finetune", None, limit=2)) == ["c", "b"]
    assert ids(store.list("finetune", None, limit=0)) == []
    assert ids(store.list("inference", None)) == ["x"]
    assert ids(store.list("webhook", None)) == []
    with pytest.raises(ValueError):
        store.list("finetune", None, limit=-1)


def test_seq_orders_inserts_and_is_never_reused(store: Store) -> None:
    first = store.insert("finetune", "alice", "a", {})
    second = store.insert("finetune", "alice", "b", {})
    assert store.delete("finetune", "b", None)
    third = store.insert("finetune", "alice", "c", {})
    updated = store.update("finetune", "a", None, set_field("x", 1))

    assert first.seq < second.seq < third.seq
    assert updated is not None
    assert updated.seq == first.seq  # an update does not move a record to the front
    assert ids(store.list("finetune", None)) == ["c", "a"]


def test_count_per_tenant_and_in_all(store: Store) -> None:
    store.insert("finetune", "alice", "a", {})
    store.insert("finetune", "alice", "b", {})
    store.insert("finetune", "bob", "c", {})
    store.insert("inference", "alice", "d", {})

    assert store.count("finetune", None) == 3
    assert store.count("finetune", "alice") == 2
    assert store.count("finetune", "bob") == 1
    assert store.count("finetune", "carol") == 0
    assert store.count("webhook", None) == 0


def test_update_replaces_the_doc_and_bumps_the_version(store: Store) -> None:
    store.insert("finetune", "alice", "a", {"status": "queued", "n": 0})

    once = store.update("finetune", "a", "alice", set_field("status", "running"))
    twice = store.update("finetune", "a", None, lambda doc: {"n": doc["n"] + 1})

    assert once is not None and twice is not None
    assert (once.version, once.doc) == (2, {"status": "running", "n": 0})
    assert (twice.version, twice.doc, twice.tenant) == (3, {"n": 1}, "alice")
    assert store.get("finetune", "a", None) == twice


def test_update_of_an_unknown_id_returns_none_without_calling_change(store: Store) -> None:
    calls: list[Mapping[str, Any]] = []

    def change(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append(doc)
        return doc

    assert store.update("finetune", "nope", None, change) is None
    assert calls == []
    assert store.count("finetune", None) == 0


def test_delete_removes_once(store: Store) -> None:
    store.insert("finetune", "alice", "a", {})
    store.insert("finetune", "alice", "b", {})

    assert store.delete("finetune", "a", "alice") is True
    assert store.delete("finetune", "a", "alice") is False
    assert store.get("finetune", "a", None) is None
    assert ids(store.list("finetune", None)) == ["b"]
    assert store.delete("inference", "b", None) is False


# --- tenancy ---------------------------------------------------------------------------------


def test_another_tenants_id_answers_like_an_unknown_id(store: Store) -> None:
    store.insert("finetune", "alice", "mine", {"v": 1})
    calls: list[Mapping[str, Any]] = []

    def change(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append(doc)
        return {"v": 2}

    for id in ("mine", "unknown"):
        assert store.get("finetune", id, "bob") is None
        assert store.update("finetune", id, "bob", change) is None
        assert store.delete("finetune", id, "bob") is False
    assert calls == []
    assert store.list("finetune", "bob") == []
    assert store.count("finetune", "bob") == 0

    untouched = store.get("finetune", "mine", "alice")
    assert untouched is not None
    assert (untouched.doc, untouched.version) == ({"v": 1}, 1)


def test_list_with_a_tenant_sees_only_its_records_and_none_sees_all(store: Store) -> None:
    store.insert("finetune", "alice", "a1", {})
    store.insert("finetune", "bob", "b1", {})
    store.insert("finetune", "alice", "a2", {})

    assert ids(store.list("finetune", "alice")) == ["a2", "a1"]
    assert ids(store.list("finetune", "alice", limit=1)) == ["a2"]
    assert ids(store.list("finetune", "bob")) == ["b1"]
    assert ids(store.list("finetune", None)) == ["a2", "b1", "a1"]


# --- failures leave nothing behind ----------------------------------------------------------


def test_duplicate_insert_conflicts_and_keeps_the_first_record(store: Store) -> None:
    first = store.insert("finetune", "alice", "a", {"v": 1})

    with pytest.raises(Conflict):
        store.insert("finetune", "bob", "a", {"v": 2})  # ids are unique across tenants

    assert store.get("finetune", "a", None) == first
    assert store.count("finetune", None) == 1
    assert store.get("finetune", "a", "bob") is None
    later = store.insert("finetune", "alice", "b", {})
    assert ids(store.list("finetune", None)) == ["b", "a"]
    assert later.seq > first.seq


def test_a_change_that_raises_leaves_doc_and_version_unchanged(store: Store) -> None:
    store.insert("finetune", "alice", "a", {"status": "queued", "tags": ["x"]})

    def half_done(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        doc["tags"].append("y")  # edits its argument in place before failing
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        store.update("finetune", "a", None, half_done)

    kept = store.get("finetune", "a", None)
    assert kept is not None
    assert (kept.doc, kept.version) == ({"status": "queued", "tags": ["x"]}, 1)
    # the store is still usable: no transaction left open, no lock held
    after = store.update("finetune", "a", None, set_field("status", "running"))
    assert after is not None and after.version == 2


def test_a_change_returning_non_json_writes_nothing(store: Store) -> None:
    store.insert("finetune", "alice", "a", {"v": 1})

    with pytest.raises(TypeError):
        store.update("finetune", "a", None, set_field("when", object()))
    with pytest.raises(TypeError):
        store.insert("finetune", "alice", "b", {"tags": {"a set"}})

    kept = store.get("finetune", "a", None)
    assert kept is not None and (kept.doc, kept.version) == ({"v": 1}, 1)
    assert store.count("finetune", None) == 1


def test_docs_given_or_returned_cannot_change_stored_state(store: Store) -> None:
    original: dict[str, Any] = {"tags": ["x"], "nested": {"n": 1}}
    made = store.insert("finetune", "alice", "a", original)
    original["tags"].append("from-input")

    fetched = store.get("finetune", "a", None)
    assert fetched is not None
    for returned in (made.doc, fetched.doc, store.list("finetune", None)[0].doc):
        returned["tags"].append("from-output")
        returned["nested"]["n"] = 99
    changed = store.update("finetune", "a", None, set_field("extra", [1]))
    assert changed is not None
    changed.doc["extra"].append(2)

    kept = store.get("finetune", "a", None)
    assert kept is not None
    assert kept.doc == {"tags": ["x"], "nested": {"n": 1}, "extra": [1]}


def test_concurrent_updates_from_threads_lose_nothing(store: Store) -> None:
    store.insert("counter", "alice", "c", {"n": 0})

    def bump(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        n = doc["n"]
        time.sleep(0)  # let another thread in between the read and the write
        return {"n": n + 1}

    def work() -> None:
        for _ in range(25):
            store.update("counter", "c", None, bump)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    final = store.get("counter", "c", None)
    assert final is not None
    assert (final.doc, final.version) == ({"n": 100}, 101)


# --- meta, journal, reset --------------------------------------------------------------------


def test_update_meta_is_read_modify_write(store: Store) -> None:
    assert store.update_meta("n", lambda old: (old or 0) + 1) == 1
    assert store.update_meta("n", lambda old: (old or 0) + 1) == 2
    assert store.update_meta("secret", lambda old: old or "first") == "first"
    assert store.update_meta("secret", lambda old: old or "second") == "first"
    with pytest.raises(ZeroDivisionError):
        store.update_meta("n", lambda old: 1 / 0)
    assert store.get_meta("n") == 2


def test_delete_meta_forgets_the_value_and_its_name(store: Store) -> None:
    store.set_meta("credits:old-key", 5)
    store.set_meta("kept", 1)
    mark = store.changes()
    store.delete_meta("credits:old-key")
    assert store.changes() != mark  # a reader waiting for a change sees it
    assert store.get_meta("credits:old-key") is None
    store.delete_meta("never-set")  # nothing to forget: no error
    assert store.get_meta("kept") == 1


def test_meta_round_trips_nested_json(store: Store) -> None:
    value = {"offset": 1.5, "keys": ["a", "b"], "deep": {"ok": True, "none": None, "n": -3}}

    assert store.get_meta("clock") is None
    store.set_meta("clock", value)
    assert store.get_meta("clock") == value
    store.set_meta("clock", [1, "two"])
    assert store.get_meta("clock") == [1, "two"]
    store.set_meta("plain", 7)
    assert (store.get_meta("plain"), store.get_meta("clock")) == (7, [1, "two"])

    got = store.get_meta("clock")
    assert isinstance(got, list)
    got.append("mutated")
    assert store.get_meta("clock") == [1, "two"]


def test_journal_is_newest_first_and_trimmed_to_keep(store: Store) -> None:
    for n in range(5):
        store.append_journal({"n": n, "path": "/v1/finetune"}, keep=3)

    assert [entry["n"] for entry in store.journal(10)] == [4, 3, 2]
    assert [entry["n"] for entry in store.journal(2)] == [4, 3]
    assert store.journal(0) == []

    store.append_journal({"n": 5}, keep=1)
    assert store.journal(10) == [{"n": 5}]
    store.journal(10)[0]["n"] = 99  # type: ignore[index]
    assert store.journal(10) == [{"n": 5}]


def test_journal_takes_any_mapping_and_reads_back_plain_json(store: Store) -> None:
    # the edge hands over lazy entries (http.capture.JournalEntry), which are Mappings
    nested = MappingProxyType({"headers": [["a", "b"]]})
    store.append_journal(MappingProxyType({"n": 1, "request": nested}), keep=5)

    assert store.journal(5) == [{"n": 1, "request": {"headers": [["a", "b"]]}}]
    assert isinstance(store.journal(5)[0], dict)


def test_reset_forgets_everything_and_restarts_seqs(store: Store) -> None:
    store.insert("finetune", "alice", "a", {})
    store.insert("inference", "bob", "b", {})
    store.set_meta("clock", 1)
    store.append_journal({"n": 1}, keep=10)

    store.reset()

    assert store.list("finetune", None) == [] and store.list("inference", None) == []
    assert store.count("finetune", None) == 0
    assert store.get("finetune", "a", None) is None
    assert store.get_meta("clock") is None
    assert store.journal(10) == []
    again = store.insert("finetune", "alice", "a", {})  # the id is free again
    assert again.seq == 1


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


# --- both implementations agree on any history ----------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
docs = st.dictionaries(st.text(max_size=3), json_values, max_size=3)
kinds = st.sampled_from(["finetune", "inference"])
tenants = st.sampled_from(["alice", "bob"])
maybe_tenants = st.none() | tenants
record_ids = st.sampled_from(["a", "b", "c"])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), kinds, tenants, record_ids, docs),
        st.tuples(st.just("update"), kinds, maybe_tenants, record_ids, json_values),
        st.tuples(st.just("fail"), kinds, maybe_tenants, record_ids, st.none()),
        st.tuples(st.just("delete"), kinds, maybe_tenants, record_ids, st.none()),
    ),
    max_size=15,
)


def apply(store: Store, operation: tuple[str, str, str | None, str, Any]) -> object:
    """Run one operation; its outcome (result or error type) is part of what must agree."""
    name, kind, tenant, id, value = operation

    def fail(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        raise RuntimeError("refused")

    try:
        if name == "insert":
            assert tenant is not None
            return store.insert(kind, tenant, id, value)
        if name == "update":
            return store.update(kind, id, tenant, set_field("v", value))
        if name == "fail":
            return store.update(kind, id, tenant, fail)
        return store.delete(kind, id, tenant)
    except (Conflict, RuntimeError) as error:
        return type(error)


def observable(store: Store) -> object:
    return {
        (kind, tenant): [
            (r.id, r.tenant, json.dumps(r.doc), r.version, r.seq) for r in store.list(kind, tenant)
        ]
        for kind in ("finetune", "inference")
        for tenant in (None, "alice", "bob")
    }


def test_memory_and_sqlite_agree_on_any_history(tmp_path_factory: pytest.TempPathFactory) -> None:
    sqlite = SqliteStore(tmp_path_factory.mktemp("agree") / "s.db")

    @settings(max_examples=25, deadline=None)
    @given(operations)
    def agree(history: list[tuple[str, str, str | None, str, Any]]) -> None:
        sqlite.reset()
        memory = MemoryStore()
        for operation in history:
            assert apply(memory, operation) == apply(sqlite, operation), operation
        # json.dumps also tells 1 from 1.0 and True from 1, which == would not
        assert observable(memory) == observable(sqlite)

    try:
        agree()
    finally:
        sqlite.close()


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
