"""Request validation of the real contract, driven with the bodies the segmind SDK (captured,
not sent) and the vendor docs send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from segmind import SegmindClient

from mock_server.spec import SpecBundle
from tests.validation.echo import only_detail

pytestmark = pytest.mark.anyio


FLUX_PRO_ADVANCED = {
    "iterations": 300,
    "captioning": True,
    "priority": "QUALITY",
    "finetune_type": "FULL",
    "lora_rank": 32,
    "learning_rate": 0.005,
}


# ---------- the real contract ----------


def sdk_request(call: Callable[[SegmindClient], object]) -> httpx.Request:
    """The request the segmind SDK sends for `call`, captured instead of sent."""
    sent: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    sdk = SegmindClient(api_key="test-key")
    sdk._client = httpx.Client(transport=httpx.MockTransport(capture), base_url=sdk.base_url)
    call(sdk)
    (request,) = sent
    return request


async def replay(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    headers = {"content-type": request.headers["content-type"]}
    return await client.request(
        request.method, request.url.path, content=request.content, headers=headers
    )


def sdk_submit_flux_pro(**advance_parameters: Any) -> httpx.Request:
    return sdk_request(
        lambda sdk: sdk.finetune.submit(
            name="fluxprotest",
            data_source_path="https://example.com/dataset.zip",
            instance_prompt="1MAN, running in brown suit",
            trigger_word="1MAN",
            base_model="FLUX_PRO",
            train_type="LORA",
            machine_type="NVIDIA_H100",
            theme="GENERAL",
            advance_parameters={**FLUX_PRO_ADVANCED, **advance_parameters},
        )
    )


async def test_the_sdk_flux_pro_submit_validates(real: httpx.AsyncClient) -> None:
    response = await replay(real, sdk_submit_flux_pro())
    assert response.status_code == 200
    assert response.json()["operation"] == "finetune_submit"
    assert response.json()["body"]["advance_parameters"] == FLUX_PRO_ADVANCED


async def test_flux_pro_iterations_below_the_minimum_is_a_400(real: httpx.AsyncClient) -> None:
    response = await replay(real, sdk_submit_flux_pro(iterations=50))
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Invalid request body: advance_parameters.iterations: 50 is less than the minimum of 100"
    )
    detail = only_detail(response)
    assert (detail["path"], detail["rule"]) == ("advance_parameters.iterations", "minimum")
    assert detail["pointer"] == (
        "segmind-finetune.yaml#/components/schemas/FluxProAdvanceParameters"
        "/properties/iterations/minimum"
    )


async def test_the_docs_verbatim_submit_body_is_malformed_json(
    real: httpx.AsyncClient, bundle: SpecBundle
) -> None:
    media = bundle.operation("finetune_submit").raw["requestBody"]["content"]["application/json"]
    verbatim = media["examples"]["doc_verbatim_flux_pro"]["value"]
    headers = {"content-type": "application/json"}
    response = await real.post("/finetune/request/submit", content=verbatim, headers=headers)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("Malformed JSON body: ")
    assert "line 3" in message and "column" in message


async def test_the_sdk_details_get_with_a_json_body_validates(real: httpx.AsyncClient) -> None:
    response = await replay(real, sdk_request(lambda sdk: sdk.finetune.details("FINETUNE_ID")))
    assert response.status_code == 200
    assert response.json()["body"] == {"request_id": "FINETUNE_ID"}


async def test_the_sdk_access_update_form_validates(real: httpx.AsyncClient) -> None:
    request = sdk_request(lambda sdk: sdk.finetune.access_update("FINETUNE_REQUEST_ID", True))
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    response = await replay(real, request)
    assert response.status_code == 200
    assert response.json()["body"] == {
        "request_id": "FINETUNE_REQUEST_ID",
        "segmind_public": "True",
    }


async def test_access_update_with_a_non_python_boolean_is_a_400(real: httpx.AsyncClient) -> None:
    form = {"request_id": "FINETUNE_REQUEST_ID", "segmind_public": "yes"}
    response = await real.put("/finetune/request/access-update", data=form)
    assert response.status_code == 400
    detail = only_detail(response)
    assert (detail["path"], detail["rule"]) == ("segmind_public", "enum")
    assert detail["pointer"].startswith("segmind-finetune.yaml#/components/schemas/")


async def test_the_lora_trainer_takes_image_files(real: httpx.AsyncClient) -> None:
    files = [("image_files", (f"{i}.jpg", b"JPEG", "image/jpeg")) for i in range(2)]
    data = {"option": "FluxFinetune", "num_iterations": "300"}
    response = await real.post("/lora-trainer/finetune", data=data, files=files)
    assert response.status_code == 200
    body = response.json()["body"]
    assert body["num_iterations"] == 300
    assert [f["filename"] for f in body["image_files"]] == ["0.jpg", "1.jpg"]


async def test_a_query_parameter_declared_by_ref_is_required(real: httpx.AsyncClient) -> None:
    response = await real.get("/webhook/inactive")
    assert response.status_code == 400
    assert response.json()["message"] == "Missing required query parameter webhook_id"
    assert only_detail(response)["pointer"] == (
        "segmind-platform.yaml#/components/parameters/WebhookIdQuery/required"
    )
