"""Every operation the vendor docs and the official SDK name is in the contract, with its source.

Two independent inventories: one written from the doc pages (by hand, here, as the oracle),
one recorded by running the real `segmind` SDK 1.3.0 against a recording transport.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import segmind
from segmind import SegmindClient

from mock_server.spec import SpecBundle
from mock_server.spec.schemas import schema_validator
from tests.inference.params import PARAMS

KONTEXT, PRO, QWEN, INFER, TRAINER = (
    "000_3dd3deafbf7d587f.txt",
    "001_59641e598e8287b6.txt",
    "002_f63cd495e105f972.txt",
    "003_0ddb82c222c13625.txt",
    "004_3885843d4038e7d0.txt",
)

# (method, a concrete path on the mock, the seed files that document it)
DOCUMENTED = [
    ("POST", "/finetune/request/submit", (KONTEXT, PRO, QWEN)),
    ("GET", "/finetune/request/details", (KONTEXT, PRO, QWEN)),
    ("GET", "/finetune/request/list", (KONTEXT, PRO, QWEN)),
    ("GET", "/finetune/request/upload/pre-signed-url", (KONTEXT, PRO, QWEN)),
    ("PUT", "/finetune/request/access-update", (KONTEXT, PRO, QWEN)),
    ("GET", "/finetune/request/file/download", (KONTEXT, QWEN)),
    ("POST", "/v1/flux-dev-finetuned", (INFER,)),
    ("POST", "/v2/flux-dev-finetuned", (INFER,)),
    ("GET", "/v2/requests/req-123/status", (INFER,)),
    ("GET", "/v2/requests/req-123", (INFER,)),
    ("POST", "/lora-trainer/finetune", (TRAINER,)),
    ("GET", "/lora-trainer/finetune/job-123", (TRAINER,)),  # the status endpoint, path inferred
]


@pytest.mark.parametrize(("method", "path", "seeds"), DOCUMENTED, ids=lambda v: str(v))
def test_documented_operation_is_in_the_contract_with_its_seeds(
    bundle: SpecBundle, method: str, path: str, seeds: tuple[str, ...]
) -> None:
    found = bundle.match(method, path)
    assert found is not None, f"{method} {path} is documented but not in openapi/"
    op, _ = found
    sources = " ".join(op.sources)
    for seed in seeds:
        assert seed in sources, f"{op.operation_id}: x-source does not cite {seed}"


def test_the_trainer_status_path_is_marked_inferred(bundle: SpecBundle) -> None:
    found = bundle.match("GET", "/lora-trainer/finetune/job-123")
    assert found is not None
    assert found[0].inferred, "seed 004 gives no path for its status endpoint"


# --- the SDK, run for real against a transport that records what it sends --------------------

_SDK_ANSWER = {
    "request_id": "req-123",
    "status_url": "https://api.segmind.com/v2/requests/req-123/status",
    "response_url": "https://api.segmind.com/v2/requests/req-123",
    "status": "COMPLETED",
}


@contextmanager
def recording_client() -> Iterator[tuple[SegmindClient, list[httpx.Request]]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return httpx.Response(200, json=_SDK_ANSWER)

    client = SegmindClient(api_key="sdk-key")
    client._client = httpx.Client(
        transport=httpx.MockTransport(handler),
        base_url=client.base_url,
        headers=client._client.headers,
    )
    yield client, seen


SDK_CALLS: list[tuple[str, Callable[[SegmindClient], Any]]] = [
    (
        "segmind/finetune.py Finetune.submit",
        lambda c: c.finetune.submit(
            name="n",
            data_source_path="https://example.test/d.zip",
            instance_prompt="p",
            trigger_word="TOK",
            base_model="FLUX_PRO",
            train_type="LORA",
            machine_type="NVIDIA_H100",
            theme="GENERAL",
        ),
    ),
    ("segmind/finetune.py Finetune.details", lambda c: c.finetune.details("ft-1")),
    ("segmind/finetune.py Finetune.list", lambda c: c.finetune.list()),
    (
        "segmind/finetune.py Finetune.upload_presigned_url",
        lambda c: c.finetune.upload_presigned_url("data.zip"),
    ),
    (
        "segmind/finetune.py Finetune.access_update",
        lambda c: c.finetune.access_update("ft-1", True),
    ),
    (
        "segmind/finetune.py Finetune.file_download",
        lambda c: c.finetune.file_download("https://bucket.test/model.safetensors"),
    ),
    (
        "segmind/client.py SegmindClient.run_sync",
        lambda c: c.run_sync("flux-dev-finetuned", **PARAMS, finetune_id="my-finetune-id"),
    ),
    (
        "segmind/v2.py submit",
        lambda c: c.submit_async("flux-dev-finetuned", **PARAMS, finetune_id="my-finetune-id"),
    ),
    (
        "segmind/v2.py AsyncJob.status",
        lambda c: segmind.v2.AsyncJob(
            "req-123", _SDK_ANSWER["status_url"], _SDK_ANSWER["response_url"], {}, c
        ).status(),
    ),
    (
        "segmind/v2.py AsyncJob.result",
        lambda c: segmind.v2.AsyncJob(
            "req-123", _SDK_ANSWER["status_url"], _SDK_ANSWER["response_url"], {}, c
        ).result(),
    ),
    ("segmind/webhooks.py Webhooks.get", lambda c: c.webhooks.get()),
    (
        "segmind/webhooks.py Webhooks.add",
        lambda c: c.webhooks.add("https://hooks.test/x", ["FINETUNE"]),
    ),
    (
        "segmind/webhooks.py Webhooks.update",
        lambda c: c.webhooks.update("wh-1", "https://hooks.test/y", ["FINETUNE"]),
    ),
    ("segmind/webhooks.py Webhooks.delete", lambda c: c.webhooks.delete("wh-1")),
    ("segmind/webhooks.py Webhooks.logs", lambda c: c.webhooks.logs("wh-1")),
]


def _body_of(request: httpx.Request) -> tuple[str | None, Any]:
    """(media type, parsed body) of what the SDK sent, or (None, None) for no body."""
    if not request.content:
        return None, None
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if media == "application/json":
        import json

        return media, json.loads(request.content)
    if media == "application/x-www-form-urlencoded":
        return media, dict(parse_qsl(request.content.decode()))
    return media, request.content


@pytest.mark.parametrize(("call_name", "call"), SDK_CALLS, ids=[n for n, _ in SDK_CALLS])
def test_every_sdk_call_hits_a_spec_operation_and_its_body_validates(
    bundle: SpecBundle, call_name: str, call: Callable[[SegmindClient], Any]
) -> None:
    with recording_client() as (client, seen):
        call(client)
    assert len(seen) == 1
    request = seen[0]
    url = urlsplit(str(request.url))
    found = bundle.match(request.method, url.path)
    assert found is not None, f"the SDK's {call_name} sends {request.method} {url.path}"
    op, _ = found
    if op.family == "segmind-platform":  # no doc page: the SDK is the only source
        module = call_name.split()[0]
        assert any(module in s for s in op.sources), f"{op.operation_id} must cite {module}"
    doc = bundle.documents[op.family]
    params = [doc.resolve(p["$ref"]) if "$ref" in p else p for p in op.raw.get("parameters", [])]
    declared = {p["name"] for p in params if p.get("in") == "query"}
    for name, value in parse_qsl(url.query):
        assert name in declared, f"{op.operation_id}: SDK sends query {name}={value}"
    media, body = _body_of(request)
    if media is None:
        assert not op.raw.get("requestBody", {}).get("required"), op.operation_id
        return
    content = op.raw.get("requestBody", {}).get("content", {})
    assert media in content, f"{op.operation_id}: SDK sends {media}, spec has {list(content)}"
    schema = content[media].get("schema")
    errors = list(schema_validator(doc, schema).iter_errors(body))
    assert errors == [], f"{op.operation_id}: the SDK's body fails the spec: {errors[0].message}"


def test_sdk_files_upload_hits_upload_asset(bundle: SpecBundle, tmp_path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    with recording_client() as (client, seen):
        client.files.upload(str(image))
    op, _ = bundle.match(seen[0].method, urlsplit(str(seen[0].url)).path) or (None, None)
    assert op is not None and op.operation_id == "files_upload_asset"
    _, body = _body_of(seen[0])
    schema = op.raw["requestBody"]["content"]["application/json"]["schema"]
    assert list(schema_validator(bundle.documents[op.family], schema).iter_errors(body)) == []
