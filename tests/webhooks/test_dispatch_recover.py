"""A start queues again the deliveries a killed process left parked: one moved past its lease
while it waited for a send slot, never claimed, goes out at the next flush, not a lease later."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.testing.receiver import WebhookReceiver
from mock_server.webhooks.deliveries import due_key
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
        parked = {due_key(r.id): 4_000_000_000.0 for r in store.list("delivery", None)}
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
