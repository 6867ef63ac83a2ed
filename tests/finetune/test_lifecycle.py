"""On the virtual clock a job walks REQUESTED → ... → AVAILABLE; FAILED only via the admin API."""

from __future__ import annotations

import httpx
import pytest

from mock_server.lifecycle import load_timing
from mock_server.lifecycle.from_spec import lifecycles_from_spec
from mock_server.spec import load_specs
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.contract import conforms

pytestmark = pytest.mark.anyio

FAST = load_timing("fast").for_lifecycle("finetune")


async def _details(client: httpx.AsyncClient, job_id: str) -> dict:
    response = await client.request("GET", "/finetune/request/details", json={"request_id": job_id})
    return conforms("finetune_details", response)["finetune"]


async def _advance(client: httpx.AsyncClient, seconds: float) -> None:
    response = await client.post("/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200


async def test_each_state_in_order_as_the_clock_moves(any_client: httpx.AsyncClient) -> None:
    submitted = await any_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    job_id = submitted.json()["finetune_id"]
    seen = []
    for state in ("REQUESTED", "TRAINING", "TRAINING_COMPLETED", "INFERENCE_QUEUED"):
        details = await _details(any_client, job_id)
        seen.append(details["status"])
        trained = state not in ("REQUESTED", "TRAINING")
        assert (details["cloud_storage_url"] is not None) == trained, state
        assert details["slug"] is None
        await _advance(any_client, FAST[state])
    final = await _details(any_client, job_id)
    seen.append(final["status"])
    assert seen == ["REQUESTED", "TRAINING", "TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE"]
    assert final["slug"] and final["cloud_storage_url"].endswith(".safetensors")
    assert final["updated_ts"] > final["created_ts"]
    await _advance(any_client, 10 * 86400)  # terminal: stays put
    assert (await _details(any_client, job_id))["status"] == "AVAILABLE"


async def test_the_clock_does_not_move_by_itself(any_client: httpx.AsyncClient) -> None:
    submitted = await any_client.post("/finetune/request/submit", json=doc_submit_body("QWEN"))
    job_id = submitted.json()["request_id"]
    first = (await any_client.get("/_mock/clock")).json()
    assert (await _details(any_client, job_id))["status"] == "REQUESTED"
    assert (await any_client.get("/_mock/clock")).json()["now"] == first["now"]


async def test_failed_via_the_admin_api_with_its_message(any_client: httpx.AsyncClient) -> None:
    submitted = await any_client.post("/finetune/request/submit", json=doc_submit_body("FLUX_PRO"))
    job_id = submitted.json()["finetune_id"]
    await _advance(any_client, FAST["REQUESTED"])
    forced = await any_client.post(
        f"/_mock/jobs/{job_id}/status", json={"status": "FAILED", "error_message": "bad zip"}
    )
    assert forced.status_code == 200
    assert forced.json()["status"] == "FAILED"
    assert [h["state"] for h in forced.json()["history"]] == ["REQUESTED", "TRAINING", "FAILED"]
    details = await _details(any_client, job_id)
    assert (details["status"], details["error_message"]) == ("FAILED", "bad zip")
    await _advance(any_client, 3600)
    assert (await _details(any_client, job_id))["status"] == "FAILED"
    again = await any_client.post(f"/_mock/jobs/{job_id}/status", json={"status": "AVAILABLE"})
    assert again.status_code == 409
    assert "FAILED" in again.json()["error"]


async def test_admin_advances_one_state_without_a_status(any_client: httpx.AsyncClient) -> None:
    submitted = await any_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    job_id = submitted.json()["finetune_id"]
    moved = await any_client.post(f"/_mock/jobs/{job_id}/status", json={})
    assert moved.json()["status"] == "TRAINING"
    assert (await _details(any_client, job_id))["status"] == "TRAINING"
    skipping = await any_client.post(f"/_mock/jobs/{job_id}/status", json={"status": "AVAILABLE"})
    assert skipping.status_code == 409


def test_every_lifecycle_state_has_a_duration_in_every_profile() -> None:
    lifecycles = lifecycles_from_spec(load_specs())
    for profile in ("instant", "fast", "realistic"):
        timing = load_timing(profile)
        for name, lifecycle in lifecycles.items():
            durations = timing.for_lifecycle(name)
            waiting = [s for s in lifecycle.happy_path() if s not in lifecycle.terminal]
            assert set(durations) == set(waiting), (profile, name)


async def test_instant_timing_is_available_at_once(make_client) -> None:
    async with make_client(key="k", clock="virtual", timing="instant", datasets="skip") as client:
        answer = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        assert answer.json()["status"] == "REQUESTED"  # the submit answer shows acceptance
        details = await _details(client, answer.json()["finetune_id"])
        assert details["status"] == "AVAILABLE"
