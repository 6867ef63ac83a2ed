"""The memory and SQLite stores agree on any history of inserts, updates, failed updates and
deletes: each operation's outcome and everything a list shows after it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.errors import Conflict
from mock_server.store.base import Store
from mock_server.store.memory import MemoryStore
from mock_server.store.sqlite import SqliteStore
from tests.store.helpers import set_field

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
