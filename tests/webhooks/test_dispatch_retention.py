"""Closed deliveries are kept for their retention (mock clock) and then deleted, in both
stores; a pending one is never deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.testing.receiver import WebhookReceiver
from mock_server.webhooks.deliveries import RETENTION_SECONDS
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("state", ["memory", "sqlite"])
async def test_closed_deliveries_are_deleted_when_their_retention_ends(
    state: str, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    config = {"state": tmp_path / "s.db"} if state == "sqlite" else {}
    async with running_app(key="k", clock="virtual", datasets="skip", **config) as client:
        store = client.app.state.runtime.store  # type: ignore[attr-defined]
        hook = {"webhook_url": webhook_receiver.url, "event": {"types": ["FINETUNE"]}}
        assert (await client.post("/webhook/add", json=hook)).status_code == 200
        await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        await client.post("/_mock/clock/advance", json={"seconds": 3600})
        await client.post("/_mock/webhooks/flush", json={})
        assert store.count("delivery", None) == 3
        await client.post("/_mock/clock/advance", json={"seconds": RETENTION_SECONDS - 100})
        await client.post("/_mock/webhooks/flush", json={})
        kept = store.count("delivery", None)
        await client.post("/_mock/clock/advance", json={"seconds": 200})
        await client.post("/_mock/webhooks/flush", json={})
        gone = store.count("delivery", None)
        jobs = store.count("finetune", None)
    assert len(webhook_receiver.received) == 3
    assert (kept, gone, jobs) == (3, 0, 1)
