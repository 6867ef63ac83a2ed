"""The official SDK through `tunemock proxy` in front of `tunemock serve`: every answer is the
upstream's, byte for byte (absolute URLs aside, which name the proxy), and a conforming
upstream leaves the violations list empty."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_server.testing.live import LiveServer
from mock_server.testing.sdk import segmind_client
from tests.fixtures.server import KEY_A
from tests.inference.params import PARAMS
from tests.proxy.helpers import RunningProxy, running_proxy

#: Headers that differ between two answers to the same request for reasons of time.
_VOLATILE = {"date", "server", "x-request-id"}


@pytest.fixture(params=[1024 * 1024, 16], ids=["buffered", "streamed"])
def proxy(request: pytest.FixtureRequest, live_server: LiveServer) -> Iterator[RunningProxy]:
    """The proxy in front of the live mock; with a 16-byte buffer every body but the
    shortest streams through (rewritten on the fly, its schema left unchecked)."""
    with running_proxy(live_server.base_url, buffer_bytes=request.param) as running:
        yield running


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "TOK")
    return buffer.getvalue()


class Capture:
    """Every answer the SDK's httpx client got; each read (but the presigned upload URL,
    a new one on every call) is at once asked of the upstream directly and compared."""

    def __init__(self, proxy_url: str, upstream_url: str) -> None:
        self.proxy_url, self.upstream_url = proxy_url, upstream_url
        self.answers: list[httpx.Response] = []
        self.compared = 0

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        self.answers.append(response)
        request = response.request
        if request.method == "GET" and "pre-signed" not in request.url.path:
            _same_answer(response, self.proxy_url, self.upstream_url)
            self.compared += 1


def _same_answer(through: httpx.Response, proxy_url: str, upstream_url: str) -> None:
    """The answer the proxy gave equals the upstream's own answer to the same request."""
    request = through.request
    url = str(request.url).replace(proxy_url, upstream_url)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    direct = httpx.request(request.method, url, headers=headers, content=request.content)
    assert through.status_code == direct.status_code, url
    assert through.content == direct.content.replace(upstream_url.encode(), proxy_url.encode())
    kept = {k: v for k, v in direct.headers.items() if k.lower() not in _VOLATILE}
    got = {k: v for k, v in through.headers.items() if k.lower() not in _VOLATILE}
    # framing may differ: a rewritten body has its own length, a streamed rewrite goes chunked
    assert _unframed(got) == _unframed(kept)
    if through.content == direct.content and "content-length" in got:
        assert got["content-length"] == kept["content-length"]


def _unframed(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("content-length", "transfer-encoding")}


def test_sdk_journey_through_the_proxy(proxy: RunningProxy, live_server: LiveServer) -> None:
    capture = Capture(proxy.url, live_server.base_url)
    with segmind_client(proxy.url, KEY_A) as sdk:
        sdk._client.event_hooks["response"].append(capture)
        urls = sdk.finetune.upload_presigned_url("faces.zip")
        assert urls["presigned_url"].startswith(proxy.url + "/storage/")
        put = httpx.put(urls["presigned_url"], content=_zip())
        assert put.status_code == 200
        answer = sdk.finetune.submit(
            name="proxied",
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
        assert sdk.finetune.details(job_id)["finetune"]["status"] == "REQUESTED"
        assert [j["finetune_id"] for j in sdk.finetune.list()] == [job_id]
        live_server.advance(3600)  # on the upstream: the proxy has no clock
        details = sdk.finetune.details(job_id)["finetune"]
        assert details["status"] == "AVAILABLE"
        download = sdk.finetune.file_download(details["cloud_storage_url"])
        assert download.startswith(proxy.url + "/storage/")
        model = httpx.get(download)
        assert model.status_code == 200 and model.content
        _same_answer(model, proxy.url, live_server.base_url)
        image = sdk.run_sync("flux-dev-finetuned", finetune_id=job_id, **PARAMS)
        assert image.headers["content-type"] == "image/jpeg"
        job = sdk.submit_async("flux-dev-finetuned", finetune_id=job_id, **PARAMS)
        assert job.status_url.startswith(proxy.url)
        assert job.status()["status"] in ("QUEUED", "PROCESSING")
        live_server.advance(600)
        assert job.status()["status"] == "COMPLETED"
        result: dict[str, Any] = job.result()
        assert result["status"] == "COMPLETED"

    assert capture.compared >= 7  # details twice, list, download URL, v2 status twice, result

    journal = httpx.get(f"{proxy.url}/_mock/requests?limit=100").json()
    assert len(journal) == len(capture.answers) + 2  # and the PUT and the model download
    assert not any(entry["flagged"] for entry in journal), journal
    assert KEY_A not in json.dumps(journal)  # the proxy keeps no key, not even as a tenant
    assert journal[0]["path"].startswith("/v2/requests/")  # newest first
    assert httpx.get(f"{proxy.url}/_mock/violations").json() == []
    assert proxy.lines == []
