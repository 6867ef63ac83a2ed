"""The official SDK's run, run_sync and submit_async/wait work against the mock unchanged."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image
from segmind import SegmindClient
from segmind.v2 import InferenceFailed

from mock_server.testing.live import LiveServer, start_server, stop_server
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A
from tests.inference.params import PARAMS


@pytest.fixture(scope="module")
def instant_server() -> Iterator[LiveServer]:
    """Real clock, instant timing: the SDK's own polling sees requests finish at once."""
    server = start_server("--timing", "instant", "--datasets", "skip")
    yield server
    stop_server(server)


@pytest.fixture
def model_and_client(instant_server: LiveServer) -> Iterator[tuple[str, SegmindClient]]:
    submitted = httpx.post(
        f"{instant_server.base_url}/finetune/request/submit",
        json=doc_submit_body("FLUX"),
        headers={"x-api-key": KEY_A},
    )
    client = SegmindClient(api_key=KEY_A, base_url=f"{instant_server.base_url}/v1")
    yield submitted.json()["finetune_id"], client
    client._client.close()


def test_run_returns_completed_with_output_and_metrics(model_and_client) -> None:
    model, client = model_and_client
    result = client.run("flux-dev-finetuned", finetune_id=model, **PARAMS)
    assert result["status"] == "COMPLETED"
    assert result["metrics"]["inference_time"] >= 0
    image = httpx.get(result["output"])
    assert image.status_code == 200 and Image.open(io.BytesIO(image.content)).size == (1024, 1024)


def test_wait_raises_inference_failed_with_the_mocks_detail(model_and_client) -> None:
    model, client = model_and_client
    job = client.submit_async(
        "flux-dev-finetuned", finetune_id=model, **(PARAMS | {"prompt": "nsfw"})
    )
    with pytest.raises(InferenceFailed) as failed:
        job.wait(timeout=20, interval=0.05)
    assert "RAI" in (failed.value.detail or "")
    assert failed.value.status_body["status"] == "FAILED"


@pytest.mark.parametrize(
    ("ratio", "size"),
    [("1:1", (1024, 1024)), ("16:9", (1024, 576)), ("9:16", (576, 1024)), ("2:3", (688, 1024))],
)
def test_run_sync_returns_image_bytes_of_the_right_size(model_and_client, ratio, size) -> None:
    model, client = model_and_client
    response = client.run_sync(
        "flux-dev-finetuned", finetune_id=model, **(PARAMS | {"aspect_ratio": ratio})
    )
    assert response.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == size
