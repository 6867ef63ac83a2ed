"""The seed-004 trainer's `webhook_url` (a multipart form field) through the proxy: the form
goes upstream with the proxy's receiver in that one field, every other byte as sent, and
the callback reaches the app's receiver, checked against the trainer's `webhooks:` entry."""

from __future__ import annotations

import httpx

from fixtures.datasets import make_datasets
from mock_server.proxy.hooks import registered_url
from mock_server.testing.live import LiveServer
from mock_server.testing.receiver import WebhookReceiver
from tests.fixtures.server import KEY_A
from tests.proxy.helpers import running_proxy

PNG = make_datasets._image(1)


def test_a_trainer_callback_comes_through_the_proxy(
    live_server: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    files = [("image_files", (f"img{i}.png", PNG, "image/png")) for i in range(2)] + [
        ("webhook_url", (None, "https://app.example/trainer-hook")),
        ("lora_prefix", (None, "MYDOG")),
    ]
    with running_proxy(live_server.base_url, webhook_forward=webhook_receiver.url) as proxy:
        created = httpx.post(
            f"{proxy.url}/lora-trainer/finetune", files=files, headers={"x-api-key": KEY_A}
        )
        assert created.status_code == 200, created.text
        data = created.json()["data"]
        # the upstream was told the proxy's receiver, and got both images whole
        assert data["args"]["webhook_url"] == (
            f"{proxy.url}/_mock/hooks/lora_trainer_finetune_finished"
        )
        assert data["args"]["image_count"] == 2
        live_server.advance(3600)
        httpx.post(f"{live_server.base_url}/_mock/webhooks/flush", json={}).raise_for_status()
        (call,) = webhook_receiver.wait_for(1)
        journal = httpx.get(f"{proxy.url}/_mock/requests").json()
        violations = httpx.get(f"{proxy.url}/_mock/violations").json()
    assert call.json()["data"]["id"] == data["id"]
    assert call.json()["data"]["status"] == "success"
    hook = next(e for e in journal if e["path"] == "/_mock/hooks")
    assert hook["operation"] == "lora_trainer_finetune_webhook" and not hook["flagged"]
    assert violations == []


def test_only_the_webhook_url_part_of_a_form_changes() -> None:
    boundary = "b0undary"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="lora_prefix"\r\n\r\nX\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="webhook_url"\r\n\r\n'
        f"https://a.example/h\r\n--{boundary}--\r\n"
    ).encode()
    kind = f"multipart/form-data; boundary={boundary}"
    changed = registered_url(form, kind, "http://127.0.0.1:1/_mock/hooks/x")
    assert changed == form.replace(b"https://a.example/h", b"http://127.0.0.1:1/_mock/hooks/x")
    without = form.replace(b'name="webhook_url"', b'name="other"')
    assert registered_url(without, kind, "http://x") is None
    assert registered_url(form, "multipart/form-data", "http://x") is None  # no boundary
