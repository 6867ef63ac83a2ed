"""One tenant's slow dataset URLs cannot starve the others: while 50 of its submits wait on a
host that dribbles a byte every 5 s (minutes per fetch), another tenant's submit, list and
webhook delivery each complete in under a second. Fetches run in per-tenant slots, not in
the thread pool that submits, the dashboard and the dispatcher share."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from fixtures.datasets import make_datasets
from mock_server.outbound import TenantSlots
from mock_server.testing.live import LiveServer, start_server, stop_server
from mock_server.testing.receiver import running_receiver
from tests.finetune.helpers import doc_submit_body
from tests.security.hosts import dribbling_host

DATASETS = Path(make_datasets.__file__).parent
SLOW_SUBMITS = 50
#: A hang guard for the other tenant's calls, far above a fast answer; the slow path takes
#: minutes.
FAST_S = 1.0


@pytest.fixture
def server() -> Iterator[LiveServer]:
    live = start_server("--clock", "virtual")  # datasets fetched (the default)
    yield live
    stop_server(live)


def _slow_submit(base_url: str, url: str) -> None:
    body = doc_submit_body("QWEN") | {"data_source_path": url}
    with contextlib.suppress(httpx.HTTPError):  # the server stops under it at the end
        httpx.post(
            f"{base_url}/finetune/request/submit",
            json=body,
            headers={"x-api-key": "slow-tenant"},
            timeout=600,
        )


def _upload(fast: httpx.Client, data: bytes) -> str:
    """The fast tenant's dataset, in mock storage (presigned PUT): its submit reads a file."""
    urls = fast.request(
        "GET", "/finetune/request/upload/pre-signed-url", json={"name": "good.zip"}
    ).json()
    assert fast.put(urls["presigned_url"], content=data).status_code == 200
    return str(urls["s3_url"])


def _timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = call()  # type: ignore[operator]
    return answer, time.monotonic() - started


def test_dribbling_datasets_of_one_tenant_do_not_delay_another(
    server: LiveServer, tmp_path: Path
) -> None:
    with (
        dribbling_host(5.0) as (slow_url, gets),
        running_receiver() as receiver,
        httpx.Client(
            base_url=server.base_url, headers={"x-api-key": "fast-tenant"}, timeout=300
        ) as fast,
    ):
        for _ in range(SLOW_SUBMITS):
            threading.Thread(
                target=_slow_submit, args=(server.base_url, slow_url), daemon=True
            ).start()
        deadline = time.monotonic() + 60
        while not gets and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gets, "the slow tenant's fetches never started"
        time.sleep(2)  # every slow submit has arrived and is fetching or queued

        dataset = _upload(fast, (DATASETS / "good" / "images.zip").read_bytes())
        added = fast.post(
            "/webhook/add", json={"webhook_url": receiver.url, "event": {"types": ["FINETUNE"]}}
        )
        assert added.status_code == 200
        body = doc_submit_body("QWEN") | {"data_source_path": dataset}
        submitted, submit_s = _timed(lambda: fast.post("/finetune/request/submit", json=body))
        listed, list_s = _timed(lambda: fast.get("/finetune/request/list"))

        fast.post("/_mock/clock/advance", json={"seconds": 3.5})
        started = time.monotonic()
        assert fast.post("/_mock/webhooks/flush", json={}).status_code == 200
        receiver.wait_for(1, timeout=300)
        delivery_s = time.monotonic() - started

        slow_gets = len(gets)
    assert max(submit_s, list_s, delivery_s) < FAST_S, (submit_s, list_s, delivery_s)
    assert submitted.status_code == 200, submitted.text
    assert listed.status_code == 200 and len(listed.json()) == 1
    assert receiver.events() == ["TRAINING_COMPLETED"]
    assert slow_gets <= 2  # the slow tenant had its two fetch slots, no more


@pytest.mark.anyio
async def test_tenant_slots_queue_a_tenant_behind_its_own_calls_only() -> None:
    slots = TenantSlots(per_tenant=2, total=8)
    release = threading.Event()
    started: list[str] = []

    def blocking(name: str) -> str:
        started.append(name)
        release.wait(30)
        return name

    async with anyio.create_task_group() as group:
        for i in range(3):
            group.start_soon(slots.run_sync, "slow", blocking, f"slow-{i}")
        with anyio.fail_after(10):
            while len(started) < 2:
                await anyio.sleep(0.01)
            other = await slots.run_sync("other", lambda: "other")  # not behind "slow"
            async with slots.hold("other"):
                pass
        queued = list(started)
        release.set()
    assert other == "other"
    assert len(queued) == 2  # the slow tenant's third call waited for one of its slots
    assert len(started) == 3  # and ran once a slot was free
