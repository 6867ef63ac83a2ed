"""A state written before tenant ids (mock_server.tenancy) kept its records under raw API
keys, which no request reaches any more: on open, each such record moves to its key's id.

Only through the Store interface, so memory, SQLite and PostgreSQL states convert alike. The
interface cannot change a record's tenant in place, so a record moves by delete and insert
under the same id; the doc is parked in a meta value first, so a process killed between the
two loses nothing (the next open puts it back). Two workers opening the same state at once
may both convert: the delete under the raw key is the claim (only one of them gets True),
and an insert that finds the record there already means the other finished the move."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from mock_server.errors import Conflict
from mock_server.store import Record, Store
from mock_server.tenancy import TenantIds, is_tenant_id

#: Set once a pass found nothing left under a key: later opens skip reading every record.
DONE_META = "tenancy.converted"
#: Records between their delete and their insert: "<kind> <id>" -> {"tenant", "doc"}.
MOVING_META = "tenancy.moving"


def convert_key_tenants(
    store: Store,
    tenants: TenantIds,
    kinds: Sequence[str],
    also: Sequence[Callable[[], None]] = (),
) -> int:
    """Move every record of `kinds` owned by a raw key to the key's id, then run `also` (the
    conversions of other state that named keys: credits, fault rules); how many records
    moved. Idempotent: a converted state is left as it is."""
    _finish_parked(store)  # every open: one meta read when nothing is parked
    if store.get_meta(DONE_META):
        return 0
    moved = 0
    for kind in kinds:
        for record in store.list(kind, None):
            if not is_tenant_id(record.tenant):
                moved += _move(store, record, tenants.of(record.tenant))
    for step in also:
        step()
    # A record another opener parked and deleted but did not insert (killed meanwhile) is
    # put back now, before the state is marked converted; one still at work finds it there
    # and leaves it (its insert's Conflict).
    _finish_parked(store)
    store.set_meta(DONE_META, True)
    return moved


def _entry(kind: str, id: str) -> str:
    return f"{kind} {id}"  # the id last: it may hold spaces


def _move(store: Store, record: Record, tenant: str) -> int:
    entry = _entry(record.kind, record.id)
    parked = {"tenant": tenant, "doc": dict(record.doc)}
    store.update_meta(MOVING_META, lambda old: {**(old or {}), entry: parked})
    if not store.delete(record.kind, record.id, record.tenant):
        # another opener took it: its entry is its own to clear, unless it is done already
        if store.get(record.kind, record.id, tenant) is not None:
            _unpark(store, entry)
        return 0
    with suppress(Conflict):  # another opener put the parked copy back first
        store.insert(record.kind, tenant, record.id, record.doc)
    _unpark(store, entry)
    return 1


def _finish_parked(store: Store) -> None:
    """Put back what a killed process left between delete and insert."""
    parked: Mapping[str, Any] = store.get_meta(MOVING_META) or {}
    for entry, moving in parked.items():
        kind, id = entry.split(" ", 1)
        if store.get(kind, id, None) is None:
            with suppress(Conflict):  # the process that parked it was still at work
                store.insert(kind, str(moving["tenant"]), id, moving["doc"])
        _unpark(store, entry)


def _unpark(store: Store, entry: str) -> None:
    store.update_meta(MOVING_META, lambda old: {k: v for k, v in (old or {}).items() if k != entry})
