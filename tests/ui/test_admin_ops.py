"""The admin operations the dashboard added to /_mock: webhooks per tenant, redelivery."""

from __future__ import annotations

import httpx
import pytest

from mock_server.testing.receiver import WebhookReceiver
from tests.fixtures.contract import conforms
from tests.fixtures.server import KEY_A, KEY_B
from tests.ui.helpers import populate

pytestmark = pytest.mark.anyio


async def test_webhooks_of_every_tenant_without_secrets(make_client) -> None:
    async with make_client(KEY_A, clock="virtual", webhook_signing=True) as client:
        body = {"webhook_url": "http://127.0.0.1:9/a", "event": {"types": ["FINETUNE"]}}
        await client.post("/webhook/add", json=body)
        await client.post("/webhook/add", json=body, headers={"x-api-key": KEY_B})
        every = conforms("admin_webhooks_list", await client.get("/_mock/webhooks"))
        mine = conforms("admin_webhooks_list", await client.get(f"/_mock/webhooks?tenant={KEY_A}"))
    assert sorted(h["tenant"] for h in every) == [KEY_A, KEY_B]
    assert all(h["signed"] is True and "signing_secret" not in h for h in every)
    assert [h["tenant"] for h in mine] == [KEY_A] and mine[0]["status"] == "ACTIVE"


async def test_redeliver_adds_one_attempt_and_the_receiver_hears_it_again(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    made = await populate(mock_client, webhook_receiver)
    rows = await mock_client.get("/_mock/webhooks/deliveries", params={"job_id": made["job_id"]})
    available = next(d for d in rows.json() if d["event"] == "AVAILABLE")
    webhook_receiver.then(500)
    failed = conforms(
        "admin_webhook_redeliver",
        await mock_client.post(
            f"/_mock/webhooks/deliveries/{available['delivery_id']}/redeliver", json={}
        ),
    )
    assert [a["status_code"] for a in failed["attempts"]] == [200, 500]
    assert failed["state"] == "failed" and failed["next_retry_at"] is None  # no retry after it
    again = conforms(
        "admin_webhook_redeliver",
        await mock_client.post(
            f"/_mock/webhooks/deliveries/{available['delivery_id']}/redeliver", json={}
        ),
    )
    assert [a["status_code"] for a in again["attempts"]] == [200, 500, 200]
    assert again["state"] == "delivered"
    assert webhook_receiver.events()[-2:] == ["AVAILABLE", "AVAILABLE"]
    assert len(webhook_receiver.received) == 5


async def test_redeliver_an_unknown_delivery_is_404(mock_client: httpx.AsyncClient) -> None:
    answer = await mock_client.post("/_mock/webhooks/deliveries/nope/redeliver", json={})
    assert conforms("admin_webhook_redeliver", answer) and answer.status_code == 404
