"""The dashboard's pages, served in process: what each shows, its live fragment and event
stream, 1k jobs paginated, and that its own traffic stays out of the request journal."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from mock_server.cli.serve_cmd import banner
from mock_server.config import Config
from mock_server.testing.receiver import WebhookReceiver
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A
from tests.ui.helpers import PAGES, UI, populate

pytestmark = pytest.mark.anyio


async def test_every_page_answers_html_and_masks_keys(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    made = await populate(mock_client, webhook_receiver)
    for page in [*PAGES, f"/jobs/finetune/{made['job_id']}"]:
        answer = await mock_client.get(UI + page)
        assert answer.status_code == 200, page
        assert answer.headers["content-type"].startswith("text/html")
        text = answer.text
        assert "<h1>" in text
        assert 'aria-current="page"' in text or page.startswith("/jobs/finetune/")
        # the key is shown masked; only form values (which call the admin API) hold it
        shown = re.sub(r'value="[^"]*"', "", text)
        assert KEY_A not in shown, page
    assert "key…~" in (await mock_client.get(f"{UI}/")).text  # a quarter of a short key


async def test_bare_prefix_redirects_to_the_overview(mock_client: httpx.AsyncClient) -> None:
    answer = await mock_client.get(UI)
    assert answer.status_code == 307 and answer.headers["location"] == f"{UI}/"


async def test_job_page_shows_timeline_artifact_and_three_deliveries(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    made = await populate(mock_client, webhook_receiver)
    page = (await mock_client.get(f"{UI}/jobs/finetune/{made['job_id']}")).text
    timeline = page[page.index('id="timeline"') : page.index("</ol>", page.index('id="timeline"'))]
    states = re.findall(r"state-[a-z_]+\">([A-Z_]+)<", timeline)
    assert states == [
        "REQUESTED",
        "TRAINING",
        "TRAINING_COMPLETED",
        "INFERENCE_QUEUED",
        "AVAILABLE",
    ]
    rows = re.findall(r'<tr data-delivery="[^"]+">.*?</tr>', page, re.S)
    assert [re.search(r"<td>(\w+)", r).group(1) for r in rows] == [  # type: ignore[union-attr]
        "TRAINING_COMPLETED",
        "INFERENCE_QUEUED",
        "AVAILABLE",
    ]
    assert all('outcome-delivered">delivered<' in r for r in rows)
    assert "Redeliver" in page and "Force FAILED" not in page  # AVAILABLE is terminal
    model = await mock_client.get(f"{UI}/jobs/finetune/{made['job_id']}/model.safetensors")
    assert model.status_code == 303
    download = await mock_client.get(model.headers["location"])
    assert download.status_code == 200 and len(download.content) > 1000


async def test_a_fresh_job_offers_both_moves_and_an_unknown_one_is_404(
    mock_client: httpx.AsyncClient,
) -> None:
    submitted = await mock_client.post("/finetune/request/submit", json=doc_submit_body("QWEN"))
    job_id = submitted.json().get("finetune_id") or submitted.json()["request_id"]
    page = (await mock_client.get(f"{UI}/jobs/finetune/{job_id}")).text
    assert "Advance to the next state" in page and "Force FAILED" in page
    assert f'data-api="/_mock/jobs/{job_id}/status"' in page
    assert "None yet: they appear when the job reaches TRAINING_COMPLETED." in page
    missing = await mock_client.get(f"{UI}/jobs/finetune/no-such-job")
    assert missing.status_code == 404 and "not found" in missing.text
    assert (await mock_client.get(f"{UI}/jobs/nokind/{job_id}")).status_code == 404
    untrained = await mock_client.get(f"{UI}/jobs/finetune/{job_id}/model.safetensors")
    assert untrained.status_code == 404


async def test_thousand_jobs_are_paginated_newest_first(mock_client, mock_app) -> None:
    service = mock_app.state.services.finetune
    tenants = mock_app.state.runtime.tenants  # the domain knows a tenant by its key's id
    for n in range(1000):
        body = {**doc_submit_body("FLUX"), "name": f"job-{n:04d}"}
        service.submit(tenants.of(f"tenant-{n % 3}"), body, "http://mock.test")
        mock_app.state.runtime.clock.advance(0.001)  # distinct created_at
    first = await mock_client.get(f"{UI}/jobs")
    assert first.status_code == 200
    assert "1000 jobs" in first.text and "page 1 of 20" in first.text
    assert first.text.count("<tr data-job=") == 50
    last = await mock_client.get(f"{UI}/jobs", params={"page": 20, "fragment": "1"})
    assert "<html" not in last.text and last.text.count("<tr data-job=") == 50
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
    one_tenant = await mock_client.get(f"{UI}/jobs", params={"tenant": "tenant-1"})
    assert "333 jobs" in one_tenant.text
    newest = service.list(None)[0].id
    assert first.text.index(newest) < first.text.index("</tbody>")


async def test_filters_by_kind_and_state(mock_client: httpx.AsyncClient) -> None:
    await mock_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    fine = await mock_client.get(f"{UI}/jobs", params={"kind": "finetune", "state": "REQUESTED"})
    assert "1 job," in fine.text
    none = await mock_client.get(f"{UI}/jobs", params={"kind": "inference"})
    assert "0 jobs" in none.text and "No jobs match these filters" in none.text
    await mock_client.post("/_mock/clock/advance", json={"seconds": 3600})
    moved = await mock_client.get(f"{UI}/jobs", params={"state": "REQUESTED"})
    assert "0 jobs" in moved.text


async def test_event_stream_says_when_something_changed(mock_client: httpx.AsyncClient) -> None:
    async def mark() -> str:
        answer = await mock_client.get(f"{UI}/events", params={"once": "1"})
        assert answer.headers["content-type"].startswith("text/event-stream")
        found = re.search(r"event: change\ndata: (\w+)\n\n", answer.text)
        assert found and answer.text.startswith("retry: ")
        return found.group(1)

    before = await mark()
    assert await mark() == before  # nothing happened
    await mock_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    after_submit = await mark()
    assert after_submit != before
    await mock_client.post("/_mock/clock/advance", json={"seconds": 60})
    assert await mark() != after_submit


async def test_dashboard_traffic_stays_out_of_the_journal(mock_client: httpx.AsyncClient) -> None:
    await mock_client.get("/finetune/request/list")
    for page in PAGES:
        await mock_client.get(UI + page)
    await mock_client.get(f"{UI}/static/ui.css")
    await mock_client.get(f"{UI}/events", params={"once": "1"})
    journal = (await mock_client.get("/_mock/requests")).json()
    assert [e["path"] for e in journal] == ["/finetune/request/list"]


async def test_requests_page_shows_headers_and_bodies_masked(
    mock_client: httpx.AsyncClient,
) -> None:
    await mock_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    entry = (await mock_client.get("/_mock/requests")).json()[0]
    request_headers = dict(entry["request"]["headers"])
    assert request_headers["x-api-key"] == "key…"
    assert '"base_model":"FLUX"' in entry["request"]["body"].replace(" ", "")
    assert "finetune_id" in entry["response"]["body"]
    page = (await mock_client.get(f"{UI}/requests")).text
    assert "/finetune/request/submit" in page and "key…" in page and KEY_A not in page


async def test_long_bodies_are_cut_and_secret_fields_masked(make_client) -> None:
    async with make_client(KEY_A, clock="virtual", webhook_signing=True) as client:
        body = {"webhook_url": "http://127.0.0.1:9/hook", "event": {"types": ["FINETUNE"]}}
        added = (await client.post("/webhook/add", json=body)).json()
        added_entry = (await client.get("/_mock/requests")).json()[0]
        long = {**body, "webhook_url": "http://127.0.0.1:9/" + "x" * 9000}
        await client.post("/webhook/add", json=long, headers={"x-api-key": "another-key"})
        long_entry = (await client.get("/_mock/requests")).json()[0]
    assert added["signing_secret"].startswith("whsec_")
    secret = re.search(r'"signing_secret":\s*"([^"]*)"', added_entry["response"]["body"])
    assert secret is not None and secret.group(1) == "whse…" + added["signing_secret"][-2:]
    assert added["signing_secret"] not in added_entry["response"]["body"]
    request_body = long_entry["request"]["body"]
    assert len(request_body) < 4200 and request_body.endswith(
        f"({len(json.dumps(long, separators=(',', ':')))} bytes in all)"
    )


async def test_state_export_link_downloads_a_scenario_that_loads_back(
    mock_client: httpx.AsyncClient, make_client
) -> None:
    submitted = await mock_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    job_id = submitted.json()["finetune_id"]
    await mock_client.post("/_mock/clock/advance", json={"seconds": 3600})
    overview = (await mock_client.get(f"{UI}/")).text
    link = re.search(r'<a href="(/_mock/scenario)" download="([^"]+)"', overview)
    assert link is not None and link.group(2).endswith(".yaml")
    exported = await mock_client.get(link.group(1))
    assert exported.status_code == 200 and "yaml" in exported.headers["content-type"]
    async with make_client(clock="virtual", datasets="skip") as fresh:
        loaded = await fresh.post(
            "/_mock/scenario",
            content=exported.content,
            headers={"content-type": "application/yaml"},
        )
        assert loaded.status_code == 200, loaded.text
        page = (await fresh.get(f"{UI}/jobs/finetune/{job_id}")).text
    assert 'Status <span class="state state-available">AVAILABLE</span>' in page


def test_serve_banner_names_the_dashboard() -> None:
    text = banner(Config(port=8123), ["segmind-finetune"])
    assert "http://127.0.0.1:8123/_mock/ui/" in text
