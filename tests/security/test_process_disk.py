"""A full disk is not a tunemock bug: a write that meets ENOSPC (a blob, the SQLite state)
answers 507 in the vendor's error shape, /_mock/health says why, and a start on a full disk
is one line."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mock_server.cli.serve_cmd import serve
from mock_server.storage.blobs import BlobStore
from mock_server.testing.live import free_port
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import running_app

PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
    "DwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device", "/tmp/blob")


@pytest.mark.anyio
async def test_a_blob_write_on_a_full_disk_is_507_and_health_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_app(key="k-disk", datasets="skip") as client:
        assert (await client.get("/_mock/health")).json()["status"] == "ok"
        monkeypatch.setattr(BlobStore, "write_bytes", _full)
        answer = await client.post("/upload-asset", json={"data_urls": [PNG]})
        assert answer.status_code == 507
        assert "No space left on device" in answer.json()["error"]
        health = (await client.get("/_mock/health")).json()
        assert health["status"] == "degraded"
        assert "disk full" in health["problems"][0] and "/tmp/blob" in health["problems"][0]


@pytest.mark.anyio
async def test_a_full_state_file_is_507_in_the_vendors_shape(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with running_app(
        key="k-disk", datasets="skip", state=tmp_path / "s.db", clock="virtual"
    ) as client:
        store = client.app.state.runtime.store  # type: ignore[attr-defined]

        def full(*args: Any, **kwargs: Any) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(store, "insert", full)
        answer = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        assert answer.status_code == 507
        assert set(answer.json()) == {"error"}
        assert (await client.get("/_mock/health")).json()["status"] == "degraded"


def test_a_start_on_a_full_disk_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_server.storage import scratch

    monkeypatch.setattr(scratch, "make", _full)
    result = CliRunner().invoke(serve, ["--port", str(free_port())])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "No space left on device" in lines[0] and "Traceback" not in result.output


@pytest.mark.anyio
async def test_a_presigned_upload_on_a_full_disk_is_507(monkeypatch: pytest.MonkeyPatch) -> None:
    async def full_stream(*args: Any, **kwargs: Any) -> int:
        _full()
        return 0

    async with running_app(key="k-disk", datasets="skip") as client:
        urls = await client.request(
            "GET", "/finetune/request/upload/pre-signed-url", json={"name": "d.zip"}
        )
        monkeypatch.setattr(BlobStore, "write_stream", full_stream)
        put = await client.put(urls.json()["presigned_url"], content=b"PK\x05\x06" + b"\0" * 18)
        assert put.status_code == 507
        assert (await client.get("/_mock/health")).json()["status"] == "degraded"
