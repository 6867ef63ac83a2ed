"""The `Store` contract, held by the memory, SQLite and PostgreSQL stores alike (what only a
file can promise: test_sqlite_file.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from mock_server.errors import Conflict
from mock_server.store.base import Record, Store
from tests.store.helpers import KINDS, open_kind, set_field

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    # a nested path: SqliteStore must create the missing parent directory
    opened = open_kind(request.param, tmp_path / "state" / "s.db", request)
    yield opened
    opened.close()


def ids(records: Sequence[Record]) -> list[str]:
    return [record.id for record in records]


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
