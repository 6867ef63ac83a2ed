"""The dashboard's finish, in a real headless Chromium against a live `tunemock serve`: jobs
listed by name and base model, deliveries coloured and filtered by outcome, a job page
without the mock's bookkeeping, honest words for a failed job's artifacts, an HTML 404 for
an unknown page, and forms whose defaults submit as they are."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from mock_server.testing.live import LiveServer
from mock_server.testing.receiver import WebhookReceiver, running_receiver
from tests.finetune.helpers import doc_submit_body, sdk_submit_doc_body
from tests.security.hosts import closed_port

UI = "/_mock/ui"


def sdk_submit(client: Any, model: str = "FLUX") -> str:
    answer = sdk_submit_doc_body(client, model)
    return str(answer.get("finetune_id") or answer["request_id"])


def test_job_list_shows_each_jobs_name_and_base_model(page: Page, segmind_client: Any) -> None:
    flux, qwen = sdk_submit(segmind_client, "FLUX"), sdk_submit(segmind_client, "QWEN")
    page.goto(f"{UI}/jobs")
    for job_id, model in ((flux, "FLUX"), (qwen, "QWEN")):
        row = page.locator(f'tr[data-job="{job_id}"]')
        expect(row.locator(".job-name")).to_have_text(doc_submit_body(model)["name"])
        expect(row.locator(".job-model")).to_have_text(model)
    headers = page.locator("#jobs thead th").all_inner_texts()
    assert "name" in headers and "base model" in headers


def _outcome_colours(page: Page) -> dict[str, tuple[str, str]]:
    """Each outcome shown in the deliveries table, with its text and background colours."""
    found: list[tuple[str, list[str]]] = page.evaluate(
        """() => [...document.querySelectorAll('#deliveries .delivery-state')].map((el) => {
                 const style = getComputedStyle(el);
                 return [el.textContent, [style.color, style.backgroundColor]];
               })"""
    )
    return {name: (colour, background) for name, (colour, background) in found}


def test_delivery_outcomes_are_coloured_and_filterable(
    page: Page, tunemock_server: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    base = tunemock_server.base_url
    with running_receiver() as refusing:
        refusing.then(400, 400, 400)  # a 400 is not retried: the delivery fails at once
        targets = {  # one webhook a tenant (the vendor's rule), one job each
            "tenant-delivered": webhook_receiver.url,
            "tenant-failed": refusing.url,
            "tenant-retrying": f"http://127.0.0.1:{closed_port()}/hook",  # then: pending
            "tenant-refused": f"{base}/hook",  # the mock itself: refused, never sent
        }
        for key, url in targets.items():
            with httpx.Client(base_url=base, headers={"x-api-key": key}) as tenant:
                hook = {"webhook_url": url, "event": {"types": ["FINETUNE"]}}
                tenant.post("/webhook/add", json=hook).raise_for_status()
                tenant.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        tunemock_server.advance(3600)
        for _ in range(3):  # one event of a job per pass
            httpx.post(f"{base}/_mock/webhooks/flush", json={}).raise_for_status()
        webhook_receiver.wait_for(3)

    page.goto(f"{UI}/webhooks")
    filters = page.get_by_role("navigation", name="Deliveries by outcome")
    for label in ("all (12)", "delivered (3)", "failed (3)", "retrying (1)", "pending (2)"):
        expect(filters.get_by_role("link", name=label)).to_be_visible()
    expect(filters.get_by_role("link", name="refused (3)")).to_be_visible()
    colours = _outcome_colours(page)
    assert set(colours) == {"delivered", "failed", "retrying", "pending", "refused"}
    assert len(set(colours.values())) == 5, colours  # each outcome looks different

    filters.get_by_role("link", name="failed (3)").click()
    expect(page).to_have_url(f"{base}{UI}/webhooks?outcome=failed")
    rows = page.locator("#deliveries tbody tr")
    expect(rows).to_have_count(3)
    for n in range(3):
        expect(rows.nth(n).locator(".delivery-state")).to_have_text("failed")
        expect(rows.nth(n)).to_contain_text(refusing.url)
    expect(filters.get_by_role("link", name="failed (3)")).to_have_attribute("aria-current", "page")
    filters.get_by_role("link", name="refused (3)").click()
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("target not allowed")
    filters.get_by_role("link", name="all (12)").click()
    expect(rows).to_have_count(12)


def test_job_page_shows_the_vendors_record_not_the_mocks_bookkeeping(
    page: Page, segmind_client: Any
) -> None:
    job_id = sdk_submit(segmind_client, "QWEN")
    page.goto(f"{UI}/jobs/finetune/{job_id}")
    expect(page.locator("h1")).to_contain_text(doc_submit_body("QWEN")["name"])
    expect(page.locator("#base-model")).to_have_text("QWEN")
    shown = page.locator("#record dt").all_inner_texts()
    assert {"finetune_id", "name", "base_model", "data_source_path", "status"} <= set(shown)
    internal = {"id_keys", "base_url", "source", "public", "request", "transitions", "tenant"}
    assert not internal & set(shown)
    text = page.locator("main").inner_text()
    assert "id_keys" not in text and "base_url" not in text
    details = segmind_client.finetune.details(job_id)["finetune"]
    assert set(shown) == set(details)  # the record is what the vendor's API answers


def test_a_failed_job_says_why_it_has_no_artifacts(page: Page, segmind_client: Any) -> None:
    early = sdk_submit(segmind_client, "QWEN")
    page.goto(f"{UI}/jobs/finetune/{early}")
    expect(page.locator("#artifacts-note")).to_contain_text("None yet")
    page.get_by_role("button", name="Force FAILED").click()
    note = page.locator("#artifacts-note")
    expect(note).to_have_text("No artifacts: the job failed before training finished.")
    expect(page.locator("#live")).not_to_contain_text("None yet")
    expect(page.locator("#artifacts")).to_have_count(0)

    late = sdk_submit(segmind_client, "QWEN")  # fails after its model was written
    page.goto(f"{UI}/jobs/finetune/{late}")
    advance = page.get_by_role("button", name="Advance to the next state")
    for reached in (2, 3):  # TRAINING, then TRAINING_COMPLETED
        advance.click()
        expect(page.locator("#timeline .past")).to_have_count(reached)
    page.get_by_role("button", name="Force FAILED").click()
    expect(note).to_contain_text("Kept from before the failure")
    expect(page.get_by_role("link", name="trained LoRA (.safetensors)")).to_be_visible()
    kept = segmind_client.finetune.details(late)["finetune"]
    assert kept["status"] == "FAILED" and kept["cloud_storage_url"]


def test_an_unknown_dashboard_page_is_an_html_404_in_its_frame(
    page: Page, tunemock_server: LiveServer
) -> None:
    answer = page.goto(f"{UI}/nope")
    assert answer is not None and answer.status == 404
    assert answer.headers["content-type"].startswith("text/html")
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("main")).to_contain_text(f"no page at {UI}/nope")
    expect(page.get_by_role("navigation", name="Dashboard")).to_be_visible()
    background = page.evaluate("getComputedStyle(document.querySelector('.top')).display")
    assert background == "flex"  # the dashboard's own stylesheet
    vendor = httpx.get(f"{tunemock_server.base_url}/nope", headers={"x-api-key": "k"})
    assert vendor.status_code == 404 and vendor.headers["content-type"] == "application/json"


def test_forms_submit_as_they_are(page: Page, tunemock_server: LiveServer) -> None:
    page.goto(f"{UI}/faults")
    form = page.locator("#fault-form")
    status = form.get_by_label("Answer status")
    expect(status).to_have_value("503")  # a value, not a greyed example
    form.get_by_role("button", name="Add rule").click()
    expect(page.locator("#status")).to_contain_text("201")
    expect(page.locator("#rules li")).to_have_count(1)
    rules = httpx.get(f"{tunemock_server.base_url}/_mock/faults").json()
    assert [r["action"] for r in rules] == [{"status": 503}]
    assert rules[0]["probability"] == 1

    other = page.locator("form", has=page.get_by_label("Another API key"))
    other.get_by_label("Another API key").fill("key-from-the-page")
    other.get_by_role("button", name="Set credits").click()
    expect(page.locator("#status")).to_contain_text("200")
    expect(page.locator("#credits")).to_contain_text("key-…ge")
