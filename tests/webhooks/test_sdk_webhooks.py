"""The official SDK manages webhooks on a live mock; a real receiver hears the lifecycle."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from segmind import SegmindClient
from segmind.exceptions import SegmindError
from segmind.finetune import Finetune
from segmind.webhooks import Webhooks

from mock_server.testing.live import LiveServer, free_port, start_server, stop_server
from mock_server.testing.receiver import WebhookReceiver
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A
from tests.webhooks.helpers import assert_valid_event

EVENTS = ["TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE"]


@pytest.fixture
def sdk(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SegmindClient]:
    monkeypatch.setattr(Finetune, "base_url", f"{live_server.base_url}/finetune/request")
    monkeypatch.setattr(Webhooks, "base_url", f"{live_server.base_url}/webhook")
    client = SegmindClient(api_key=KEY_A, base_url=f"{live_server.base_url}/v1")
    yield client
    client._client.close()


def test_sdk_registered_webhook_hears_three_events_in_order(
    sdk: SegmindClient, live_server: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    hook = sdk.webhooks.add(webhook_receiver.url, ["FINETUNE"])
    assert [h["webhook_id"] for h in sdk.webhooks.get()["webhooks"]] == [hook["webhook_id"]]
    body = doc_submit_body("FLUX_PRO")
    job_id = sdk.finetune.submit(
        **{
            k: body[k]
            for k in ("name", "data_source_path", "instance_prompt", "trigger_word", "base_model")
        },
        train_type="LORA",
        machine_type="NVIDIA_H100",
    )["finetune_id"]
    live_server.advance(3600)
    calls = webhook_receiver.wait_for(3)
    time.sleep(0.3)
    assert webhook_receiver.events() == EVENTS
    for call in calls:
        payload = call.json()
        assert_valid_event(payload)
        assert payload["finetune_id"] == job_id
    details = sdk.finetune.details(job_id)["finetune"]
    assert calls[0].json()["trained_model_url"] == details["cloud_storage_url"]
    assert calls[2].json()["inference_api_url"] == f"{live_server.base_url}/v1/flux-dev-finetuned"
    logs = sdk.webhooks.logs(hook["webhook_id"])["logs"]
    assert sorted(e["event"] for e in logs) == sorted(EVENTS) and all(e["success"] for e in logs)

    with pytest.raises(SegmindError) as refused:
        sdk.webhooks.add(webhook_receiver.url, ["FINETUNE"])
    assert refused.value.status == 409 and "delete the old webhook" in (refused.value.detail or "")
    sdk.webhooks.delete(hook["webhook_id"])
    again = sdk.webhooks.add(webhook_receiver.url, ["FINETUNE"])
    assert again["status"] == "ACTIVE"
    moved = sdk.webhooks.update(again["webhook_id"], f"{webhook_receiver.url}/v2", ["FINETUNE"])
    assert moved["webhook_url"] == f"{webhook_receiver.url}/v2"
    assert [h["webhook_url"] for h in sdk.webhooks.get()["webhooks"]] == [moved["webhook_url"]]


def test_pending_deliveries_survive_a_restart(tmp_path: Path, webhook_receiver) -> None:
    state, port = tmp_path / "state.db", free_port()
    args = ("--state", str(state), "--clock", "virtual", "--datasets", "skip")
    server = start_server(*args, port=port)
    webhook_receiver.then(503, 503, 503, 503, 503)
    try:
        headers = {"x-api-key": KEY_A}
        httpx.post(
            f"{server.base_url}/webhook/add",
            headers=headers,
            json={"webhook_url": webhook_receiver.url, "event": {"types": ["FINETUNE"]}},
        )
        httpx.post(
            f"{server.base_url}/finetune/request/submit",
            headers=headers,
            json=doc_submit_body("QWEN"),
        ).raise_for_status()
        server.advance(3.2)
        webhook_receiver.wait_for(1)
    finally:
        stop_server(server)
    webhook_receiver.plan.clear()  # the receiver recovers while the mock is down
    restarted = start_server(*args, port=port)
    try:
        restarted.advance(3600)
        calls = webhook_receiver.wait_for(4)
        time.sleep(0.3)
    finally:
        stop_server(restarted)
    events = webhook_receiver.events()
    assert events[0] == "TRAINING_COMPLETED" and events[-3:] == EVENTS
    assert len(events) == 4  # one failed try before the restart, then each event once
    assert calls
