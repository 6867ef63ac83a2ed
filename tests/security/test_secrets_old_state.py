"""A `--state` written before tenant ids kept records under raw API keys: opening it moves
each to its key's id, so the key sees its jobs again and no file of the state keeps the key,
whichever store holds it and however many workers open it at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.store import Record, Store, open_store
from mock_server.store.base import DocChange
from mock_server.tenancy import TenantIds, ensure_secret, is_tenant_id
from mock_server.tenancy_upgrade import DONE_META, MOVING_META, convert_key_tenants
from mock_server.testing.live import start_server, stop_server
from tests.live_calls import add_webhook, finetune_details, submit_finetune
from tests.security.state_files import assert_no_key, state_args, state_bytes

KEY = "sk-live-OLDSTATE-0123456789abcdefBEFOREIDS"
CREDIT_KEY = "sk-live-OLDCREDITS-fedcba9876543210ZZZ"
OTHER = "sk-other-tenant-00000000000000000000"
KINDS = ("finetune", "inference", "lora-trainer", "webhook", "delivery")


def _back_to_keys(store: Store, keys: list[str]) -> None:
    """Make `store` what a version before tenant ids wrote: each key's records, credits and
    fault rules under the key itself (the only way a test gets such a file now)."""
    ids = TenantIds(ensure_secret(store))
    for key in keys:
        tenant = ids.of(key)
        for kind in KINDS:
            for record in store.list(kind, tenant):
                assert store.delete(kind, record.id, tenant)
                store.insert(kind, key, record.id, record.doc)
        balance = store.get_meta(f"credits:{tenant}")
        if balance is not None:  # credits were kept under `credits:<key>`
            store.set_meta(f"credits:{key}", balance)
            store.set_meta(f"credits:{tenant}", None)
    store.set_meta("credits-keys", [k for k in keys if store.get_meta(f"credits:{k}")])
    store.set_meta(DONE_META, None)  # an old version never marked its state converted
    by_id = {ids.of(k): k for k in keys}
    for rule in store.list("fault", None):
        match = dict(rule.doc.get("match") or {})
        if match.get("api_key") in by_id:
            match["api_key"] = by_id[match["api_key"]]
            assert store.update("fault", rule.id, None, _with_match(match))


def _with_match(match: dict[str, Any]) -> DocChange:
    return lambda doc: {**doc, "match": match}


def test_an_old_state_gives_each_key_its_jobs_and_keeps_no_key(tmp_path: Path) -> None:
    folder, state, args = state_args(tmp_path)
    server = start_server(*args)
    try:
        base, admin = server.base_url, server.admin_headers
        job_id = submit_finetune(base, KEY)
        add_webhook(base, KEY, "http://127.0.0.1:9/hook")
        rule = {"match": {"path": "/never/*", "api_key": KEY}, "action": {"status": 503}}
        assert httpx.post(f"{base}/_mock/faults", json=rule, headers=admin).status_code == 201
        paid = httpx.put(f"{base}/_mock/credits/{CREDIT_KEY}", json={"credits": 42}, headers=admin)
        assert paid.status_code == 200, paid.text
        # the job's events become its webhook's deliveries (records of their own)
        httpx.post(f"{base}/_mock/clock/advance", json={"seconds": 3600}, headers=admin)
        _wait_for_deliveries(base)
    finally:
        stop_server(server)
    store = open_store(state)
    try:
        _back_to_keys(store, [KEY, CREDIT_KEY])
        assert store.list("finetune", KEY) and store.list("webhook", KEY)
    finally:
        store.close()
    assert any(KEY.encode() in data for data in state_bytes(folder).values())

    server = start_server(*args, "--workers", "2")  # both workers open the old file at once
    try:
        base = server.base_url
        details = finetune_details(base, KEY, job_id)
        assert details.status_code == 200, details.text
        assert job_id in details.text
        listed = httpx.get(f"{base}/finetune/request/list", headers={"x-api-key": KEY}).json()
        assert [job["finetune_id"] for job in listed] == [job_id]
        assert finetune_details(base, OTHER, job_id).status_code == 404
        hooks = httpx.get(f"{base}/webhook/get", headers={"x-api-key": KEY}).json()["webhooks"]
        assert [h["webhook_url"] for h in hooks] == ["http://127.0.0.1:9/hook"]
        credits = httpx.get(f"{base}/_mock/credits/{CREDIT_KEY}").json()
        assert credits == {"api_key": CREDIT_KEY, "credits": 42}
        rules = httpx.get(f"{base}/_mock/faults").json()
        assert [r["match"]["api_key"] for r in rules] in ([KEY], [_id_of(state, KEY)])
    finally:
        stop_server(server)
    store = open_store(state)
    try:
        for kind in KINDS:
            assert all(is_tenant_id(r.tenant) for r in store.list(kind, None)), kind
        assert store.list("delivery", None)
        assert store.get_meta("credits-keys") == [_id_of(state, CREDIT_KEY)]
    finally:
        store.close()
    assert_no_key(folder, state, (KEY, CREDIT_KEY))


def _wait_for_deliveries(base: str) -> None:
    deadline = time.monotonic() + 20
    while not httpx.get(f"{base}/_mock/webhooks/deliveries").json():
        assert time.monotonic() < deadline, "no delivery was made"
        time.sleep(0.1)


def _id_of(state: Path, key: str) -> str:
    store = open_store(state)
    try:
        return TenantIds(ensure_secret(store)).of(key)
    finally:
        store.close()


def _stores(tmp_path: Path, kind: str) -> Callable[[], Store]:
    """A way to open the same state again: a new SqliteStore on one file, or the one
    MemoryStore (its threads share it)."""
    if kind == "sqlite":
        return lambda: open_store(tmp_path / "old.db")
    shared = open_store(None)
    return lambda: shared


def _old_records(store: Store, keys: list[str], per_key: int) -> list[Record]:
    return [
        store.insert("finetune", key, f"{key}-job-{i}", {"n": i, "owner": "nobody"})
        for key in keys
        for i in range(per_key)
    ]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_two_openers_at_once_move_each_record_once(tmp_path: Path, backend: str) -> None:
    opener = _stores(tmp_path, backend)
    first = opener()
    keys = [f"sk-key-{n}-0123456789abcdef" for n in range(3)]
    made = _old_records(first, keys, 40)
    ids = TenantIds(ensure_secret(first))
    moved: list[int] = []
    errors: list[BaseException] = []

    def convert() -> None:
        store = opener()
        try:
            moved.append(convert_key_tenants(store, TenantIds(ensure_secret(store)), ["finetune"]))
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(moved) == len(made)  # each record moved by exactly one of them
    for key in keys:
        docs = sorted(r.doc["n"] for r in first.list("finetune", ids.of(key)))
        assert docs == list(range(40))
        assert first.list("finetune", key) == []
    assert first.count("finetune", None) == len(made)
    assert first.get_meta(MOVING_META) == {}
    assert convert_key_tenants(first, ids, ["finetune"]) == 0  # done: not read again
    first.close()


@pytest.mark.parametrize("another_opener_finished", [False, True])
def test_a_record_left_between_delete_and_insert_comes_back(
    tmp_path: Path, another_opener_finished: bool
) -> None:
    """What a process killed after its delete left: the parked copy, and no record. It comes
    back on the next open, also when a second opener ran meanwhile and marked the state
    converted."""
    store = open_store(tmp_path / "old.db")
    ids = TenantIds(ensure_secret(store))
    (record,) = _old_records(store, ["sk-killed-mid-move-0123456789"], 1)
    tenant = ids.of(record.tenant)
    store.set_meta(MOVING_META, {f"finetune {record.id}": {"tenant": tenant, "doc": record.doc}})
    assert store.delete("finetune", record.id, record.tenant)
    if another_opener_finished:
        store.set_meta(DONE_META, True)
    assert convert_key_tenants(store, ids, ["finetune"]) == 0
    found = store.get("finetune", record.id, tenant)
    assert found is not None and found.doc == record.doc
    assert store.get_meta(MOVING_META) == {}
    store.close()
