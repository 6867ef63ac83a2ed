"""`tunemock proxy --record FILE`: every exchange is one JSON line, written as it happens, with
the client's key, signatures and credentials redacted; Ctrl-C leaves a readable file."""

from __future__ import annotations

import io
import json
import re
import signal
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from mock_server.testing.live import LiveServer
from mock_server.testing.receiver import WebhookReceiver
from mock_server.testing.sdk import segmind_client
from tests.finetune.helpers import doc_submit_body
from tests.proxy.helpers import proxy_process

SECRET_KEY = "sk-live-7f3a9c0e1b2d4f6a"
SIGNED = {
    "webhook-id": "msg_1",
    "webhook-timestamp": "1767225600",
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "TOK")
    return buffer.getvalue()


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_recording_survives_ctrl_c_and_holds_no_secret(
    live_server: LiveServer, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    record = tmp_path / "traffic.jsonl"
    args = ["--upstream", live_server.base_url, "--record", str(record)]
    with proxy_process(*args, "--webhook-forward", webhook_receiver.url) as (url, process):
        with segmind_client(url, SECRET_KEY) as sdk:
            urls = sdk.finetune.upload_presigned_url("faces.zip")
            assert httpx.put(urls["presigned_url"], content=_zip()).status_code == 200
            body = doc_submit_body("FLUX") | {"data_source_path": urls["s3_url"]}
            job_id = sdk._client.post(f"{url}/finetune/request/submit", json=body).json()[
                "finetune_id"
            ]
            live_server.advance(3600)
            details = sdk.finetune.details(job_id)["finetune"]
            download = sdk.finetune.file_download(details["cloud_storage_url"])
            assert httpx.get(download).status_code == 200
            httpx.get(f"{url}/finetune/request/list", headers={"authorization": "Bearer tok-9"})
        # a signed delivery (the upstream's), passed on to the app with its signature
        delivery = {"event": "AVAILABLE", "finetune_id": job_id}
        hooked = httpx.post(f"{url}/_mock/hooks", json=delivery, headers=SIGNED)
        assert hooked.status_code == 200
        (passed,) = webhook_receiver.received
        assert passed.headers["webhook-signature"] == SIGNED["webhook-signature"]
        # flushed line by line: complete while the proxy still runs
        assert len(_lines(record)) == 8
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)

    text = record.read_text(encoding="utf-8")
    records = _lines(record)
    assert len(records) == 8
    hook = records.pop()
    assert hook["kind"] == "webhook" and hook["event"] == "AVAILABLE"
    assert hook["violations"]  # the made-up delivery lacks most of the payload
    assert [r["request"]["method"] for r in records] == [  # type: ignore[index]
        "GET",
        "PUT",
        "POST",
        "GET",
        "GET",
        "GET",
        "GET",
    ]
    first = records[0]
    assert first["operation"] == "finetune_upload_presigned_url"
    assert first["response"]["status"] == 200  # type: ignore[index]
    assert first["timing"]["elapsed_ms"] >= 0  # type: ignore[index]
    signatures = parse_qs(urlsplit(urls["presigned_url"]).query)["X-Amz-Signature"]
    signatures += parse_qs(urlsplit(download).query)["Signature"]
    credentials = parse_qs(urlsplit(urls["presigned_url"]).query)["X-Amz-Credential"]
    credentials += re.findall(r"X-Amz-Credential=([^&]+)", urls["presigned_url"])  # as sent
    credentials += parse_qs(urlsplit(download).query)["AWSAccessKeyId"]
    signatures.append(SIGNED["webhook-signature"])
    for secret in [SECRET_KEY, "tok-9", *signatures, *credentials]:
        assert secret and secret not in text, secret
    assert "X-Amz-Signature=[redacted]" in text and "[redacted]" in text
    assert job_id in text  # what is not a secret is kept
