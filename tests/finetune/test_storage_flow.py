"""The docs' data path: presigned upload → submit with s3_url → presigned .safetensors download."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from safetensors.numpy import load

from tests.finetune.helpers import doc_submit_body
from tests.fixtures.contract import conforms

pytestmark = pytest.mark.anyio


def dataset_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("img_001.txt", "a photo of TOK")
    return buffer.getvalue()


async def _presigned(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    response = await client.request(
        "GET", "/finetune/request/upload/pre-signed-url", json={"name": name}
    )
    answer: dict[str, str] = conforms("finetune_upload_presigned_url", response)
    return answer


async def test_upload_submit_train_download(any_client: httpx.AsyncClient) -> None:
    urls = await _presigned(any_client, "faces.zip")
    assert urls["presigned_url"].startswith(urls["s3_url"] + "?")
    query = dict(parse_qsl(urlsplit(urls["presigned_url"]).query))
    assert {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-Signature",
    } <= set(query)
    put = await any_client.put(
        urls["presigned_url"], content=dataset_zip(), headers={"x-api-key": ""}
    )
    assert put.status_code == 200

    body = doc_submit_body("FLUX_PRO") | {"data_source_path": urls["s3_url"]}
    job_id = (await any_client.post("/finetune/request/submit", json=body)).json()["finetune_id"]
    await any_client.post("/_mock/clock/advance", json={"seconds": 3600})
    details = (
        await any_client.request("GET", "/finetune/request/details", json={"request_id": job_id})
    ).json()["finetune"]
    assert details["source_type"] == "AWS_S3"

    response = await any_client.request(
        "GET",
        "/finetune/request/file/download",
        data={"cloud_storage_url": details["cloud_storage_url"]},
    )
    url = conforms("finetune_file_download", response)
    assert {"AWSAccessKeyId", "Signature", "Expires"} <= set(dict(parse_qsl(urlsplit(url).query)))
    model = await any_client.get(url, headers={"x-api-key": ""})
    assert model.status_code == 200
    tensors = load(model.content)
    assert any(name.endswith("lora_A.weight") for name in tensors)
    again = await any_client.get(url)
    assert again.content == model.content  # the same artifact every time


async def test_tampered_and_expired_signatures_are_refused_like_s3(
    any_client: httpx.AsyncClient,
) -> None:
    urls = await _presigned(any_client, "x.zip")
    parts = urlsplit(urls["presigned_url"])
    query = dict(parse_qsl(parts.query))
    query["X-Amz-Signature"] = "0" * 64
    tampered = f"{urls['s3_url']}?{urlencode(query)}"
    refused = await any_client.put(tampered, content=b"zip")
    assert refused.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in refused.text
    other_path = urls["presigned_url"].replace("x.zip", "y.zip")
    assert (await any_client.put(other_path, content=b"zip")).status_code == 403
    unsigned = await any_client.put(urls["s3_url"], content=b"zip")
    assert unsigned.status_code == 403 and "AccessDenied" in unsigned.text

    await any_client.post("/_mock/clock/advance", json={"seconds": 3601})
    expired = await any_client.put(urls["presigned_url"], content=b"zip")
    assert expired.status_code == 403
    assert "Request has expired" in expired.text
    assert expired.headers["content-type"].startswith("application/xml")


async def test_an_upload_must_match_its_content_length(mock_client: httpx.AsyncClient) -> None:
    # in process only: over TCP the client itself refuses to send a short body
    urls = await _presigned(mock_client, "x.zip")
    short = await mock_client.put(
        urls["presigned_url"], content=b"abc", headers={"content-length": "10"}
    )
    assert short.status_code == 400
    as_get = await mock_client.get(urls["presigned_url"])
    assert as_get.status_code == 403  # the upload URL signs a PUT, not a GET


async def test_path_traversal_in_storage_keys_is_refused(any_client: httpx.AsyncClient) -> None:
    response = await any_client.get("/storage/uploads/%2e%2e/%2e%2e/etc/passwd?Signature=x")
    assert response.status_code in (400, 403, 404)
    assert "<Error>" in response.text


async def test_refused_uploads_store_nothing(mock_app, mock_client: httpx.AsyncClient) -> None:
    storage = mock_app.state.services.storage
    urls = await _presigned(mock_client, "x.zip")
    path = urlsplit(urls["s3_url"]).path
    query = dict(parse_qsl(urlsplit(urls["presigned_url"]).query))
    tampered = f"{urls['s3_url']}?{urlencode(query | {'X-Amz-Signature': 'f' * 64})}"
    assert (await mock_client.put(tampered, content=b"PK")).status_code == 403
    assert (await mock_client.post(urls["presigned_url"], content=b"PK")).status_code == 405
    await mock_client.post("/_mock/clock/advance", json={"seconds": 3601})
    assert (await mock_client.put(urls["presigned_url"], content=b"PK")).status_code == 403
    assert storage.file_of(path) is None
    assert not [p for p in storage.blobs.root.rglob("*") if p.is_file()]


async def test_uploads_over_the_cap_are_refused_before_reading(make_client) -> None:
    async with make_client(key="k", clock="virtual", max_upload_bytes=1000) as client:
        urls = (
            await client.request(
                "GET", "/finetune/request/upload/pre-signed-url", json={"name": "x.zip"}
            )
        ).json()
        too_big = await client.put(urls["presigned_url"], content=b"x" * 1001)
        fits = await client.put(urls["presigned_url"], content=b"x" * 1000)
    assert too_big.status_code == 400 and "<Code>EntityTooLarge</Code>" in too_big.text
    assert fits.status_code == 200
