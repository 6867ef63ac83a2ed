"""A worker killed between any two of its store writes loses no webhook event: another
worker, later, delivers every event of the job, in order, and leaves each delivery closed
with its retention queued. Each run kills the first worker before one more of its writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mock_server.lifecycle import due
from mock_server.store.memory import MemoryStore
from mock_server.testing.receiver import WebhookReceiver
from mock_server.webhooks import deliveries as module
from mock_server.webhooks.admin import redeliver
from mock_server.webhooks.deliveries import DELIVERED, KIND, Deliveries, RetryPolicy, due_key
from tests.fixtures.server import running_app
from tests.ui.helpers import populate

EVENTS = ("TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE")
HOOK = {"webhook_id": "wh", "webhook_url": "http://127.0.0.1:9/hook"}
LEASE = 30.0
WRITES = ("insert", "update", "delete", "schedule", "unschedule", "set_meta", "update_meta")


class Killed(BaseException):
    """The process is gone: nothing after it runs (a BaseException, so no handler eats it)."""


class DyingStore(MemoryStore):
    """A MemoryStore whose owner is killed just before its `kill_at`-th write (1-based)."""

    def __init__(self) -> None:
        super().__init__()
        self.kill_at: int | None = None
        self.writes = 0

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if name not in WRITES:
            return value

        def write(*args: Any, **kwargs: Any) -> Any:
            self.writes += 1
            if self.writes == self.kill_at:
                raise Killed
            return value(*args, **kwargs)

        return write


def _enqueue(deliveries: Deliveries, at: datetime) -> None:
    for order, event in enumerate(EVENTS):
        payload = {"event": event}
        deliveries.enqueue("t", HOOK, "job", event, order, payload, at, chain=EVENTS)


def _pass(deliveries: Deliveries, store: MemoryStore, now: datetime, sent: list[str]) -> int:
    """One pass as the dispatcher makes it: park the due deliveries a lease ahead, then take
    and send each (the target always answers 200); how many were sent."""
    keys = [due.parse(text) for text in store.due(now.timestamp(), 100)]
    sends = [key.id for key in keys if key is not None and key.what == due.DELIVERY]
    store.schedule({due_key(id): now.timestamp() + LEASE for id in sends})
    for id in sends:
        claimed = deliveries.take(id, LEASE, now)
        if claimed is not None:
            sent.append(claimed.doc["event"])
            deliveries.record_attempt(id, now, 200, 1.0, None, "ok")
    return len(sends)


def _work(deliveries: Deliveries, store: MemoryStore, now: datetime, sent: list[str]) -> None:
    for _ in range(10):  # a job's events go one after the other: a pass each
        _pass(deliveries, store, now, sent)


def _run(kill_at: int | None, clock: Callable[[datetime], None]) -> tuple[DyingStore, list[str]]:
    store = DyingStore()
    store.kill_at = kill_at
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sent: list[str] = []
    first = Deliveries(store, RetryPolicy())
    clock(start)
    enqueued = False
    try:
        _enqueue(first, start)
        enqueued = True
        _work(first, store, start, sent)
    except Killed:
        pass
    store.kill_at = None
    second = Deliveries(store, RetryPolicy())
    later = start
    for _ in range(4):  # what the first held comes up when its lease ends
        later += timedelta(seconds=LEASE + 1)
        clock(later)
        if not enqueued:  # the job's due key was not moved yet: its look runs again
            _enqueue(second, later)
            enqueued = True
        _work(second, store, later, sent)
    return store, sent


def test_a_worker_killed_before_any_write_loses_no_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def clock(at: datetime) -> None:  # leases are on the wall clock: it follows the test's
        monkeypatch.setattr(module, "utc_now", lambda: at)

    whole, _ = _run(None, clock)
    assert whole.writes > 10
    for kill_at in range(1, whole.writes + 1):
        store, sent = _run(kill_at, clock)
        # at least once, in order (a delivery sent before its result was written goes again)
        assert list(dict.fromkeys(sent)) == list(EVENTS), kill_at
        records = store.list(KIND, None)
        assert sorted(r.doc["state"] for r in records) == [DELIVERED] * 3, kill_at
        queued = set(store.due(1e12, 100))
        for record in records:
            assert due.key(due.PRUNE, KIND, record.id) in queued, (kill_at, record.id)
            assert due_key(record.id) not in queued, (kill_at, record.id)


@pytest.mark.anyio
async def test_a_redelivery_whose_process_dies_before_its_attempt_still_goes_out(
    webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"clock": "virtual", "datasets": "skip", "dispatch_interval": 1000}
    async with running_app(key="k", **settings) as client:
        made = await populate(client, webhook_receiver)
        dispatcher = client.app.state.services.webhooks  # type: ignore[attr-defined]
        store = client.app.state.runtime.store  # type: ignore[attr-defined]
        rows = await client.get("/_mock/webhooks/deliveries", params={"job_id": made["job_id"]})
        available = next(d for d in rows.json() if d["event"] == "AVAILABLE")["delivery_id"]

        async def killed(*args: Any, **kwargs: Any) -> None:
            raise Killed

        monkeypatch.setattr(dispatcher, "attempt", killed)
        with pytest.raises(Killed):  # reopened, then gone before its attempt
            await redeliver(dispatcher, store, available)
        monkeypatch.undo()
        assert store.get(KIND, available, None).doc["state"] == "pending"
        await client.post("/_mock/clock/advance", json={"seconds": dispatcher.lease + 1})
        await client.post("/_mock/webhooks/flush", json={})
        await webhook_receiver.arrived(4)
        assert webhook_receiver.events()[-1] == "AVAILABLE"
        assert store.get(KIND, available, None).doc["state"] == DELIVERED
