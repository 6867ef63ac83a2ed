"""Seed 004 on the mock: real multipart forms, the provider's envelope and errors,
completion on the clock with a webhook_url callback, credits answered as 402."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from fixtures.datasets import make_datasets
from mock_server.testing.receiver import WebhookReceiver
from tests.fixtures.contract import conforms
from tests.fixtures.server import KEY_B
from tests.security.hosts import closed_port

pytestmark = pytest.mark.anyio

CREATE = "/lora-trainer/finetune"
PNG = make_datasets._image(1)
JPEG = make_datasets._image(2, fmt="JPEG")


def form(images: int = 0, name: str = "img", data: bytes = PNG, **fields: Any) -> list:
    """A multipart form as a list of parts (files and text fields alike)."""
    parts: list = [("image_files", (f"{name}{i}.png", data, "image/png")) for i in range(images)]
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append((key, (None, str(item))))
    return parts


async def create(client: httpx.AsyncClient, parts: list, **kw: Any) -> httpx.Response:
    return await client.post(CREATE, files=parts, **kw)


@pytest.mark.parametrize(
    ("parts", "option", "count"),
    [
        (form(3, lora_prefix="MYDOG"), "FluxFinetune", 3),
        (form(2, option="FluxProFinetune", finetune_type="Character"), "FluxProFinetune", 2),
        (
            form(4, option="FluxKontextFinetune", prompt="turn the car red."),
            "FluxKontextFinetune",
            4,
        ),
    ],
)
async def test_create_answers_the_documented_envelope(
    mock_client: httpx.AsyncClient, parts: list, option: str, count: int
) -> None:
    data = conforms("lora_trainer_finetune_create", await create(mock_client, parts))["data"]
    assert data["status"] == "pending" and data["app_name"] == option
    assert data["args"]["image_count"] == count and data["args"]["option"] == option
    prefix = data["args"]["lora_prefix"]
    assert data["args"]["trigger_word"].startswith(f"{prefix}_")
    if option == "FluxKontextFinetune":
        assert "finetune_type" not in data["args"] and data["args"]["prompt"]
    else:
        assert "prompt" not in data["args"]
    assert data["created_at"][10] == " " and data["created_at"].endswith("+00:00")


async def test_trigger_words_are_unique_per_job(mock_client: httpx.AsyncClient) -> None:
    first = (await create(mock_client, form(1))).json()["data"]["args"]["trigger_word"]
    second = (await create(mock_client, form(1))).json()["data"]["args"]["trigger_word"]
    assert first != second and first.startswith("MYLORA_")


async def test_urls_are_ignored_when_files_are_uploaded(mock_client: httpx.AsyncClient) -> None:
    parts = form(2, image_urls=["https://example.com/a.jpg"])
    data = (await create(mock_client, parts)).json()["data"]
    assert "image_urls" not in data["args"] and data["args"]["image_count"] == 2


@pytest.mark.parametrize(
    ("parts", "status", "phrase"),
    [
        (form(3, option="FluxKontextFinetune", prompt="p"), 400, "even number of image_files"),
        (form(0, option="FluxFinetune", lora_prefix="X"), 400, "No training images"),
        (form(2, option="FluxKontextFinetune"), 400, "needs a prompt"),
        (form(1, data=b"MZ\x90\x00 not an image"), 400, "is not a readable image"),
        (form(1, option="FluxFintune"), 422, "option"),
        (form(1, num_iterations=-1), 422, "num_iterations"),
        (form(1, num_iterations="many"), 422, "num_iterations"),
    ],
)
async def test_bad_forms_answer_in_the_providers_style(
    mock_client: httpx.AsyncClient, parts: list, status: int, phrase: str
) -> None:
    response = await create(mock_client, parts)
    assert response.status_code == status, response.text
    detail = conforms("lora_trainer_finetune_create", response)["detail"]
    if status == 422:
        assert any(phrase in item["loc"] for item in detail), detail
        assert all(item["loc"][0] == "body" and item["msg"] for item in detail)
    else:
        assert phrase in detail
    assert (await mock_client.get("/_mock/jobs", params={"kind": "lora-trainer"})).json() == []


async def test_missing_key_is_401_and_oversized_files_are_413(make_client) -> None:
    async with make_client(clock="virtual", datasets="skip") as client:
        missing = await client.post(CREATE, files=form(1))
        assert missing.status_code == 401 and missing.json()["detail"]
        client.headers["x-api-key"] = "k"
        big = form(1, data=b"\x89PNG" + b"0" * (21 * 1024 * 1024))
        too_big = await client.post(CREATE, files=big)
        assert too_big.status_code == 413 and "larger than" in too_big.json()["detail"]
        jobs = (await client.get("/_mock/jobs")).json()
    assert jobs == []


async def test_completion_on_the_clock_calls_the_webhook_url_and_samples_are_images(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    created = (await create(mock_client, form(2, webhook_url=webhook_receiver.url))).json()
    job_id = created["data"]["id"]
    pending = conforms("lora_trainer_finetune_status", await mock_client.get(f"{CREATE}/{job_id}"))[
        "data"
    ]
    assert pending["status"] == "pending" and pending["results"] == []
    await mock_client.post("/_mock/clock/advance", json={"seconds": 3600})
    await mock_client.post("/_mock/webhooks/flush", json={})
    done = conforms("lora_trainer_finetune_status", await mock_client.get(f"{CREATE}/{job_id}"))
    data = done["data"]
    assert data["status"] == "success"
    assert [h["status"] for h in data["history"]] == ["pending", "processing", "success"]
    (call,) = await webhook_receiver.arrived(1)
    assert call.json()["data"]["id"] == job_id and call.json()["data"]["status"] == "success"
    for url in data["results"][:1] + data["thumbnails"][:1]:
        image = await mock_client.get(httpx.URL(url).path, headers={"x-api-key": ""})
        assert image.status_code == 200
        assert Image.open(io.BytesIO(image.content)).format == "JPEG"


async def test_another_tenants_job_is_not_found(mock_client: httpx.AsyncClient) -> None:
    job_id = (await create(mock_client, form(1))).json()["data"]["id"]
    theirs = await mock_client.get(f"{CREATE}/{job_id}", headers={"x-api-key": KEY_B})
    unknown = await mock_client.get(f"{CREATE}/nope", headers={"x-api-key": KEY_B})
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json() == {"detail": "Not Found"}


async def test_402_when_credits_run_out_and_nothing_changes(mock_client: httpx.AsyncClient) -> None:
    key = mock_client.headers["x-api-key"]
    await mock_client.put(f"/_mock/credits/{key}", json={"credits": 15})
    assert (await create(mock_client, form(1))).status_code == 200
    refused = await create(mock_client, form(1))
    assert refused.status_code == 402
    assert "Insufficient credits" in conforms("lora_trainer_finetune_create", refused)["detail"]
    balance = (await mock_client.get(f"/_mock/credits/{key}")).json()
    assert balance == {"api_key": key, "credits": 5.0}
    assert len((await mock_client.get("/_mock/jobs", params={"kind": "lora-trainer"})).json()) == 1


async def test_image_urls_are_fetched_and_checked(make_client, static_host) -> None:
    static_host.files["/a.jpg"] = JPEG
    static_host.files["/b.png"] = PNG
    static_host.files["/notes.txt"] = b"not an image"
    async with make_client(key="k", clock="virtual") as client:  # datasets: fetch
        good = await create(
            client, form(0, image_urls=[static_host.url("/a.jpg"), static_host.url("/b.png")])
        )
        text = await create(client, form(0, image_urls=[static_host.url("/notes.txt")]))
        gone = await create(client, form(0, image_urls=[static_host.url("/missing.png")]))
    assert good.status_code == 200 and good.json()["data"]["args"]["image_count"] == 2
    assert text.status_code == 400 and "not a readable image" in text.json()["detail"]
    assert gone.status_code == 400 and "answered HEAD with 404" in gone.json()["detail"]


async def test_an_image_fetch_error_names_the_image_field(make_client, static_host) -> None:
    # the fetcher is shared with datasets: its words must be the image's, not data_source_path
    static_host.files["/a.png"] = PNG
    closed = f"http://127.0.0.1:{closed_port()}/b.png"
    async with make_client(key="k", clock="virtual") as client:
        gone = await create(client, form(0, image_urls=[static_host.url("/a.png"), closed]))
        missing = await create(client, form(0, image_urls=[static_host.url("/none.png")]))
    assert gone.status_code == 400, gone.text
    assert gone.json()["detail"].startswith(f"image_urls[1] {closed} is unreachable: ")
    assert missing.json()["detail"].startswith("image_urls[0] http://")
    for answer in (gone, missing):
        assert "data_source_path" not in answer.text and "dataset" not in answer.text.lower()


async def test_text_where_an_image_file_belongs_is_a_422(mock_client: httpx.AsyncClient) -> None:
    response = await create(mock_client, [("image_files", (None, "just text"))])
    assert response.status_code == 422
    detail = conforms("lora_trainer_finetune_create", response)["detail"]
    assert detail[0]["loc"] == ["body", "image_files", "0"]
    assert "UploadFile" in detail[0]["msg"]
