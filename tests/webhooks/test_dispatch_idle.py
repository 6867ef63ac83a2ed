"""When nothing is due, the dispatcher reads no jobs and no deliveries: what it costs does
not grow with what is stored (counted in calls to the store)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from mock_server import Config, create_app
from mock_server.store.memory import MemoryStore
from mock_server.testing.receiver import WebhookReceiver
from mock_server.webhooks.dispatcher import Dispatcher
from tests.finetune.helpers import doc_submit_body

pytestmark = pytest.mark.anyio

JOBS = 30
#: store calls that read records (a scan reads them all)
READS = {"get", "list", "count"}


class CountingStore(MemoryStore):
    """A MemoryStore that counts the calls made to it by name."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if not name.startswith("_") and callable(value):
            super().__getattribute__("calls")[name] += 1
        return value


@pytest.fixture
async def settled(
    webhook_receiver: WebhookReceiver,
) -> AsyncIterator[tuple[CountingStore, Dispatcher]]:
    """JOBS fine-tunes with a webhook, every event delivered: nothing is due any more."""
    store = CountingStore()
    app = create_app(Config(clock="virtual", datasets="skip"), store=store)
    dispatcher: Dispatcher = app.state.services.webhooks
    transport = httpx.ASGITransport(app=app)
    headers = {"x-api-key": "k"}
    async with httpx.AsyncClient(transport=transport, base_url="http://m", headers=headers) as c:
        hook = {"webhook_url": webhook_receiver.url, "event": {"types": ["FINETUNE"]}}
        assert (await c.post("/webhook/add", json=hook)).status_code == 200
        for _ in range(JOBS):
            await c.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        await c.post("/_mock/clock/advance", json={"seconds": 3600})
        for _ in range(3):  # a job's events go one after the other
            await dispatcher.tick()
        assert len(webhook_receiver.received) == 3 * JOBS
    yield store, dispatcher
    await dispatcher.sender.aclose()


async def test_a_flush_with_nothing_due_reads_no_records(
    settled: tuple[CountingStore, Dispatcher],
) -> None:
    store, dispatcher = settled
    store.calls.clear()
    report = await dispatcher.tick()
    assert (report.enqueued, report.attempted) == (0, 0)
    assert {name: n for name, n in store.calls.items() if name in READS} == {}


async def test_the_idle_loop_only_asks_whether_anything_changed(
    settled: tuple[CountingStore, Dispatcher],
) -> None:
    store, dispatcher = settled
    store.calls.clear()
    with anyio.move_on_after(0.5):
        await dispatcher.run(0.01)  # some 50 wake-ups
    assert {name: n for name, n in store.calls.items() if name in READS} == {}
    assert store.calls["changes"] > 10
