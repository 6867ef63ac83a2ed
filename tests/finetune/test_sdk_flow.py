"""The official segmind SDK, unchanged but for its base URLs, drives a whole fine-tune."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import httpx
import pytest
from safetensors.numpy import load
from segmind import SegmindClient
from segmind.exceptions import SegmindError
from segmind.finetune import Finetune

from tests.fixtures.server import KEY_A, KEY_B, LiveServer


@pytest.fixture
def sdk(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SegmindClient]:
    monkeypatch.setattr(Finetune, "base_url", f"{live_server.base_url}/finetune/request")
    client = SegmindClient(api_key=KEY_A, base_url=f"{live_server.base_url}/v1")
    yield client
    client._client.close()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "TOK")
    return buffer.getvalue()


def test_sdk_upload_submit_wait_download(sdk: SegmindClient, live_server: LiveServer) -> None:
    urls = sdk.finetune.upload_presigned_url("faces.zip")
    assert httpx.put(urls["presigned_url"], content=_zip()).status_code == 200
    answer = sdk.finetune.submit(
        name="sdk-job",
        data_source_path=urls["s3_url"],
        instance_prompt="1MAN, in a suit",
        trigger_word="1MAN",
        base_model="FLUX_PRO",
        train_type="LORA",
        machine_type="NVIDIA_H100",
        theme="GENERAL",
        advance_parameters={"iterations": 150},
    )
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
