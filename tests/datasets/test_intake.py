"""Datasets are read for real at submit: from mock storage or a public URL, and inspected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from safetensors import safe_open

from fixtures.datasets import make_datasets
from tests.finetune.helpers import doc_submit_body

pytestmark = pytest.mark.anyio

DATASETS = Path(make_datasets.__file__).parent


@pytest.fixture
async def fetching_client(make_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process mock that reads every dataset (the default `--datasets fetch`)."""
    async with make_client(key="tenant-datasets", clock="virtual") as client:
        yield client


async def upload(client: httpx.AsyncClient, data: bytes, name: str = "d.zip") -> str:
    urls = (
        await client.request("GET", "/finetune/request/upload/pre-signed-url", json={"name": name})
    ).json()
    assert (await client.put(urls["presigned_url"], content=data)).status_code == 200
    return str(urls["s3_url"])


async def submit_and_settle(client: httpx.AsyncClient, model: str, url: str) -> dict[str, Any]:
    body = doc_submit_body(model) | {"data_source_path": url}
    answer = await client.post("/finetune/request/submit", json=body)
    assert answer.status_code == 200, answer.text
    job_id = answer.json().get("finetune_id") or answer.json()["request_id"]
    await client.post("/_mock/clock/advance", json={"seconds": 3600})
    details = await client.request("GET", "/finetune/request/details", json={"request_id": job_id})
    finetune: dict[str, Any] = details.json()["finetune"]
    return finetune


async def test_real_images_train_into_a_real_safetensors(fetching_client, tmp_path) -> None:
    client = fetching_client
    url = await upload(client, (DATASETS / "good" / "images.zip").read_bytes())
    job = await submit_and_settle(client, "FLUX_PRO", url)
    assert job["status"] == "AVAILABLE", job["error_message"]
    download = await client.request(
        "GET",
        "/finetune/request/file/download",
        data={"cloud_storage_url": job["cloud_storage_url"]},
    )
    model = await client.get(download.text)
    assert model.status_code == 200
    path = tmp_path / "model.safetensors"
    path.write_bytes(model.content)
    with safe_open(str(path), framework="numpy") as weights:
        meta = weights.metadata()
        names = list(weights.keys())
        a_name = next(n for n in names if n.endswith("lora_A.weight"))
        rank = weights.get_tensor(a_name).shape[0]
    body = doc_submit_body("FLUX_PRO")
    params = body["advance_parameters"]
    assert rank == params["lora_rank"] == int(meta["lora_rank"])
    assert meta["base_model"] == "FLUX_PRO" and meta["trigger_word"] == body["trigger_word"]
    assert meta["steps"] == str(params["iterations"])
    assert float(meta["learning_rate"]) == params["learning_rate"]
    assert meta["finetune_id"] == job["finetune_id"]
    assert sum(n.endswith("lora_B.weight") for n in names) == sum(
        n.endswith("lora_A.weight") for n in names
    )


@pytest.mark.parametrize(
    ("model", "dataset"),
    [
        ("FLUX", "kontext_pairs.zip"),
        ("FLUX", "kontext_pairs_folders.zip"),
        ("QWEN", "macos_junk.zip"),
    ],
)
async def test_good_datasets_are_accepted(fetching_client, model: str, dataset: str) -> None:
    client = fetching_client
    url = await upload(client, (DATASETS / "good" / dataset).read_bytes())
    job = await submit_and_settle(client, model, url)
    assert (job["status"], job["error_message"]) == ("AVAILABLE", None)


@pytest.mark.parametrize(
    ("model", "dataset", "message"),
    [
        ("QWEN", "zip_bomb.zip", "zip bomb"),
        ("QWEN", "traversal.zip", "path traversal"),
        ("QWEN", "symlink.zip", "symbolic link"),
        ("QWEN", "non_images.zip", "neither images nor captions"),
        ("QWEN", "corrupt_image.zip", "cannot be read as an image"),
        ("QWEN", "no_images.zip", "no images"),
        ("QWEN", "not_a_zip.zip", "not a ZIP"),
        ("FLUX", "kontext_odd.zip", "start/end image pairs"),
        ("FLUX", "images.zip", "start/end image pairs"),  # good images, but not pairs
    ],
)
async def test_hostile_datasets_fail_the_job_with_their_own_message(
    fetching_client, tmp_path, model: str, dataset: str, message: str
) -> None:
    before = set(Path("/tmp").glob("evil*")) | set(tmp_path.parent.glob("evil*"))
    client = fetching_client
    folder = "bad" if (DATASETS / "bad" / dataset).exists() else "good"
    url = await upload(client, (DATASETS / folder / dataset).read_bytes())
    job = await submit_and_settle(client, model, url)
    assert job["status"] == "FAILED"
    assert message.lower() in job["error_message"].lower(), job["error_message"]
    assert job["cloud_storage_url"] is None
    after = set(Path("/tmp").glob("evil*")) | set(tmp_path.parent.glob("evil*"))
    assert after == before  # nothing was extracted anywhere


async def test_a_zip_over_100_mb_fails_a_flux_pro_job(make_client: Any, tmp_path: Path) -> None:
    big = make_datasets.large_zip(tmp_path / "big.zip", 100 * 1024 * 1024)
    # storage takes it (its cap is raised here); the Flux Pro trainer must refuse it
    async with make_client(
        key="tenant-big", clock="virtual", max_upload_bytes=200 * 1024 * 1024
    ) as client:
        url = await upload(client, big.read_bytes())
        job = await submit_and_settle(client, "FLUX_PRO", url)
    assert job["status"] == "FAILED"
    assert "must be under 104857600 bytes" in job["error_message"]


async def test_another_tenants_upload_is_like_a_missing_one(fetching_client) -> None:
    client = fetching_client
    url = await upload(client, (DATASETS / "good" / "images.zip").read_bytes())
    client.headers["x-api-key"] = "someone-else"
    theirs = await submit_and_settle(client, "QWEN", url)
    missing = await submit_and_settle(client, "QWEN", url.replace(".zip", "-gone.zip"))
    assert theirs["status"] == missing["status"] == "FAILED"
    assert theirs["error_message"] == missing["error_message"]


async def test_a_url_that_is_not_a_url_is_refused_at_submit(fetching_client) -> None:
    client = fetching_client
    body = doc_submit_body("QWEN") | {"data_source_path": "any public zip url"}
    answer = await client.post("/finetune/request/submit", json=body)
    listing = (await client.get("/finetune/request/list")).json()
    assert answer.status_code == 400
    assert answer.json()["details"][0]["path"] == "data_source_path"
    assert listing == []


# --- public URLs, served by a local HTTP server on 127.0.0.1 ----------------------------------


@pytest.mark.parametrize(
    ("mode", "status", "message"),
    [
        ("good", "AVAILABLE", None),
        ("no-length", "FAILED", "without a Content-Length header"),
        ("no-head", "FAILED", "answered HEAD with 405"),
    ],
)
async def test_public_url_needs_head_get_and_content_length(
    fetching_client, static_host, mode: str, status: str, message: str | None
) -> None:
    static_host.files["/datasets/faces.zip"] = (DATASETS / "good" / "images.zip").read_bytes()
    static_host.mode = mode
    client = fetching_client
    job = await submit_and_settle(client, "QWEN", static_host.url("/datasets/faces.zip"))
    assert job["status"] == status
    assert job["source_type"] == "PUBLIC_URL"
    if message is None:
        assert job["error_message"] is None
    else:
        assert message in job["error_message"]


async def test_an_unreachable_public_url_fails_the_job(fetching_client) -> None:
    client = fetching_client
    job = await submit_and_settle(client, "QWEN", "http://127.0.0.1:9/nothing.zip")
    assert job["status"] == "FAILED" and "unreachable" in job["error_message"]
