"""Requests that used to answer 500 and are the client's mistake: names longer than the file
system takes, and bodies nested deeper than any parser goes, in every body type."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio

DEEP = 100_000


async def test_an_asset_name_longer_than_the_file_system_takes_is_not_found(
    mock_client: httpx.AsyncClient,
) -> None:
    answer = await mock_client.get("/assets/" + "a" * 300)
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"error": "No such asset"}
    nested = await mock_client.get("/assets/x/" + "b" * 300 + ".png")
    assert nested.status_code == 404


async def test_a_presign_name_too_long_to_store_is_refused_at_presign(
    mock_client: httpx.AsyncClient,
) -> None:
    presign = "/finetune/request/upload/pre-signed-url"
    answer = await mock_client.request("GET", presign, json={"name": "n" * 300})
    assert answer.status_code == 400, answer.text
    assert "too long" in answer.json()["error"]
    fine = await mock_client.request("GET", presign, json={"name": "n" * 200})
    assert fine.status_code == 200, fine.text
    put = await mock_client.put(
        fine.json()["presigned_url"].replace("http://mock.test", ""), content=b"PK\x05\x06"
    )
    assert put.status_code == 200, put.text


async def test_a_storage_url_too_long_to_store_is_a_400_in_s3_format(
    mock_client: httpx.AsyncClient,
) -> None:
    answer = await mock_client.put("/storage/uploads/" + "c" * 300 + ".zip", content=b"x")
    assert answer.status_code == 400, answer.text
    assert "<Code>InvalidArgument</Code>" in answer.text


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/finetune/request/submit", "application/json", b"[" * DEEP),
        ("/finetune/request/submit", "application/json", b'{"a":' * DEEP),
        ("/_mock/scenario", "application/json", b"[" * DEEP),
        ("/_mock/scenario", "application/yaml", b"[" * DEEP),
        ("/_mock/scenario", "application/yaml", b"- " * DEEP),
        ("/_mock/scenario", "application/yaml", b"{a: " * DEEP),
        (
            "/finetune/request/access-update",
            "application/x-www-form-urlencoded",
            b"a=" + b"[" * DEEP,
        ),
        ("/lora-trainer/finetune", "application/json", b"[" * DEEP),
    ],
)
async def test_a_body_nested_too_deep_is_a_400(
    mock_client: httpx.AsyncClient, path: str, content_type: str, body: bytes
) -> None:
    method = "PUT" if path.endswith("access-update") else "POST"
    answer = await mock_client.request(
        method, path, content=body, headers={"content-type": content_type}
    )
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert answer.status_code != 404
    assert "error" in answer.json() or "detail" in answer.json()
