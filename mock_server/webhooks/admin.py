"""Admin views over webhooks across tenants (the /_mock API and the dashboard use them):
every registered webhook, one delivery in the admin shape, and redelivering one now."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.clock import parse_iso, utc_now
from mock_server.errors import Conflict, NotFound
from mock_server.store import Record, Store
from mock_server.webhooks import deliveries, registry
from mock_server.webhooks.dispatcher import Dispatcher


def all_webhooks(store: Store, tenant: str | None = None) -> list[dict[str, Any]]:
    """Every registered webhook (active or not), newest first, with its tenant; a signing
    secret is only said to exist (the owner reads it through /webhook/get)."""
    rows = []
    for record in store.list(registry.KIND, tenant):
        view = {k: v for k, v in registry.public_view(record.doc).items() if k != "signing_secret"}
        rows.append(
            {"tenant": record.tenant, **view, "signed": bool(record.doc.get("signing_secret"))}
        )
    return rows


def delivery_view(record: Record) -> dict[str, Any]:
    """A delivery as the admin API answers it (mock-admin.yaml `Delivery`)."""
    doc = record.doc
    return {
        "delivery_id": doc["delivery_id"],
        "webhook_id": doc["webhook_id"],
        "tenant": record.tenant,
        "job_id": doc["job_id"],
        "event": doc["event"],
        "url": doc["url"],
        "state": doc["state"],
        "attempts": doc["attempts"],
        "next_retry_at": doc.get("next_retry_at"),
        "payload": doc["payload"],
    }


async def redeliver(dispatcher: Dispatcher, store: Store, delivery_id: str) -> dict[str, Any]:
    """Send a delivery's payload again now: one more attempt on the same delivery, no retry
    scheduled after it (a person asked for exactly one)."""

    class Busy(Exception):
        pass

    wall = utc_now()

    def reopen(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        lease = doc.get("lease_until")
        if lease and parse_iso(lease) > wall:
            raise Busy
        return {**doc, "state": deliveries.PENDING, "lease_until": None, "next_retry_at": None}

    # queued a lease ahead before it reopens (a pending delivery is always queued): if this
    # process dies before its attempt, the dispatcher sends it then
    at = dispatcher.clock_now().timestamp() + dispatcher.lease
    store.schedule({deliveries.due_key(delivery_id): at})
    try:
        record = store.update(deliveries.KIND, delivery_id, None, reopen)
    except Busy:
        raise Conflict(f"Delivery {delivery_id} is being attempted right now") from None
    if record is None:
        raise NotFound(f"No delivery {delivery_id}")
    await dispatcher.attempt(record, retry=False)
    done = dispatcher.deliveries.get(delivery_id)
    if done is None:  # a reset in between
        raise NotFound(f"No delivery {delivery_id}")
    return delivery_view(done)
