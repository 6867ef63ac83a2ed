"""What the dashboard tests share: a populated mock (a trained fine-tune with its three
webhook deliveries, a fault, a journal) and the list of pages."""

from __future__ import annotations

from typing import Any

import httpx

from mock_server.testing.receiver import WebhookReceiver
from tests.finetune.helpers import doc_submit_body

UI = "/_mock/ui"
PAGES = ["/", "/jobs", "/requests", "/webhooks", "/faults", "/contract"]


async def populate(client: httpx.AsyncClient, receiver: WebhookReceiver) -> dict[str, Any]:
    """A tenant with a webhook, a fine-tune moved to AVAILABLE and delivered, a fault rule."""
    hook = await client.post(
        "/webhook/add", json={"webhook_url": receiver.url, "event": {"types": ["FINETUNE"]}}
    )
    assert hook.status_code == 200, hook.text
    submitted = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    job_id = str(submitted.json()["finetune_id"])
    await client.post("/_mock/clock/advance", json={"seconds": 3600})
    for _ in range(3):  # one event per pass: each waits for the one before it
        await client.post("/_mock/webhooks/flush", json={})
    await receiver.arrived(3)
    fault = await client.post(
        "/_mock/faults", json={"match": {"path": "/nowhere/*"}, "action": {"status": 503}}
    )
    assert fault.status_code == 201
    return {"job_id": job_id, "webhook_id": hook.json()["webhook_id"], "fault": fault.json()}
