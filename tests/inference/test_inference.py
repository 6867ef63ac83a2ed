"""Seed 003 on the mock: v1 answers real images, v2 queues on the clock, models must exist,
be yours or public, and be AVAILABLE; FAILED is 422; results expire after an hour."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.finetune.helpers import doc_submit_body
from tests.fixtures.contract import conforms
from tests.fixtures.server import KEY_B
from tests.inference.params import PARAMS

pytestmark = pytest.mark.anyio


async def available_model(client: httpx.AsyncClient, **headers: str) -> str:
    answer = await client.post(
        "/finetune/request/submit", json=doc_submit_body("FLUX"), headers=headers or None
    )
    await client.post("/_mock/clock/advance", json={"seconds": 3600})
    return str(answer.json()["finetune_id"])


async def v2(client: httpx.AsyncClient, finetune_id: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/v2/flux-dev-finetuned", json=PARAMS | {"finetune_id": finetune_id} | extra
    )
    body: dict[str, Any] = conforms("inference_v2_submit_flux_dev_finetuned", response)
    return body


def path_of(url: str) -> str:
    return httpx.URL(url).path


async def test_v2_moves_on_the_clock_and_serves_its_image(mock_client: httpx.AsyncClient) -> None:
    model = await available_model(mock_client)
    job = await v2(mock_client, model, aspect_ratio="16:9")
    assert job["status_url"] == f"http://mock.test/v2/requests/{job['request_id']}/status"
    assert job["response_url"] == f"http://mock.test/v2/requests/{job['request_id']}"
    seen = []
    early = await mock_client.get(path_of(job["response_url"]))
    assert early.status_code == 202 and conforms("inference_v2_result", early)
    for _ in range(4):
        status = await mock_client.get(path_of(job["status_url"]))
        seen.append(conforms("inference_v2_status", status)["status"])
        await mock_client.post("/_mock/clock/advance", json={"seconds": 0.4})
    assert seen[0] == "QUEUED" and seen[-1] == "COMPLETED" and "PROCESSING" in seen
    result = conforms("inference_v2_result", await mock_client.get(path_of(job["response_url"])))
    assert result["status"] == "COMPLETED" and result["metrics"]["inference_time"] > 0
    image = await mock_client.get(path_of(result["output"]), headers={"x-api-key": ""})
    assert image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size == (1024, 576)


async def test_results_expire_after_an_hour(mock_client: httpx.AsyncClient) -> None:
    model = await available_model(mock_client)
    job = await v2(mock_client, model)
    await mock_client.post("/_mock/clock/advance", json={"seconds": 10})
    result = (await mock_client.get(path_of(job["response_url"]))).json()
    await mock_client.post("/_mock/clock/advance", json={"seconds": 3601})
    for url in (job["status_url"], job["response_url"]):
        gone = await mock_client.get(path_of(url))
        assert gone.status_code == 404 and "expired" in gone.json()["error"]
    assert (await mock_client.get(path_of(result["output"]))).status_code == 404


async def test_a_blocked_prompt_fails_as_422_with_the_error(mock_client: httpx.AsyncClient) -> None:
    model = await available_model(mock_client)
    job = await v2(mock_client, model, prompt="TOK nsfw")
    await mock_client.post("/_mock/clock/advance", json={"seconds": 10})
    for op, url in (
        ("inference_v2_status", job["status_url"]),
        ("inference_v2_result", job["response_url"]),
    ):
        response = await mock_client.get(path_of(url))
        assert response.status_code == 422
        body = conforms(op, response)
        assert body["status"] == "FAILED" and "RAI" in body["error"]
    v1 = await mock_client.post(
        "/v1/flux-dev-finetuned", json=PARAMS | {"finetune_id": model, "prompt": "nsfw"}
    )
    assert v1.status_code == 400 and "RAI" in v1.json()["error"]


async def test_admin_can_force_a_request_to_failed(mock_client: httpx.AsyncClient) -> None:
    model = await available_model(mock_client)
    job = await v2(mock_client, model)
    forced = await mock_client.post(
        f"/_mock/jobs/{job['request_id']}/status",
        json={"status": "FAILED", "error_message": "GPU lost"},
    )
    assert forced.status_code == 200 and forced.json()["kind"] == "inference"
    status = await mock_client.get(path_of(job["status_url"]))
    assert status.status_code == 422 and status.json()["error"] == "GPU lost"


async def test_the_model_must_exist_be_yours_or_public_and_be_available(
    mock_client: httpx.AsyncClient,
) -> None:
    model = await available_model(mock_client)
    b = {"x-api-key": KEY_B}
    body = PARAMS | {"finetune_id": model}
    for path in ("/v1/flux-dev-finetuned", "/v2/flux-dev-finetuned"):
        theirs = await mock_client.post(path, json=body, headers=b)
        assert theirs.status_code == 403 and "private" in theirs.json()["error"]
        unknown = await mock_client.post(path, json=PARAMS | {"finetune_id": "nope"})
        assert unknown.status_code == 404 and unknown.json()["error"] == "Model nope not found"
    await mock_client.put(
        "/finetune/request/access-update", data={"request_id": model, "segmind_public": "True"}
    )
    public = await mock_client.post("/v1/flux-dev-finetuned", json=body, headers=b)
    assert public.status_code == 200
    fresh = (
        await mock_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    ).json()["finetune_id"]
    early = await mock_client.post("/v2/flux-dev-finetuned", json=PARAMS | {"finetune_id": fresh})
    assert early.status_code == 400 and "REQUESTED" in early.json()["error"]


async def test_unknown_model_slugs_are_404(mock_client: httpx.AsyncClient) -> None:
    for path in ("/v1/no-such-model", "/v2/no-such-model"):
        response = await mock_client.post(path, json=PARAMS)
        assert response.status_code == 404
        assert response.json() == {"error": "Model no-such-model not found"}


async def test_v1_is_deterministic_and_sized_by_aspect_ratio(
    mock_client: httpx.AsyncClient,
) -> None:
    model = await available_model(mock_client)

    async def image(**extra: Any) -> bytes:
        response = await mock_client.post(
            "/v1/flux-dev-finetuned", json=PARAMS | {"finetune_id": model} | extra
        )
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        return response.content

    assert await image() == await image()
    assert await image(seed=1) != await image()
    for ratio in ("1:1", "9:16", "21:9", "3:2"):
        w, h = Image.open(io.BytesIO(await image(aspect_ratio=ratio))).size
        a, b = (int(x) for x in ratio.split(":"))
        assert max(w, h) == 1024 and abs((w / h) / (a / b) - 1) < 0.03, (ratio, w, h)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"steps": 0}, "steps"),
        ({"steps": 101}, "steps"),
        ({"lora_strength": 11}, "lora_strength"),
        ({"aspect_ratio": "7:5"}, "aspect_ratio"),
        ({"sampler_name": "magic"}, "sampler_name"),
        ({"hardware": "gpu"}, "hardware"),
    ],
)
async def test_parameters_are_checked_against_the_spec(
    mock_client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    response = await mock_client.post(
        "/v1/flux-dev-finetuned", json=PARAMS | {"finetune_id": "x"} | change
    )
    assert response.status_code == 400
    assert field in [d["path"] for d in response.json()["details"]]


def test_hardware_factors_name_the_spec_values(bundle) -> None:
    from mock_server.lifecycle import load_timing

    op = bundle.operation("inference_v1_flux_dev_finetuned")
    props = op.raw["requestBody"]["content"]["application/json"]["schema"]
    doc = bundle.documents[op.family]
    schema = doc.resolve(props["$ref"]) if "$ref" in props else props
    hardware = schema["properties"]["hardware"]
    hardware = doc.resolve(hardware["$ref"]) if "$ref" in hardware else hardware
    factors = load_timing("fast").scaling["inference"]["hardware"]
    assert set(factors) == set(hardware["enum"])
