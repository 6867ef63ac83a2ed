"""A webhook target that takes its whole timeout delays nobody else: while one tenant's
receiver hangs, another tenant's delivery arrives within a second of its event (the
dispatcher's background loop starts attempts and moves on)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from mock_server.testing.live import LiveServer, start_server, stop_server
from mock_server.testing.receiver import running_receiver
from tests.finetune.helpers import doc_submit_body

FAST_S = 1.0  # a hang guard far above a fast answer; the slow target holds its attempt 20 s


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("TUNEMOCK_WEBHOOK_TIMEOUT", "20")
    live = start_server("--clock", "virtual", "--datasets", "skip")
    yield live
    stop_server(live)


def _register_and_submit(c: httpx.Client, key: str, url: str) -> None:
    me = {"x-api-key": key}
    hook = c.post(
        "/webhook/add", json={"webhook_url": url, "event": {"types": ["FINETUNE"]}}, headers=me
    )
    assert hook.status_code == 200, hook.text
    assert c.post("/finetune/request/submit", json=doc_submit_body("QWEN"), headers=me)


def test_a_hanging_receiver_does_not_delay_another_tenants_delivery(server: LiveServer) -> None:
    with (
        running_receiver() as slow,
        running_receiver() as fast,
        httpx.Client(base_url=server.base_url, timeout=60) as c,
    ):
        slow.hang_seconds = 30
        slow.then("hang", "hang", "hang")
        _register_and_submit(c, "slow-tenant", slow.url)
        server.advance(3.5)  # the slow tenant's TRAINING_COMPLETED is due: its attempt hangs
        slow.wait_for(1, timeout=30)

        _register_and_submit(c, "fast-tenant", fast.url)
        started = time.monotonic()
        server.advance(3.5)
        fast.wait_for(1, timeout=60)
        waited = time.monotonic() - started
    assert fast.events() == ["TRAINING_COMPLETED"]
    assert waited < FAST_S, waited


def test_many_hanging_webhook_urls_of_one_tenant_fill_only_its_own_slots(
    server: LiveServer,
) -> None:
    with (
        running_receiver() as slow,
        running_receiver() as fast,
        httpx.Client(base_url=server.base_url, timeout=60) as c,
    ):
        slow.hang_seconds = 30
        slow.then(*["hang"] * 10)
        for _ in range(10):  # ten trainer jobs whose webhook_url hangs, all due at once
            created = c.post(
                "/lora-trainer/finetune",
                files=[
                    ("image_urls", (None, "http://127.0.0.1:9/a.png")),  # skip: not read
                    ("webhook_url", (None, slow.url)),
                ],
                headers={"x-api-key": "slow-tenant"},
            )
            assert created.status_code == 200, created.text
        server.advance(24 * 3600)
        slow.wait_for(2, timeout=30)

        _register_and_submit(c, "fast-tenant", fast.url)
        started = time.monotonic()
        server.advance(3.5)
        fast.wait_for(1, timeout=60)
        waited = time.monotonic() - started
        slow_calls = len(slow.received)
    assert waited < FAST_S, waited
    assert fast.events() == ["TRAINING_COMPLETED"]
    # the slow tenant's target has a few slots (8 per tenant and target): the rest of its ten
    # deliveries wait their turn instead of all hanging at once
    assert 2 <= slow_calls < 10, slow_calls
