"""One tenant's receiver hangs with many jobs aimed at it; another tenant's three events
still go out at once: send slots are shared per tenant and target, and no pass waits for
the attempts it started."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from mock_server.testing.receiver import running_receiver
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio

EVENTS = ["TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE"]
HANGING_JOBS = 40
TIMEOUT = 5.0


async def _register(client: httpx.AsyncClient, key: str, url: str) -> None:
    hook = {"webhook_url": url, "event": {"types": ["FINETUNE"]}}
    answer = await client.post("/webhook/add", json=hook, headers={"x-api-key": key})
    assert answer.status_code == 200


async def _rows(client: httpx.AsyncClient, tenant: str) -> list[dict[str, Any]]:
    answer = await client.get("/_mock/webhooks/deliveries", params={"tenant": tenant})
    rows: list[dict[str, Any]] = answer.json()
    return rows


async def test_a_hanging_target_does_not_hold_up_another_tenants_events() -> None:
    with running_receiver() as hanging, running_receiver() as fast:
        hanging.hang_seconds = 3 * TIMEOUT  # past the timeout: every attempt times out
        hanging.then(*["hang"] * HANGING_JOBS * 3)
        async with running_app(clock="virtual", datasets="skip", webhook_timeout=TIMEOUT) as c:
            await _register(c, "x", hanging.url)
            await _register(c, "y", fast.url)
            body = doc_submit_body("FLUX")
            for _ in range(HANGING_JOBS):
                await c.post("/finetune/request/submit", json=body, headers={"x-api-key": "x"})
            await c.post("/finetune/request/submit", json=body, headers={"x-api-key": "y"})
            await c.post("/_mock/clock/advance", json={"seconds": 3600})
            # y's three events, one after the other (each waits for the one before it)
            await fast.arrived(3, timeout=3 * TIMEOUT)
            with anyio.fail_after(TIMEOUT):  # the third's answer recorded too
                while {r["state"] for r in await _rows(c, "y")} != {"delivered"}:
                    await anyio.sleep(0.02)
            x_rows = await _rows(c, "x")
    assert fast.events() == EVENTS
    # ...all while x's first attempts were still in flight: none had timed out yet, so
    # none of y's events waited for one of x's
    assert hanging.received, "x's deliveries were being attempted"
    assert [r for r in x_rows if r["attempts"]] == []
