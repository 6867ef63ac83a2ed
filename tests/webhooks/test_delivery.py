"""Deliveries really happen: in order, validated, retried with backoff on the mock's clock,
bounded, logged — and never in the way of the API."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from mock_server.testing.receiver import WebhookReceiver
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.contract import conforms
from tests.webhooks.helpers import assert_valid_event

pytestmark = pytest.mark.anyio

EVENTS = ["TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE"]


async def register(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    answer = await client.post(
        "/webhook/add", json={"webhook_url": url, "event": {"types": ["FINETUNE"]}}
    )
    assert answer.status_code == 200, answer.text
    hook: dict[str, Any] = answer.json()
    return hook


async def submit(client: httpx.AsyncClient, model: str = "FLUX") -> str:
    answer = (await client.post("/finetune/request/submit", json=doc_submit_body(model))).json()
    return str(answer.get("finetune_id") or answer["request_id"])


async def advance_and_flush(client: httpx.AsyncClient, seconds: float) -> None:
    await client.post("/_mock/clock/advance", json={"seconds": seconds})
    assert (await client.post("/_mock/webhooks/flush", json={})).status_code == 200


async def deliveries(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = conforms(
        "admin_webhook_deliveries", await client.get("/_mock/webhooks/deliveries", params=params)
    )
    return rows


async def test_three_events_in_order_valid_with_urls_and_ids(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    await register(mock_client, webhook_receiver.url)
    job_id = await submit(mock_client)
    await advance_and_flush(mock_client, 3600)
    await mock_client.post("/_mock/webhooks/flush", json={})
    calls = await webhook_receiver.arrived(3)
    await anyio.sleep(0.3)  # nothing more arrives
    assert webhook_receiver.events() == EVENTS
    for call in calls:
        assert_valid_event(call.json())
        assert call.json()["finetune_id"] == job_id
        assert call.headers["content-type"] == "application/json"
    details = (
        await mock_client.request("GET", "/finetune/request/details", json={"request_id": job_id})
    ).json()["finetune"]
    assert calls[0].json()["trained_model_url"] == details["cloud_storage_url"]
    assert calls[2].json()["inference_api_url"].endswith("/v1/flux-dev-finetuned")
    rows = await deliveries(mock_client, job_id=job_id)
    assert sorted(r["event"] for r in rows) == sorted(EVENTS)
    assert all(r["state"] == "delivered" and len(r["attempts"]) == 1 for r in rows)


async def test_qwen_events_carry_request_id(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    await register(mock_client, webhook_receiver.url)
    job_id = await submit(mock_client, "QWEN")
    await advance_and_flush(mock_client, 3600)
    calls = await webhook_receiver.arrived(1)
    assert calls[0].json()["request_id"] == job_id and "finetune_id" not in calls[0].json()


async def test_500_twice_then_success_is_three_attempts_one_success(
    make_client, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.then(500, 500)
    async with make_client(key="k", clock="virtual", datasets="skip") as client:
        hook = await register(client, webhook_receiver.url)
        await submit(client)
        await client.post("/_mock/clock/advance", json={"seconds": 5})  # TRAINING_COMPLETED
        await client.post("/_mock/webhooks/flush", json={})
        first = next(r for r in await deliveries(client) if r["event"] == "TRAINING_COMPLETED")
        assert first["state"] == "pending" and first["next_retry_at"]
        # retries wait on the mock's clock: nothing happens until it moves
        await client.post("/_mock/webhooks/flush", json={})
        assert len(webhook_receiver.received) == 1
        for _ in range(2):
            await advance_and_flush(client, 30)
        await advance_and_flush(client, 3600)
        await client.post("/_mock/webhooks/flush", json={})
        logs = conforms(
            "webhook_dispatch_logs",
            await client.get("/webhook/dispatch-logs", params={"webhook_id": hook["webhook_id"]}),
        )
    trained = [e for e in logs["logs"] if e["event"] == "TRAINING_COMPLETED"]
    assert [(e["attempt"], e["status_code"], e["success"]) for e in trained] == [
        (3, 200, True),
        (2, 500, False),
        (1, 500, False),
    ]
    # the later events waited for the first one: order per job holds
    assert webhook_receiver.events() == ["TRAINING_COMPLETED"] * 3 + EVENTS[1:]


async def test_a_receiver_that_hangs_times_out_and_is_given_up_bounded(
    make_client, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.hang_seconds = 1.5
    webhook_receiver.then("hang", "hang")
    async with make_client(
        key="k", clock="virtual", datasets="skip", webhook_timeout=0.3, webhook_max_attempts=2
    ) as client:
        await register(client, webhook_receiver.url)
        job_id = await submit(client)
        await client.post("/_mock/clock/advance", json={"seconds": 5})
        async with anyio.create_task_group() as group:
            group.start_soon(partial(client.post, "/_mock/webhooks/flush", json={}))
            await anyio.sleep(0.1)
            # the API answers while a delivery hangs
            listing = await client.get("/finetune/request/list")
            assert listing.status_code == 200
        await advance_and_flush(client, 60)
        rows = [r for r in await deliveries(client) if r["event"] == "TRAINING_COMPLETED"]
        details = (
            await client.request("GET", "/finetune/request/details", json={"request_id": job_id})
        ).json()
    assert rows[0]["state"] == "failed"
    assert [a["error"] for a in rows[0]["attempts"]] == ["timeout", "timeout"]
    assert details["finetune"]["status"] == "AVAILABLE"  # the job moves on regardless


async def test_a_receiver_that_is_down_gets_bounded_retries(make_client) -> None:
    async with make_client(
        key="k", clock="virtual", datasets="skip", webhook_max_attempts=3
    ) as client:
        await register(client, "http://127.0.0.1:9/nobody-listens")
        await submit(client)
        for _ in range(12):  # 3 events x 3 attempts, one job's events in order
            await advance_and_flush(client, 120)
        rows = await deliveries(client)
        status = (await client.get("/finetune/request/list")).json()[0]["status"]
    assert {r["state"] for r in rows} == {"failed"}
    assert all(len(r["attempts"]) == 3 for r in rows)
    assert all(a["error"].startswith("connection error") for r in rows for a in r["attempts"])
    assert status == "AVAILABLE"


async def test_a_4xx_is_not_retried(make_client, webhook_receiver) -> None:
    webhook_receiver.then(404)
    async with make_client(key="k", clock="virtual", datasets="skip") as client:
        await register(client, webhook_receiver.url)
        await submit(client)
        await advance_and_flush(client, 3.2)  # only TRAINING_COMPLETED has happened
        rows = await deliveries(client)
    assert rows[0]["state"] == "failed" and len(rows[0]["attempts"]) == 1


async def test_signed_deliveries_verify_with_standardwebhooks(
    make_client, webhook_receiver: WebhookReceiver
) -> None:
    async with make_client(
        key="k", clock="virtual", datasets="skip", webhook_signing=True
    ) as client:
        hook = await register(client, webhook_receiver.url)
        await submit(client)
        await advance_and_flush(client, 5)
    call = (await webhook_receiver.arrived(1))[0]
    secret = hook["signing_secret"]
    verified = Webhook(secret).verify(call.body, call.headers)
    assert verified["event"] == "TRAINING_COMPLETED"
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(call.body.replace(b"TRAINING", b"TRAINXNG"), call.headers)


async def test_sample_payload_from_the_api_and_the_admin(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    hook = await register(mock_client, webhook_receiver.url)
    tested = conforms(
        "webhook_test",
        await mock_client.post("/webhook/test", json={"webhook_id": hook["webhook_id"]}),
    )
    assert tested["delivery"]["success"] is True and tested["delivery"]["event"] == "TEST"
    admin = conforms(
        "admin_webhook_test",
        await mock_client.post(f"/_mock/webhooks/{hook['webhook_id']}/test", json={}),
    )
    assert admin["state"] == "delivered"
    calls = await webhook_receiver.arrived(2)
    for call in calls:
        assert_valid_event(call.json())
    assert webhook_receiver.events() == ["TEST", "TEST"]


async def test_webhooks_registered_later_only_get_later_events(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    await submit(mock_client)
    await advance_and_flush(mock_client, 3.5)  # TRAINING_COMPLETED happened, unheard
    await register(mock_client, webhook_receiver.url)
    await advance_and_flush(mock_client, 3600)
    await mock_client.post("/_mock/webhooks/flush", json={})
    await webhook_receiver.arrived(2)
    await anyio.sleep(0.2)
    assert webhook_receiver.events() == EVENTS[1:]


async def test_a_target_policy_refuses_and_never_retries(make_client) -> None:
    async with make_client(
        key="k", clock="virtual", datasets="skip", webhook_targets="loopback"
    ) as client:
        await register(client, "http://10.1.2.3/hook")
        await submit(client)
        await advance_and_flush(client, 3.2)
        rows = await deliveries(client)
    assert rows[0]["state"] == "failed"
    assert rows[0]["attempts"][0]["error"] == "target not allowed"


async def test_an_unusable_webhook_url_fails_its_delivery_not_the_dispatcher(
    make_client, webhook_receiver: WebhookReceiver
) -> None:
    async with make_client(key="k", clock="virtual", datasets="skip") as client:
        # /webhook/add refuses it now (format: uri); a state file from before still holds one
        registry = client.app.state.services.webhooks.registry  # type: ignore[attr-defined]
        tenant = client.app.state.runtime.tenants.of("k")  # type: ignore[attr-defined]
        registry.add(tenant, "http://[zz]/hook", ["FINETUNE"])
        await submit(client)
        client.headers["x-api-key"] = "k2"  # another tenant, with a working receiver
        await register(client, webhook_receiver.url)
        await submit(client)
        await advance_and_flush(client, 3.2)
        await client.post("/_mock/webhooks/flush", json={})
        rows = await deliveries(client, tenant="k")
        heard = await webhook_receiver.arrived(1)
    assert rows[0]["state"] == "failed" and "invalid URL" in rows[0]["attempts"][0]["error"]
    assert heard[0].json()["event"] == "TRAINING_COMPLETED"  # the dispatcher lives on
