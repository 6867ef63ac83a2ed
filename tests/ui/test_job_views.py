"""Every kind of job on the dashboard, served in process: a LoRA-trainer job and an inference
request listed by name and model, their pages showing the vendor's record only, an expired
or failed request saying why it has no output, the 404 page, and delivery outcomes."""

from __future__ import annotations

import re

import httpx
import pytest

from mock_server.outbound import NOT_ALLOWED
from mock_server.webhooks.deliveries import outcome
from tests.inference.params import PARAMS
from tests.inference.test_inference import available_model
from tests.trainer.test_lora_trainer import create, form
from tests.ui.helpers import UI

pytestmark = pytest.mark.anyio


def record_keys(page: str) -> list[str]:
    found = re.search(r'<dl class="fields" id="record">(.*?)</dl>', page, re.S)
    assert found is not None
    return re.findall(r"<dt>([^<]+)</dt>", found.group(1))


async def test_a_trainer_job_shows_its_trigger_word_option_and_record(
    mock_client: httpx.AsyncClient,
) -> None:
    made = (await create(mock_client, form(2, lora_prefix="MYDOG"))).json()["data"]
    trigger, option = made["args"]["trigger_word"], made["args"]["option"]
    listed = (await mock_client.get(f"{UI}/jobs", params={"kind": "lora-trainer"})).text
    assert f'<td class="job-name">{trigger}</td>' in listed
    assert f'<td class="job-model">{option}</td>' in listed
    await mock_client.post("/_mock/clock/advance", json={"seconds": 3600})
    page = (await mock_client.get(f"{UI}/jobs/lora-trainer/{made['id']}")).text
    shown = await mock_client.get(f"/lora-trainer/finetune/{made['id']}")
    assert set(record_keys(page)) == set(shown.json()["data"]) - {"history"}
    assert "base_url" not in page and "http://mock.test" not in page  # paths, not the host
    assert f"/lora-trainer/files/{made['id']}/sample_0.jpg" in page
    assert 'id="artifacts-note"' not in page  # done: its samples are shown, nothing to say


async def test_an_inference_request_shows_its_model_and_why_its_output_is_gone(
    mock_client: httpx.AsyncClient,
) -> None:
    model = await available_model(mock_client)
    sent = await mock_client.post("/v2/flux-dev-finetuned", json=PARAMS | {"finetune_id": model})
    request_id = sent.json()["request_id"]
    listed = (await mock_client.get(f"{UI}/jobs", params={"kind": "inference"})).text
    assert '<td class="job-model">flux-dev-finetuned</td>' in listed
    page_url = f"{UI}/jobs/inference/{request_id}"
    waiting = (await mock_client.get(page_url)).text
    assert record_keys(waiting) == ["request_id", "model", "status"]
    assert "None yet: they appear when the job reaches COMPLETED." in waiting
    await mock_client.post("/_mock/clock/advance", json={"seconds": 3700})
    gone = (await mock_client.get(page_url)).text
    assert "No output: the result has expired." in gone and "None yet" not in gone


async def test_a_failed_request_has_no_output_and_says_so(mock_client: httpx.AsyncClient) -> None:
    model = await available_model(mock_client)
    body = PARAMS | {"finetune_id": model, "prompt": "TOK nsfw"}
    request_id = (await mock_client.post("/v2/flux-dev-finetuned", json=body)).json()["request_id"]
    await mock_client.post("/_mock/clock/advance", json={"seconds": 10})
    page = (await mock_client.get(f"{UI}/jobs/inference/{request_id}")).text
    assert record_keys(page) == ["request_id", "model", "status", "error"]
    assert "No output: the request failed." in page and "None yet" not in page


async def test_unknown_dashboard_paths(mock_client: httpx.AsyncClient) -> None:
    page = await mock_client.get(f"{UI}/nope/deeper")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "no page at /_mock/ui/nope/deeper" in page.text and 'href="/_mock/ui/jobs"' in page.text
    head = await mock_client.head(f"{UI}/nope")
    assert head.status_code == 404
    posted = await mock_client.post(f"{UI}/nope", json={})  # no browser's visit: the API's 404
    assert posted.status_code == 404 and posted.headers["content-type"] == "application/json"
    vendor = await mock_client.get("/no/such/route")
    assert vendor.status_code == 404 and vendor.headers["content-type"] == "application/json"


def test_delivery_outcomes() -> None:
    attempt = {"attempt": 1, "error": None}
    assert outcome("pending", []) == "pending"
    assert outcome("pending", [attempt]) == "retrying"
    assert outcome("delivered", [attempt]) == "delivered"
    assert outcome("failed", [attempt]) == "failed"
    refused = {**attempt, "error": f"{NOT_ALLOWED}: the mock's own address"}
    assert outcome("failed", [attempt, refused]) == "refused"
    assert outcome("failed", [refused, attempt]) == "failed"
