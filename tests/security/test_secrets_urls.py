"""URLs the mock hands out carry no stand-in for a key that can be looked up: the folder of a
tenant's assets and uploads is an HMAC under the server's own secret, not sha256(key)."""

from __future__ import annotations

import hashlib

import pytest

from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio

PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
    "DwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def _asset_folder(key: str) -> tuple[str, str]:
    async with running_app(key=key, datasets="skip") as client:
        answer = await client.post("/upload-asset", json={"data_urls": [PNG]})
        assert answer.status_code == 200, answer.text
        asset = answer.json()["file_urls"][0]
        upload = await client.request(
            "GET", "/finetune/request/upload/pre-signed-url", json={"name": "d.zip"}
        )
        presigned = upload.json()["s3_url"]
    return asset.split("/assets/")[1].split("/")[0], presigned.split("/uploads/")[1].split("/")[0]


async def test_asset_and_upload_urls_use_a_salted_id_not_a_hash_of_the_key() -> None:
    key = "key-with-a-known-hash"
    asset_dir, upload_dir = await _asset_folder(key)
    plain = hashlib.sha256(key.encode()).hexdigest()
    assert asset_dir == upload_dir  # one id stands for the tenant
    assert asset_dir not in plain and key not in asset_dir
    # another server (another secret) gives the same key another id: nothing to tabulate
    other_asset_dir, _ = await _asset_folder(key)
    assert other_asset_dir != asset_dir
