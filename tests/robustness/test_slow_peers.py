"""Slow peers never hold up anyone else: a webhook target that trickles its answer forever,
one that never answers, and a client that trickles its request body. Other requests and
other tenants' deliveries still complete (the waits below are hang guards, not speed
limits), and every outbound call ends at the configured timeout."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from mock_server.testing.live import LiveServer, start_server, stop_server
from mock_server.testing.receiver import WebhookReceiver
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A, KEY_B
from tests.live_calls import add_webhook
from tests.robustness.peers import TricklingReceiver, trickle

GUARD = 60.0  # seconds: far beyond any honest answer, far below a trickle's end


@pytest.fixture
def slow_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("TUNEMOCK_WEBHOOK_TIMEOUT", "1")
    # a retry is due at once (the virtual clock stands still): a good target that was slow
    # once under load still hears every event
    monkeypatch.setenv("TUNEMOCK_WEBHOOK_RETRY_BASE", "0")
    server = start_server("--clock", "virtual", "--datasets", "skip")
    yield server
    stop_server(server)


def test_a_trickling_webhook_target_is_cut_off_and_holds_up_nobody(
    slow_server: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    base = slow_server.base_url
    with TricklingReceiver(stop_after=GUARD * 2) as trickler:
        slow_hook = add_webhook(base, KEY_A, trickler.url)
        add_webhook(base, KEY_B, webhook_receiver.url)
        # the console's test send waits for its one attempt: cut off at the timeout
        sent = httpx.post(
            f"{base}/webhook/test",
            headers={"x-api-key": KEY_A},
            json={"webhook_id": slow_hook},
            timeout=GUARD,
        )
        assert sent.status_code == 200, sent.text
        assert trickler.calls == 1
        for key in (KEY_A, KEY_B):
            submitted = httpx.post(
                f"{base}/finetune/request/submit",
                headers={"x-api-key": key},
                json=doc_submit_body("FLUX_PRO"),
            )
            assert submitted.status_code == 200
        slow_server.advance(3600)
        # tenant B hears its whole lifecycle while A's target trickles every attempt
        calls = webhook_receiver.wait_for(3, timeout=GUARD)
        assert [c.json()["event"] for c in calls] == [
            "TRAINING_COMPLETED",
            "INFERENCE_QUEUED",
            "AVAILABLE",
        ]
        deliveries = httpx.get(f"{base}/_mock/webhooks/deliveries", params={"tenant": KEY_A})
        attempts = [a for d in deliveries.json() for a in d["attempts"]]
        assert attempts and all(a["error"] == "timeout" for a in attempts)
        assert trickler.calls >= 2
    assert httpx.get(f"{base}/_mock/health").status_code == 200


def test_a_target_that_never_answers_holds_up_nobody(
    slow_server: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    base = slow_server.base_url
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connects, never reads
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        add_webhook(base, KEY_A, url)
        add_webhook(base, KEY_B, webhook_receiver.url)
        for key in (KEY_A, KEY_B):
            httpx.post(
                f"{base}/finetune/request/submit",
                headers={"x-api-key": key},
                json=doc_submit_body("FLUX"),
            ).raise_for_status()
        slow_server.advance(3600)
        assert len(webhook_receiver.wait_for(3, timeout=GUARD)) == 3
        listing = httpx.get(
            f"{base}/finetune/request/list", headers={"x-api-key": KEY_A}, timeout=GUARD
        )
        assert listing.status_code == 200 and len(listing.json()) == 1


def test_a_client_trickling_its_body_holds_up_nobody(slow_server: LiveServer) -> None:
    base = slow_server.base_url
    body = b'{"name": "' + b"x" * 2000 + b'"}'
    head = (
        b"POST /finetune/request/submit HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"x-api-key: " + KEY_A.encode() + b"\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    others_done = threading.Event()
    slowpokes = [
        threading.Thread(target=trickle, args=(base, head, body, 0.05, others_done))
        for _ in range(5)
    ]
    for thread in slowpokes:
        thread.start()
    try:
        with httpx.Client(base_url=base, timeout=GUARD, headers={"x-api-key": KEY_B}) as client:
            for _ in range(20):
                assert client.get("/finetune/request/list").status_code == 200
            done = client.post("/finetune/request/submit", json=doc_submit_body("QWEN"))
            assert done.status_code == 200
        # the slow bodies were still on their way (their last byte is never sent)
        assert all(thread.is_alive() for thread in slowpokes)
    finally:
        others_done.set()
        for thread in slowpokes:
            thread.join(timeout=GUARD)
    jobs = httpx.get(f"{base}/_mock/jobs").json()
    assert [job["tenant"] for job in jobs] == [KEY_B]  # the abandoned bodies made nothing
    assert httpx.get(f"{base}/_mock/health").status_code == 200
