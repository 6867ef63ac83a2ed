"""Fault injection: rules through the admin API (and the config), one-off headers, every
action — status, latency, drop, truncate, slow body — and the journal saying which."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from mock_server.tenancy import mask_secret
from mock_server.testing.live import LiveServer
from tests.fixtures.contract import conforms

pytestmark = pytest.mark.anyio


async def test_a_rule_answers_its_status_in_the_vendor_format_count_times(
    mock_client: httpx.AsyncClient,
) -> None:
    rule = {
        "match": {"method": "GET", "path": "/finetune/request/*", "api_key": None},
        "action": {"status": 503},
        "probability": 1.0,
        "count": 2,
    }
    added = conforms("admin_faults_add", await mock_client.post("/_mock/faults", json=rule))
    assert added["id"] and added["count"] == 2
    statuses = [(await mock_client.get("/finetune/request/list")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    faulted = await mock_client.get("/_mock/requests", params={"limit": 3})
    assert [e["fault"] is not None for e in faulted.json()] == [False, True, True]
    # faulted ones too, each by the key's tenant id (the key masked, then a salted hash)
    tenants = {e["tenant"] for e in faulted.json()}
    assert len(tenants) == 1 and tenants.pop().startswith(
        mask_secret(mock_client.headers["x-api-key"])
    )
    assert "status=503" in faulted.json()[1]["fault"]


async def test_rules_match_key_and_method_and_can_be_removed(
    mock_client: httpx.AsyncClient,
) -> None:
    rule = {"match": {"path": "/finetune/*", "api_key": "victim"}, "action": {"status": 500}}
    added = (await mock_client.post("/_mock/faults", json=rule)).json()
    assert (await mock_client.get("/finetune/request/list")).status_code == 200
    hit = await mock_client.get("/finetune/request/list", headers={"x-api-key": "victim"})
    assert hit.status_code == 500 and "Injected fault" in hit.json()["error"]
    listed = conforms("admin_faults_list", await mock_client.get("/_mock/faults"))
    assert [r["id"] for r in listed] == [added["id"]]
    removed = await mock_client.delete(f"/_mock/faults/{added['id']}")
    assert removed.status_code == 200
    again = await mock_client.get("/finetune/request/list", headers={"x-api-key": "victim"})
    assert again.status_code == 200
    assert (await mock_client.delete("/_mock/faults/nope")).status_code == 404


async def test_one_off_header_and_bad_rules(mock_client: httpx.AsyncClient) -> None:
    once = await mock_client.get("/finetune/request/list", headers={"x-mock-fault": "status=502"})
    assert once.status_code == 502 and once.json()["error"]
    lora = await mock_client.get("/lora-trainer/finetune/x", headers={"x-mock-fault": "status=503"})
    assert lora.status_code == 503 and lora.json()["detail"]  # each vendor's own format
    garbled = await mock_client.get("/finetune/request/list", headers={"x-mock-fault": "explode"})
    assert garbled.status_code == 400 and "x-mock-fault" in garbled.json()["error"]
    bad = await mock_client.post("/_mock/faults", json={"action": {"status": 200}})
    assert bad.status_code == 400
    admin = await mock_client.get("/_mock/health", headers={"x-mock-fault": "status=500"})
    assert admin.status_code == 200  # the admin API is never faulted


def test_latency_drop_truncate_and_slow_body_on_a_live_server(live_server: LiveServer) -> None:
    url = f"{live_server.base_url}/finetune/request/list"
    key = {"x-api-key": "k"}
    started = time.monotonic()
    slow = httpx.get(url, headers=key | {"x-mock-fault": "latency=300ms"})
    assert slow.status_code == 200 and time.monotonic() - started >= 0.3
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url, headers=key | {"x-mock-fault": "drop"})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url, headers=key | {"x-mock-fault": "truncate"})
    trickled = httpx.get(url, headers=key | {"x-mock-fault": "slow-body=200ms"})
    assert trickled.status_code == 200 and trickled.json() == []
    assert httpx.get(f"{live_server.base_url}/_mock/health").status_code == 200  # still up


async def test_rules_from_the_config_file_survive_a_reset(make_client, tmp_path: Path) -> None:
    rules = ({"match": {"path": "/webhook/*"}, "action": {"status": 504}},)
    async with make_client(key="k", faults=rules) as client:
        assert (await client.get("/webhook/get")).status_code == 504
        await client.post("/_mock/reset", json={})
        assert (await client.get("/webhook/get")).status_code == 504
        await client.delete("/_mock/faults")
        assert (await client.get("/webhook/get")).status_code == 200
