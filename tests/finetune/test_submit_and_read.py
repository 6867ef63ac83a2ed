"""Submit, details, list and access update, in process, answering as the contract says."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.finetune.helpers import doc_submit_body
from tests.fixtures.contract import conforms

pytestmark = pytest.mark.anyio

MODELS = [
    ("FLUX", "finetune_id", "id"),
    ("FLUX_PRO", "finetune_id", "id"),
    ("QWEN", "request_id", "request_id"),
]


@pytest.mark.parametrize(("model", "submit_key", "record_key"), MODELS)
async def test_submit_answers_like_the_docs_and_details_finds_the_job(
    any_client: httpx.AsyncClient, model: str, submit_key: str, record_key: str
) -> None:
    body = doc_submit_body(model)
    submitted = conforms(
        "finetune_submit", await any_client.post("/finetune/request/submit", json=body)
    )
    assert submitted["status"] == "REQUESTED"
    assert submitted["name"] == body["name"]
    job_id = submitted[submit_key]
    other_key = {"finetune_id", "request_id"} - {submit_key}
    assert not other_key & set(submitted)

    response = await any_client.request(
        "GET", "/finetune/request/details", json={"request_id": job_id}
    )
    details = conforms("finetune_details", response)["finetune"]
    assert details[record_key] == job_id and details["finetune_id"] == job_id
    assert details["status"] == "REQUESTED"
    assert details["base_model"] == model
    assert details["cloud_storage_url"] is None and details["error_message"] is None
    assert details["public_model"] is False
    assert details["source_type"] == "PUBLIC_URL"
    assert details["created_ts"].endswith("Z")


async def test_list_shows_every_job_newest_first_with_defaults_applied(
    any_client: httpx.AsyncClient,
) -> None:
    ids = []
    for model in ("FLUX", "FLUX_PRO", "QWEN"):
        answer = (
            await any_client.post("/finetune/request/submit", json=doc_submit_body(model))
        ).json()
        ids.append(answer.get("finetune_id") or answer.get("request_id"))
    listing = conforms("finetune_list", await any_client.get("/finetune/request/list"))
    assert [item["finetune_id"] for item in listing] == ids[::-1]
    pro = next(item for item in listing if item["base_model"] == "FLUX_PRO")
    # the docs' Flux Pro example sets every advanced parameter; defaults fill the rest
    assert pro["advance_parameters"]["iterations"] == 300
    assert pro["advance_parameters"]["finetune_type"] == "FULL"


async def test_flux_pro_defaults_come_from_the_docs(any_client: httpx.AsyncClient) -> None:
    body = doc_submit_body("FLUX_PRO")
    body.pop("advance_parameters")
    body.pop("trigger_word")
    await any_client.post("/finetune/request/submit", json=body)
    (item,) = (await any_client.get("/finetune/request/list")).json()
    assert item["advance_parameters"] == {
        "iterations": 300,
        "priority": "QUALITY",
        "captioning": True,
        "lora_rank": 32,
        "finetune_type": "FULL",
        "learning_rate": 0.00001,
    }


async def test_learning_rate_default_follows_finetune_type(any_client: httpx.AsyncClient) -> None:
    body = doc_submit_body("FLUX_PRO")
    body["advance_parameters"] = {"finetune_type": "LORA"}
    await any_client.post("/finetune/request/submit", json=body)
    (item,) = (await any_client.get("/finetune/request/list")).json()
    assert item["advance_parameters"]["learning_rate"] == 0.0001


@pytest.mark.parametrize("media", ["multipart", "urlencoded"])
async def test_access_update_flips_public_model(any_client: httpx.AsyncClient, media: str) -> None:
    answer = (
        await any_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    ).json()
    job_id = answer["finetune_id"]
    form = {"request_id": job_id, "segmind_public": "True"}
    if media == "multipart":
        response = await any_client.put(
            "/finetune/request/access-update", files={k: (None, v) for k, v in form.items()}
        )
    else:
        response = await any_client.put("/finetune/request/access-update", data=form)
    assert conforms("finetune_access_update", response)["segmind_public"] is True
    details = (
        await any_client.request("GET", "/finetune/request/details", json={"request_id": job_id})
    ).json()
    assert details["finetune"]["public_model"] is True
    (item,) = (await any_client.get("/finetune/request/list")).json()
    assert item["segmind_public_model"] is True
    await any_client.put(
        "/finetune/request/access-update", data={"request_id": job_id, "segmind_public": "False"}
    )
    (item,) = (await any_client.get("/finetune/request/list")).json()
    assert item["segmind_public_model"] is False


@pytest.mark.parametrize("state", [False, True], ids=["memory", "sqlite"])
async def test_concurrent_submits_each_get_their_own_job(
    make_client: Any, tmp_path: Path, state: bool
) -> None:
    # submits answered together (on SQLite: committed in one transaction) stay separate jobs
    config = {"timing": "instant", "datasets": "skip", "storage_dir": tmp_path / "files"}
    if state:
        config["state"] = tmp_path / "s.db"
    async with make_client(key="k", **config) as client:
        bodies = [{**doc_submit_body("FLUX"), "name": f"job-{n}"} for n in range(12)]
        answers = await asyncio.gather(
            *(client.post("/finetune/request/submit", json=body) for body in bodies)
        )
        submitted = [conforms("finetune_submit", answer) for answer in answers]
        ids = [s["finetune_id"] for s in submitted]
        assert len(set(ids)) == 12
        assert [s["name"] for s in submitted] == [b["name"] for b in bodies]
        listed = conforms("finetune_list", await client.get("/finetune/request/list"))
        assert {item["finetune_id"]: item["name"] for item in listed} == {
            s["finetune_id"]: s["name"] for s in submitted
        }
