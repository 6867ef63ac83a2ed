"""Two workers on one --state file and a slow receiver, with more deliveries due at once
than send slots: every event is delivered exactly once. A delivery is claimed only when a
send slot is free, and its lease outlives the attempt, so a delivery waiting for a slot is
never also taken by the other worker."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import httpx
import pytest

from mock_server.testing.receiver import running_receiver
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio

#: more jobs than both workers' slots for one target send in one lease's time (timeout
#: + 5 s) at SLOW_SECONDS an attempt: the tail of the queue waits longer than a lease
JOBS = 96
SLOW_SECONDS = 1.0
TIMEOUT = 4.0
#: the clock moved this far: every job has just reached TRAINING_COMPLETED (fast timing),
#: so each job has one event to deliver
TO_TRAINED = 3.2


async def test_two_workers_deliver_every_event_once_to_a_slow_receiver(tmp_path: Path) -> None:
    config = {
        "key": "k",
        "state": tmp_path / "state.db",
        "clock": "virtual",
        "datasets": "skip",
        "webhook_timeout": TIMEOUT,
    }
    with running_receiver() as receiver:
        receiver.hang_seconds = SLOW_SECONDS  # each call answers 200 after it: slow, in time
        receiver.then(*["hang"] * JOBS * 2)
        async with running_app(**config) as one, running_app(**config) as two:
            hook = {"webhook_url": receiver.url, "event": {"types": ["FINETUNE"]}}
            assert (await one.post("/webhook/add", json=hook)).status_code == 200
            for n in range(JOBS):
                client = one if n % 2 else two
                body = doc_submit_body("FLUX")
                assert (await client.post("/finetune/request/submit", json=body)).status_code == 200
            await one.post("/_mock/clock/advance", json={"seconds": TO_TRAINED})
            await receiver.arrived(JOBS, timeout=60)
            with anyio.move_on_after(30):  # until both workers have closed every delivery
                while await _closed(one) is None:
                    await anyio.sleep(0.2)
            await anyio.sleep(3 * SLOW_SECONDS)  # a duplicate still on its way would show
            rows = await _closed(one)
    sent = Counter((c.json()["finetune_id"], c.json()["event"]) for c in receiver.received)
    assert {pair: n for pair, n in sent.items() if n > 1} == {}  # no duplicates
    assert len(sent) == JOBS
    assert rows is not None and len(rows) == JOBS
    assert all(r["state"] == "delivered" and len(r["attempts"]) == 1 for r in rows)


async def _closed(client: httpx.AsyncClient) -> list[dict[str, object]] | None:
    """Every delivery, once there are JOBS of them and none is pending."""
    rows: list[dict[str, object]] = (
        await client.get("/_mock/webhooks/deliveries", params={"limit": 10000})
    ).json()
    done = len(rows) == JOBS and all(r["state"] != "pending" for r in rows)
    return rows if done else None
