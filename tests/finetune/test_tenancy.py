"""A tenant never sees another tenant's jobs: their ids answer exactly like unknown ids."""

from __future__ import annotations

import httpx
import pytest

from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_B

pytestmark = pytest.mark.anyio


async def test_two_keys_cannot_read_list_or_change_each_others_jobs(
    any_client: httpx.AsyncClient,
) -> None:
    a_job = (
        await any_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    ).json()["finetune_id"]
    await any_client.post("/_mock/clock/advance", json={"seconds": 3600})
    b = {"x-api-key": KEY_B}

    as_b = await any_client.request(
        "GET", "/finetune/request/details", json={"request_id": a_job}, headers=b
    )
    unknown = await any_client.request(
        "GET", "/finetune/request/details", json={"request_id": "no-such-id"}, headers=b
    )
    assert as_b.status_code == unknown.status_code == 404
    assert as_b.json()["error"].replace(a_job, "X") == unknown.json()["error"].replace(
        "no-such-id", "X"
    )
    assert (await any_client.get("/finetune/request/list", headers=b)).json() == []

    change = await any_client.put(
        "/finetune/request/access-update",
        headers=b,
        data={"request_id": a_job, "segmind_public": "True"},
    )
    assert change.status_code == 404
    details = (
        await any_client.request("GET", "/finetune/request/details", json={"request_id": a_job})
    ).json()
    assert details["finetune"]["public_model"] is False  # A's job untouched

    url = details["finetune"]["cloud_storage_url"]
    download = await any_client.request(
        "GET", "/finetune/request/file/download", headers=b, data={"cloud_storage_url": url}
    )
    assert download.status_code == 404
    mine = await any_client.request(
        "GET", "/finetune/request/file/download", data={"cloud_storage_url": url}
    )
    assert mine.status_code == 200


async def test_b_own_jobs_stay_b_own(any_client: httpx.AsyncClient) -> None:
    b = {"x-api-key": KEY_B}
    await any_client.post("/finetune/request/submit", json=doc_submit_body("QWEN"), headers=b)
    await any_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    a_list = (await any_client.get("/finetune/request/list")).json()
    b_list = (await any_client.get("/finetune/request/list", headers=b)).json()
    assert [i["base_model"] for i in a_list] == ["FLUX"]
    assert [i["base_model"] for i in b_list] == ["QWEN"]
