"""The official segmind SDK, unchanged but for its base URLs, drives a whole fine-tune."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from safetensors.numpy import load
from segmind import SegmindClient
from segmind.exceptions import SegmindError
from segmind.finetune import Finetune

from mock_server.testing.live import LiveServer
from tests.finetune.helpers import sdk_submit_doc_body, sdk_upload_and_submit
from tests.fixtures.server import KEY_A, KEY_B


@pytest.fixture
def sdk(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SegmindClient]:
    monkeypatch.setattr(Finetune, "base_url", f"{live_server.base_url}/finetune/request")
    client = SegmindClient(api_key=KEY_A, base_url=f"{live_server.base_url}/v1")
    yield client
    client._client.close()


def test_sdk_upload_submit_wait_download(sdk: SegmindClient, live_server: LiveServer) -> None:
    answer = sdk_upload_and_submit(sdk, httpx.put, "sdk-job")
    job_id = answer["finetune_id"]
    assert answer["status"] == "REQUESTED"
    assert sdk.finetune.details(job_id)["finetune"]["status"] == "REQUESTED"
    assert [j["finetune_id"] for j in sdk.finetune.list()] == [job_id]

    sdk.finetune.access_update(job_id, True)
    live_server.advance(3600)
    details = sdk.finetune.details(job_id)["finetune"]
    assert details["status"] == "AVAILABLE" and details["public_model"] is True

    url = sdk.finetune.file_download(details["cloud_storage_url"])
    assert url.startswith(live_server.base_url + "/storage/")
    tensors = load(httpx.get(url).content)
    assert tensors


def test_sdk_errors_carry_status_and_message(sdk: SegmindClient, live_server: LiveServer) -> None:
    with pytest.raises(SegmindError) as caught:
        sdk.finetune.details("no-such-job")
    assert caught.value.status == 404
    assert "not found" in (caught.value.detail or "")
    with pytest.raises(SegmindError) as bad:
        sdk.finetune.submit(
            name="x",
            data_source_path="https://d.test/x.zip",
            instance_prompt="p",
            trigger_word="T",
            base_model="SDXL",
            train_type="LORA",
            machine_type="NVIDIA_H100",
        )
    assert bad.value.status == 400 and "base_model" in (bad.value.detail or "")
    other = SegmindClient(api_key=KEY_B, base_url=f"{live_server.base_url}/v1")
    try:
        assert other.finetune.list() == []
    finally:
        other._client.close()


def test_sdk_sees_406_when_credits_run_out(sdk: SegmindClient, live_server: LiveServer) -> None:
    httpx.put(f"{live_server.base_url}/_mock/credits/{KEY_A}", json={"credits": 0})
    with pytest.raises(SegmindError) as refused:
        sdk.finetune.submit(
            name="x",
            data_source_path="https://d.test/x.zip",
            instance_prompt="p",
            trigger_word="T",
            base_model="QWEN",
            train_type="LORA",
            machine_type="NVIDIA_H100",
        )
    assert refused.value.status == 406
    assert "Insufficient credits" in (refused.value.detail or "")
    assert sdk.finetune.list() == []  # refused: nothing created


def test_sdk_errors_for_a_missing_key(live_server: LiveServer) -> None:
    client = SegmindClient(api_key="", base_url=f"{live_server.base_url}/v1")
    try:
        with pytest.raises(SegmindError) as refused:
            client.run_sync("flux-dev-finetuned", prompt="x")
    finally:
        client._client.close()
    assert refused.value.status == 401 and "x-api-key" in (refused.value.detail or "")


def test_sdk_files_upload_keeps_the_asset(
    sdk: SegmindClient, live_server: LiveServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmind.files import Files

    monkeypatch.setattr(Files, "STORAGE_BASE_URL", live_server.base_url)
    image = tmp_path / "face.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    answer = sdk.files.upload(str(image))
    (url,) = answer["file_urls"]
    assert httpx.get(url).content == image.read_bytes()


@pytest.mark.parametrize(
    ("model", "id_key"),
    [("FLUX", "finetune_id"), ("FLUX_PRO", "finetune_id"), ("QWEN", "request_id")],
)
def test_sdk_submits_each_model_and_reads_it_back(
    sdk: SegmindClient, model: str, id_key: str
) -> None:
    answer = sdk_submit_doc_body(sdk, model)
    job_id = answer[id_key]
    record_key = "request_id" if model == "QWEN" else "id"
    assert sdk.finetune.details(job_id)["finetune"][record_key] == job_id
    assert [item["finetune_id"] for item in sdk.finetune.list()] == [job_id]
