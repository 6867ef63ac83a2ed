"""Rate limits per key and group: 429 in the vendor's format with Retry-After, off by
default, and the SDK sees a SegmindError with status 429."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from segmind.exceptions import SegmindError

from mock_server.testing.live import start_server, stop_server
from mock_server.testing.sdk import segmind_client

pytestmark = pytest.mark.anyio

LIMITS = {"segmind-finetune": {"per_second": 0.5, "burst": 2}}


async def test_the_third_call_in_a_burst_is_429_with_retry_after(make_client) -> None:
    async with make_client(key="k", rate_limits=LIMITS) as client:
        answers = [await client.get("/finetune/request/list") for _ in range(3)]
        other_key = await client.get("/finetune/request/list", headers={"x-api-key": "k2"})
        other_api = await client.get("/webhook/get")
        admin = await client.get("/_mock/health")
        journal = (await client.get("/_mock/requests", params={"limit": 10})).json()
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["retry-after"] == "2"
    assert "Rate limit" in answers[2].json()["error"]
    assert other_key.status_code == other_api.status_code == admin.status_code == 200
    assert 429 in [entry["status"] for entry in journal]


async def test_no_limits_unless_configured(make_client) -> None:
    async with make_client(key="k") as client:
        statuses = {(await client.get("/finetune/request/list")).status_code for _ in range(20)}
    assert statuses == {200}


def test_the_sdk_sees_429(tmp_path: Path) -> None:
    config = tmp_path / "tunemock.yaml"
    config.write_text("rate_limits:\n  '*': {per_second: 0.2, burst: 1}\n", encoding="utf-8")
    server = start_server("--config", str(config), "--datasets", "skip")
    try:
        with segmind_client(server.base_url, api_key="sdk") as client:
            client.finetune.list()
            with pytest.raises(SegmindError) as limited:
                client.finetune.list()
    finally:
        stop_server(server)
    assert limited.value.status == 429 and "Rate limit" in (limited.value.detail or "")


def test_every_operation_of_the_contract_has_a_handler(mock_app) -> None:
    handlers = mock_app.state.dispatcher.handlers
    missing = [
        op.operation_id for op in mock_app.state.spec.operations if op.operation_id not in handlers
    ]
    assert missing == []


async def test_429_then_success_once_the_window_passes(make_client) -> None:
    limits = {"finetune_list": {"per_second": 2, "burst": 1}}
    async with make_client(key="k", rate_limits=limits) as client:
        first = await client.get("/finetune/request/list")
        limited = await client.get("/finetune/request/list")
        await anyio.sleep(float(limited.headers["retry-after"]))  # the wait it asks for
        again = await client.get("/finetune/request/list")
    assert (first.status_code, limited.status_code, again.status_code) == (200, 429, 200)
    assert limited.headers["retry-after"] == "1"
