"""Scenarios pre-load state — tenants with credits, fine-tunes in any state, inference
requests, trainer jobs, webhooks — from `--scenario FILE`, the config file or
`POST /_mock/scenario`; the state reads back through the vendor API and the SDK, and the
current state exports as a scenario that loads it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from segmind.exceptions import SegmindError

from mock_server.scenario import DEMO_SCENARIO
from mock_server.testing.live import start_server, stop_server
from mock_server.testing.sdk import segmind_client
from tests.fixtures.contract import conforms

pytestmark = pytest.mark.anyio

KEY = "demo-key"
AVAILABLE_ID = "7a1c0d2e-4b5f-4c6d-8e9f-000000000001"
FAILED_ID = "7a1c0d2e-4b5f-4c6d-8e9f-000000000002"
TRAINING_ID = "7a1c0d2e-4b5f-4c6d-8e9f-000000000003"
INFERENCE_ID = "7a1c0d2e-4b5f-4c6d-8e9f-0000000000a1"
TRAINER_ID = "3f9e2b7c1d4a4e8f9a0b1c2d3e4f5a61"


def job_id(item: dict[str, Any]) -> Any:
    """The id of a list item or webhook payload (each model names it its own way)."""
    return item.get("finetune_id") or item.get("request_id") or item.get("id")


def demo() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEMO_SCENARIO.read_text(encoding="utf-8"))
    return document


def v2_body(finetune_id: str) -> dict[str, Any]:
    body: dict[str, Any] = demo()["tenants"][0]["inference"][0]["request"]
    return {**body, "finetune_id": finetune_id}


async def statuses(client: httpx.AsyncClient) -> dict[str, str]:
    """Fine-tune id → status, as the vendor's details route tells them."""
    found = {}
    for job_id in (AVAILABLE_ID, FAILED_ID, TRAINING_ID):
        answer = await client.request(
            "GET", "/finetune/request/details", json={"request_id": job_id}
        )
        if answer.status_code == 200:
            found[job_id] = answer.json()["finetune"]["status"]
    return found


async def test_the_demo_file_loads_at_start_and_reads_back_through_the_vendor_api(
    make_client,
) -> None:
    async with make_client(key=KEY, scenario=DEMO_SCENARIO, clock="virtual") as client:
        assert await statuses(client) == {
            AVAILABLE_ID: "AVAILABLE",
            FAILED_ID: "FAILED",
            TRAINING_ID: "TRAINING",
        }
        failed = (
            await client.request("GET", "/finetune/request/details", json={"request_id": FAILED_ID})
        ).json()
        assert "NaN" in failed["finetune"]["error_message"]
        listed = (await client.get("/finetune/request/list")).json()
        assert len(listed) == 3
        status = await client.get(f"/v2/requests/{INFERENCE_ID}/status")
        assert status.json()["status"] == "COMPLETED"
        image = await client.post("/v1/flux-dev-finetuned", json=v2_body(AVAILABLE_ID))
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        training = (await client.get(f"/lora-trainer/finetune/{TRAINER_ID}")).json()
        assert training["data"]["status"] == "processing"
        credits = (await client.get(f"/_mock/credits/{KEY}")).json()
        assert credits["credits"] == 500 - 1  # the v1 call drew the default inference cost
        # another tenant sees none of it
        other = await client.request(
            "GET",
            "/finetune/request/details",
            json={"request_id": AVAILABLE_ID},
            headers={"x-api-key": "someone-else"},
        )
        assert other.status_code == 404


async def test_loaded_jobs_go_on_along_their_plan_and_fresh_webhooks_hear_only_that(
    make_client, webhook_receiver
) -> None:
    document = demo()
    document["tenants"][0]["webhooks"] = [{"url": webhook_receiver.url}]
    async with make_client(clock="virtual") as client:
        loaded = conforms(
            "admin_scenario_load", await client.post("/_mock/scenario", json=document)
        )
        assert [w["tenant"] for w in loaded["webhooks"]] == [KEY]
        await client.post("/_mock/webhooks/flush", json={})
        assert webhook_receiver.received == []  # nothing that happened before the load
        await client.post("/_mock/clock/advance", json={"seconds": 86_400})
        await client.post("/_mock/webhooks/flush", json={})
        heard = {(job_id(r.json()), r.json()["status"]) for r in webhook_receiver.received}
        async with httpx.AsyncClient(
            transport=client._transport, base_url=str(client.base_url), headers={"x-api-key": KEY}
        ) as tenant:
            assert (await statuses(tenant))[TRAINING_ID] == "AVAILABLE"
    assert heard and {job for job, _ in heard} == {TRAINING_ID}
    assert (TRAINING_ID, "TRAINING_COMPLETED") in heard


async def test_yaml_body_loads_and_loading_twice_gives_the_same_state(make_client) -> None:
    text = DEMO_SCENARIO.read_text(encoding="utf-8")
    async with make_client(key=KEY, clock="virtual") as client:
        for _ in range(2):
            answer = await client.post(
                "/_mock/scenario", content=text, headers={"content-type": "application/yaml"}
            )
            loaded = conforms("admin_scenario_load", answer)
        jobs = (await client.get("/_mock/jobs")).json()
    assert [j["id"] for j in loaded["finetunes"]] == [AVAILABLE_ID, FAILED_ID, TRAINING_ID]
    assert [j["status"] for j in loaded["finetunes"]] == ["AVAILABLE", "FAILED", "TRAINING"]
    assert loaded["tenants"] == [{"api_key": KEY, "credits": 500}]
    assert len(jobs) == 5  # 3 fine-tunes, 1 inference request, 1 training — no duplicates


async def test_entries_without_ids_get_stable_ones_and_reset_forgets_the_rest(
    make_client,
) -> None:
    document = demo()
    for entry in document["tenants"][0]["finetunes"]:
        entry.pop("id")
    document["tenants"][0].pop("inference")
    async with make_client(key=KEY, clock="virtual") as client:
        await client.post("/_mock/credits/other", json={"credits": 3})  # not a PUT: ignored
        await client.put("/_mock/credits/other", json={"credits": 3})
        first = (await client.post("/_mock/scenario", json=document)).json()
        again = (await client.post("/_mock/scenario", json={**document, "reset": True})).json()
        other = (await client.get("/_mock/credits/other")).json()
        renamed = (await client.post("/_mock/scenario", json={**document, "name": "b"})).json()
        count = len((await client.get("/finetune/request/list")).json())
    assert [j["id"] for j in first["finetunes"]] == [j["id"] for j in again["finetunes"]]
    assert again["reset"] is True and other["credits"] is None  # reset forgot the 3 credits
    assert set(j["id"] for j in renamed["finetunes"]).isdisjoint(
        j["id"] for j in first["finetunes"]
    )
    assert count == 6


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.update(surprise=1), "surprise"),
        (lambda d: d["tenants"][0]["finetunes"][0].update(status="BAKING"), "BAKING"),
        (lambda d: d["tenants"][0]["finetunes"][1].update(failed_after="AVAILABLE"), "fail"),
        (lambda d: d["tenants"][0]["finetunes"][2]["request"].pop("name"), "name"),
        (lambda d: d["tenants"][0]["inference"][0].update(model="sdxl-turbo"), "sdxl-turbo"),
        (lambda d: d["tenants"][0]["inference"][0]["request"].update(steps="many"), "many"),
        (lambda d: d["tenants"][0]["trainings"][0]["form"].update(lora_prefix=7), "7"),
        (lambda d: d["tenants"][0].update(credits=-5), "-5"),
        (lambda d: d["tenants"][0].update(webhooks=[{"url": "not a url"}]), "url"),
    ],
)
async def test_a_broken_document_answers_400_and_loads_nothing(make_client, change, words) -> None:
    document = demo()
    change(document)
    async with make_client(key=KEY, clock="virtual") as client:
        answer = await client.post("/_mock/scenario", json=document)
        jobs = (await client.get("/_mock/jobs")).json()
        credits = (await client.get(f"/_mock/credits/{KEY}")).json()
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["error"]
    assert jobs == [] and credits["credits"] is None


@pytest.mark.parametrize(
    "body",
    [b"tenants: [unclosed", b"\xff\xfe not text", b"- just\n- a list\n", b'{"tenants": 5}'],
)
async def test_unreadable_bodies_are_400(mock_client: httpx.AsyncClient, body: bytes) -> None:
    answer = await mock_client.post(
        "/_mock/scenario", content=body, headers={"content-type": "application/yaml"}
    )
    assert answer.status_code == 400 and answer.json()["error"].startswith("scenario")
    assert (await mock_client.get("/_mock/health")).status_code == 200


async def test_the_export_loads_back_into_a_fresh_mock(make_client, webhook_receiver) -> None:
    document = demo()
    document["tenants"][0]["webhooks"] = [{"url": webhook_receiver.url}]
    async with make_client(key=KEY, scenario=DEMO_SCENARIO, clock="virtual") as client:
        await client.post("/_mock/scenario", json=document)
        # keys as they are, asked for: an export masks them by default
        exported = await client.get("/_mock/scenario", params={"keys": "full"})
        as_json = (
            await client.get("/_mock/scenario", params={"format": "json", "keys": "full"})
        ).json()
        before = await statuses(client)
    assert exported.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(exported.text) == as_json
    async with make_client(key=KEY, clock="virtual") as fresh:
        loaded = await fresh.post(
            "/_mock/scenario", content=exported.text, headers={"content-type": "text/yaml"}
        )
        assert loaded.status_code == 200, loaded.text
        assert await statuses(fresh) == before
        again = (
            await fresh.get("/_mock/scenario", params={"format": "json", "keys": "full"})
        ).json()
        hook = (await fresh.get("/webhook/get")).json()
    assert again["tenants"] == as_json["tenants"]
    assert hook["webhooks"][0]["webhook_url"] == webhook_receiver.url


async def test_a_bad_scenario_file_stops_the_start(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("tenants:\n  - api_key: k\n    finetunes: [{request: {}}]\n", "utf-8")
    with pytest.raises(RuntimeError) as failed:
        start_server("--scenario", str(broken), "--datasets", "skip")
    assert "broken.yaml" in str(failed.value)


def test_demo_in_one_command_seen_through_the_sdk(tmp_path: Path) -> None:
    """`tunemock serve --demo` with 2 workers on a state
    file: the SDK sees the demo tenant's models, runs its LoRA, and is refused another's."""
    server = start_server(
        "--demo", "--state", str(tmp_path / "s.db"), "--workers", "2",
    )  # fmt: skip
    try:
        with segmind_client(server.base_url, api_key=KEY) as client:
            listed = {job_id(j): j["status"] for j in client.finetune.list()}
            details = client.finetune.details(AVAILABLE_ID)["finetune"]
            image = client.run_sync("flux-dev-finetuned", **v2_body(AVAILABLE_ID))
        with (
            segmind_client(server.base_url, api_key="intruder") as other,
            pytest.raises(SegmindError) as refused,
        ):
            other.finetune.details(AVAILABLE_ID)
        jobs = httpx.get(f"{server.base_url}/_mock/jobs").json()
    finally:
        stop_server(server)
    assert listed[AVAILABLE_ID] == "AVAILABLE" and listed[FAILED_ID] == "FAILED"
    assert details["status"] == "AVAILABLE" and details["cloud_storage_url"]
    assert image.content[:2] == b"\xff\xd8"  # a JPEG
    assert refused.value.status == 404
    assert len(jobs) == 5  # the parent loaded it once; two workers did not load it again
