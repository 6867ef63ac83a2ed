"""The webhook registry as the SDK drives it: one fine-tune webhook at a time, per tenant."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.contract import conforms
from tests.fixtures.server import KEY_B

pytestmark = pytest.mark.anyio


async def add(client: httpx.AsyncClient, url: str, types: list[str], **kw: Any) -> httpx.Response:
    return await client.post(
        "/webhook/add", json={"webhook_url": url, "event": {"types": types}}, **kw
    )


async def test_add_get_update_inactive(mock_client: httpx.AsyncClient) -> None:
    added = conforms("webhook_add", await add(mock_client, "http://127.0.0.1:9/a", ["FINETUNE"]))
    hook_id = added["webhook_id"]
    assert added["status"] == "ACTIVE" and "signing_secret" not in added
    listed = conforms("webhook_get", await mock_client.get("/webhook/get"))
    assert [h["webhook_id"] for h in listed["webhooks"]] == [hook_id]
    updated = await mock_client.post(
        "/webhook/update",
        json={
            "webhook_id": hook_id,
            "webhook_url": "http://127.0.0.1:9/b",
            "event": {"types": ["FINETUNE", "PIXELFLOW"]},
        },
    )
    assert conforms("webhook_update", updated)["webhook_url"] == "http://127.0.0.1:9/b"
    gone = await mock_client.get("/webhook/inactive", params={"webhook_id": hook_id})
    assert conforms("webhook_inactive", gone)["status"] == "INACTIVE"
    assert (await mock_client.get("/webhook/get")).json() == {"webhooks": []}
    again = await mock_client.get("/webhook/inactive", params={"webhook_id": hook_id})
    assert again.status_code == 404


async def test_only_one_finetune_webhook_at_a_time(mock_client: httpx.AsyncClient) -> None:
    first = (await add(mock_client, "http://127.0.0.1:9/a", ["FINETUNE"])).json()
    second = await add(mock_client, "http://127.0.0.1:9/b", ["FINETUNE"])
    assert second.status_code == 409
    message = conforms("webhook_add", second)["error"]
    assert "delete the old webhook" in message and first["webhook_id"] in message
    other_tenant = await add(
        mock_client, "http://127.0.0.1:9/d", ["FINETUNE"], headers={"x-api-key": KEY_B}
    )
    assert other_tenant.status_code == 200  # one per account
    await mock_client.get("/webhook/inactive", params={"webhook_id": first["webhook_id"]})
    assert (await add(mock_client, "http://127.0.0.1:9/e", ["FINETUNE"])).status_code == 200


@pytest.mark.parametrize("route", ["/webhook/add", "/webhook/update"])
async def test_a_webhook_for_no_type_the_mock_delivers_is_refused_naming_those_it_does(
    mock_client: httpx.AsyncClient, route: str
) -> None:
    body = {"webhook_id": "wh_1", "webhook_url": "http://127.0.0.1:9/c"}
    answer = await mock_client.post(
        route, json={**body, "event": {"types": ["TRAINING_COMPLETED", "PIXELFLOW"]}}
    )
    assert answer.status_code == 400, answer.text
    assert conforms("webhook_add", answer)["error"] == (
        "Invalid request body: event.types: ['TRAINING_COMPLETED', 'PIXELFLOW'] holds none of "
        "['FINETUNE'] (the event types the mock delivers)"
    )
    assert (await mock_client.get("/webhook/get")).json() == {"webhooks": []}


async def test_another_tenants_webhook_is_unknown(mock_client: httpx.AsyncClient) -> None:
    hook = (await add(mock_client, "http://127.0.0.1:9/a", ["FINETUNE"])).json()
    b = {"x-api-key": KEY_B}
    for path in ("/webhook/inactive", "/webhook/dispatch-logs"):
        response = await mock_client.get(path, params={"webhook_id": hook["webhook_id"]}, headers=b)
        assert response.status_code == 404, path
    update = await mock_client.post(
        "/webhook/update",
        headers=b,
        json={
            "webhook_id": hook["webhook_id"],
            "webhook_url": "http://x.test/",
            "event": {"types": ["FINETUNE"]},
        },
    )
    assert update.status_code == 404
    assert (await mock_client.get("/webhook/get", headers=b)).json() == {"webhooks": []}


@pytest.mark.parametrize(
    "body",
    [
        {"webhook_url": "not a url", "event": {"types": ["FINETUNE"]}},
        {"webhook_url": "http://127.0.0.1:9/", "event": {"types": []}},
        {"webhook_url": "http://127.0.0.1:9/"},
        {"webhook_url": "http://127.0.0.1:9/h\x00ook", "event": {"types": ["FINETUNE"]}},
        {"webhook_url": "http://127.0.0.1:9/a hook", "event": {"types": ["FINETUNE"]}},
    ],
)
async def test_bad_registrations_are_400(mock_client: httpx.AsyncClient, body: dict) -> None:
    response = await mock_client.post("/webhook/add", json=body)
    assert response.status_code == 400 and response.json()["error"]
    assert (await mock_client.get("/webhook/get")).json() == {"webhooks": []}


async def test_missing_webhook_id_query_is_400(mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.get("/webhook/inactive")
    assert response.status_code == 400 and "webhook_id" in response.json()["error"]


async def test_webhook_url_flag_registers_one_for_every_tenant(make_client) -> None:
    async with make_client(key="t1", webhook_url="http://127.0.0.1:9/demo") as client:
        mine = (await client.get("/webhook/get")).json()["webhooks"]
        theirs = (await client.get("/webhook/get", headers={"x-api-key": "t2"})).json()
        assert [h["webhook_url"] for h in mine] == ["http://127.0.0.1:9/demo"]
        assert [h["webhook_url"] for h in theirs["webhooks"]] == ["http://127.0.0.1:9/demo"]
        assert mine[0]["webhook_id"] != theirs["webhooks"][0]["webhook_id"]
        await client.get("/webhook/inactive", params={"webhook_id": mine[0]["webhook_id"]})
        assert (await client.get("/webhook/get")).json() == {"webhooks": []}  # stays deleted
