"""A start queues again the deliveries a killed process left parked: one moved past its lease
while it waited for a send slot, never claimed, goes out at the next flush, not a lease later.
A state from before every pending delivery kept its due key is read in full once; after
that a start reads only the keys due within a lease."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_server.store.sqlite import SqliteStore
from mock_server.testing.receiver import WebhookReceiver
from mock_server.webhooks.deliveries import KEPT_QUEUED_META, due_key
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio


async def test_a_delivery_parked_by_a_dead_process_goes_out_after_a_restart(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    state = tmp_path / "s.db"
    settings = {"clock": "virtual", "datasets": "skip", "state": state}
    # the first process's loop sleeps past the test: only the test enqueues and parks
    async with running_app(key="k", dispatch_interval=1000, **settings) as client:
        store = client.app.state.runtime.store  # type: ignore[attr-defined]
        hook = {"webhook_url": webhook_receiver.url, "event": {"types": ["FINETUNE"]}}
        assert (await client.post("/webhook/add", json=hook)).status_code == 200
        # enqueued by a pass, then parked far ahead as a pass does before it waits for a slot;
        # the process then goes away without sending (no flush: nothing claims it)
        dispatcher = client.app.state.services.webhooks  # type: ignore[attr-defined]
        await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        await client.post("/_mock/clock/advance", json={"seconds": 3600})
        job_id = store.list("finetune", None)[0].id
        now = client.app.state.runtime.clock.now()  # type: ignore[attr-defined]
        assert dispatcher.enqueue_finetune(job_id, now) == 3
        ahead = now.timestamp() + dispatcher.lease
        parked = {due_key(r.id): ahead for r in store.list("delivery", None)}
        assert len(parked) == 3
        store.schedule(parked)
        assert not webhook_receiver.received
    async with running_app(key="k", **settings) as client:
        assert (await client.post("/_mock/webhooks/flush", json={})).status_code == 200
    assert sorted(r.json()["event"] for r in webhook_receiver.received) == [
        "AVAILABLE",
        "INFERENCE_QUEUED",
        "TRAINING_COMPLETED",
    ]


async def test_a_pending_delivery_with_no_key_is_queued_once_and_later_starts_read_none(
    tmp_path: Path, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "s.db"
    settings = {"clock": "virtual", "datasets": "skip", "state": state}
    async with running_app(key="k", dispatch_interval=1000, **settings) as client:
        store = client.app.state.runtime.store  # type: ignore[attr-defined]
        hook = {"webhook_url": webhook_receiver.url, "event": {"types": ["FINETUNE"]}}
        assert (await client.post("/webhook/add", json=hook)).status_code == 200
        dispatcher = client.app.state.services.webhooks  # type: ignore[attr-defined]
        await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        await client.post("/_mock/clock/advance", json={"seconds": 3600})
        job_id = store.list("finetune", None)[0].id
        assert dispatcher.enqueue_finetune(job_id, dispatcher.clock_now()) == 3
        # as an older version could leave them: pending, with no key, in a state not marked
        store.unschedule([due_key(r.id) for r in store.list("delivery", None)])
        store.delete_meta(KEPT_QUEUED_META)
    async with running_app(key="k", **settings) as client:
        assert (await client.post("/_mock/webhooks/flush", json={})).status_code == 200
        await webhook_receiver.arrived(3)
    read: list[str] = []
    listing = SqliteStore.list

    def counted(self: SqliteStore, kind: str, *args: Any, **kwargs: Any) -> Any:
        read.append(kind)
        return listing(self, kind, *args, **kwargs)

    monkeypatch.setattr(SqliteStore, "list", counted)
    async with running_app(key="k", dispatch_interval=1000, **settings):
        pass
    assert "delivery" not in read  # the state is marked: no start reads every delivery
