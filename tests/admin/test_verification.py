"""Verification: the journal filtered by operation, tenant, status, time and body fields
(`GET /_mock/requests`, `/_mock/requests/count`), and the plugin's `assert_called` with its
near misses."""

from __future__ import annotations

import json

import httpx
import pytest

from mock_server.testing.live import LiveServer
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A, KEY_B, running_app

pytestmark = pytest.mark.anyio


async def _submit(client: httpx.AsyncClient, key: str, model: str) -> None:
    answer = await client.post(
        "/finetune/request/submit", json=doc_submit_body(model), headers={"x-api-key": key}
    )
    assert answer.status_code == 200, answer.text


async def test_filters_select_by_operation_tenant_status_and_body() -> None:
    async with running_app(clock="virtual", datasets="skip") as client:
        await _submit(client, KEY_A, "FLUX_PRO")
        await _submit(client, KEY_B, "QWEN")
        await client.get("/finetune/request/list", headers={"x-api-key": KEY_A})
        await client.post("/finetune/request/submit", json={}, headers={"x-api-key": KEY_A})

        async def paths(**params: object) -> list[tuple[str, int]]:
            answer = await client.get("/_mock/requests", params=params)
            assert answer.status_code == 200, answer.text
            return [(e["path"], e["status"]) for e in answer.json()]

        submits = await paths(operation="finetune_submit")
        assert len(submits) == 3 and all(p == "/finetune/request/submit" for p, _ in submits)
        assert await paths(operation="finetune_submit", status=200, tenant=KEY_B) == [
            ("/finetune/request/submit", 200)
        ]
        flux_pro = await paths(match=json.dumps({"base_model": "FLUX_PRO"}))
        assert flux_pro == [("/finetune/request/submit", 200)]
        assert await paths(tenant=KEY_A, operation="finetune_list") == [
            ("/finetune/request/list", 200)
        ]
        assert await paths(since="2999-01-01T00:00:00+00:00") == []
        count = await client.get(
            "/_mock/requests/count", params={"operation": "finetune_submit", "status": 400}
        )
        assert count.json() == {"count": 1}


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"operation": "no_such_operation"}, "operation"),
        ({"match": "not json"}, "match"),
        ({"match": "[1, 2]"}, "match"),
        ({"since": "yesterday"}, "since"),
    ],
)
async def test_a_bad_filter_is_a_400_naming_it(params: dict[str, str], word: str) -> None:
    async with running_app(clock="virtual") as client:
        for path in ("/_mock/requests", "/_mock/requests/count"):
            answer = await client.get(path, params=params)
            assert answer.status_code == 400, answer.text
            assert word in answer.json()["error"]


async def test_with_the_journal_off_verification_says_so() -> None:
    async with running_app(clock="virtual", journal_size=0) as client:
        await client.get("/finetune/request/list", headers={"x-api-key": KEY_A})
        assert (await client.get("/_mock/requests")).json() == []
        for path, params in (
            ("/_mock/requests", {"operation": "finetune_list"}),
            ("/_mock/requests/count", {}),
        ):
            answer = await client.get(path, params=params)
            assert answer.status_code == 409
            assert "journal is off" in answer.json()["error"]


def test_assert_called_passes_and_fails_with_near_misses(live_server: LiveServer) -> None:
    headers = {"x-api-key": "verify-key"}
    for model in ("FLUX_PRO", "QWEN"):
        answer = httpx.post(
            f"{live_server.base_url}/finetune/request/submit",
            json=doc_submit_body(model),
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
    found = live_server.assert_called("finetune_submit", times=1, base_model="QWEN")
    assert json.loads(found[0]["request"]["body"])["base_model"] == "QWEN"
    live_server.assert_called("finetune_submit", tenant="verify-key", status=200)
    with pytest.raises(AssertionError) as missed:
        live_server.assert_called("finetune_submit", times=1, base_model="FLUX")
    message = str(missed.value)
    assert "expected 1 call(s), found 0" in message
    assert "near misses" in message
    assert "base_model: 'QWEN' (expected 'FLUX')" in message
    assert "base_model: 'FLUX_PRO' (expected 'FLUX')" in message
    with pytest.raises(AssertionError) as never:
        live_server.assert_called("inference_v2_status")
    assert "was never called; the latest calls were:" in str(never.value)
    assert "POST /finetune/request/submit -> 200" in str(never.value)
