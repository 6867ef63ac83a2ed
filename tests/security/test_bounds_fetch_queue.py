"""A tenant's fetch queue is bounded: past `fetch_queue_per_tenant` waiting calls, one more
is refused at once with the specs' 429 (vendor error shape, Retry-After), before it charges
or fetches anything; other tenants' calls are not counted against it."""

from __future__ import annotations

import anyio
import pytest

from mock_server.errors import TooManyRequests
from mock_server.outbound import TenantSlots
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio

KEY = "key-queue-bound-tenant-01"


async def test_a_full_queue_refuses_the_next_call_and_spares_other_tenants() -> None:
    slots = TenantSlots(per_tenant=1, total=8, queue=1)
    release = anyio.Event()

    async def held(tenant: str) -> None:
        async with slots.hold(tenant):
            await release.wait()

    async with anyio.create_task_group() as group:
        group.start_soon(held, "slow")  # under way
        group.start_soon(held, "slow")  # queued
        await anyio.wait_all_tasks_blocked()
        with anyio.fail_after(10), pytest.raises(TooManyRequests) as refused:
            async with slots.hold("slow"):  # unbounded, it would wait in the queue
                pass
        assert "at most 2" in refused.value.message
        assert await slots.run_sync("other", lambda: "other") == "other"
        release.set()
    async with slots.hold("slow"):  # the queue emptied: calls are taken again
        pass


async def test_a_submit_over_the_bound_answers_429_in_the_vendor_shape() -> None:
    config = {"fetch_slots_per_tenant": 1, "fetch_queue_per_tenant": 0, "clock": "virtual"}
    body = doc_submit_body("FLUX") | {"data_source_path": "http://127.0.0.1:9/data.zip"}
    async with running_app(key=KEY, **config) as client:
        app = client.app  # type: ignore[attr-defined]
        slots: TenantSlots = app.state.services.outbound.slots
        tenant = app.state.runtime.tenants.of(KEY)
        release = anyio.Event()

        async def busy() -> None:  # the tenant's one slot, taken by a slow fetch
            async with slots.hold(tenant):
                await release.wait()

        async with anyio.create_task_group() as group:
            group.start_soon(busy)
            await anyio.wait_all_tasks_blocked()
            with anyio.fail_after(10):  # unbounded, it would wait for the slot
                refused = await client.post("/finetune/request/submit", json=body)
            release.set()
        assert refused.status_code == 429
        assert set(refused.json()) == {"error"} and "Too many fetches" in refused.json()["error"]
        assert int(refused.headers["retry-after"]) >= 1
        jobs = (await client.get("/_mock/jobs", params={"tenant": KEY})).json()
        assert jobs == []  # nothing made, nothing charged
        after = await client.post("/finetune/request/submit", json=body)
        assert after.status_code != 429  # the slot is free again: the call goes on
