"""The dashboard in a real headless Chromium against a live `tunemock serve`: a fine-tune
submitted through the SDK shows up without a reload, the clock moves from the page, the job
reaches AVAILABLE with its three webhook deliveries, a fault rule added from the page shows
on the Requests page, and the pages work from the keyboard."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from mock_server.testing.live import LiveServer
from mock_server.testing.receiver import WebhookReceiver
from tests.finetune.helpers import sdk_submit_doc_body

UI = "/_mock/ui"


def sdk_submit(client: Any, model: str = "FLUX") -> str:
    answer = sdk_submit_doc_body(client, model)
    return str(answer.get("finetune_id") or answer["request_id"])


def test_job_lifecycle_watched_and_steered_from_the_dashboard(
    page: Page,
    tunemock_server: LiveServer,
    segmind_client: Any,
    webhook_receiver: WebhookReceiver,
) -> None:
    segmind_client.webhooks.add(webhook_receiver.url, ["FINETUNE"])
    page.goto(f"{UI}/jobs")
    expect(page.locator("#jobs")).to_contain_text("No jobs")
    page.evaluate("window.notReloaded = true")

    job_id = sdk_submit(segmind_client)
    row = page.locator(f'tr[data-job="{job_id}"]')
    expect(row).to_contain_text("REQUESTED")  # arrived live
    assert page.evaluate("window.notReloaded") is True

    page.get_by_role("link", name="Overview").click()
    expect(page.locator("#clock-offset")).to_have_text("0 s")
    page.get_by_role("button", name="+1 h").click()
    expect(page.locator("#clock-offset")).to_have_text("3600 s")
    expect(page.locator("#status")).to_contain_text("200")

    for _ in range(3):  # one event of a job per pass: each waits for the one before it
        httpx.post(f"{tunemock_server.base_url}/_mock/webhooks/flush", json={}).raise_for_status()
    webhook_receiver.wait_for(3)

    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name=job_id).click()
    expect(page.locator("h1")).to_contain_text(job_id)
    expect(page.locator("#live")).to_contain_text("Status AVAILABLE")
    deliveries = page.locator("#deliveries tbody tr")
    expect(deliveries).to_have_count(3)
    for n, event in enumerate(["TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE"]):
        expect(deliveries.nth(n)).to_contain_text(event)
        expect(deliveries.nth(n).locator(".delivery-state")).to_have_text("delivered")
        expect(deliveries.nth(n)).to_contain_text("#1")
    expect(page.get_by_role("link", name="trained LoRA (.safetensors)")).to_be_visible()

    deliveries.nth(2).get_by_role("button", name="Redeliver").click()
    expect(deliveries.nth(2)).to_contain_text("#2")  # a second attempt, shown live
    assert webhook_receiver.events()[-1] == "AVAILABLE" and len(webhook_receiver.received) == 4


def test_force_failed_and_advance_from_the_job_page(page: Page, segmind_client: Any) -> None:
    job_id = sdk_submit(segmind_client, "QWEN")
    page.goto(f"{UI}/jobs/finetune/{job_id}")
    page.get_by_role("button", name="Advance to the next state").click()
    expect(page.locator("#timeline .past")).to_have_count(2)
    page.get_by_label("Error message").fill("Dataset had no faces")
    page.get_by_role("button", name="Force FAILED").click()
    expect(page.locator("#job-error")).to_have_text("Dataset had no faces")
    assert segmind_client.finetune.details(job_id)["finetune"]["status"] == "FAILED"


def test_what_is_typed_survives_a_live_refresh(page: Page, segmind_client: Any) -> None:
    # any API call refreshes a job page's live part (and a real clock, every second): a
    # half-typed error message must not go back to its default under the reader's hands
    job_id = sdk_submit(segmind_client, "QWEN")
    page.goto(f"{UI}/jobs/finetune/{job_id}")
    field = page.get_by_label("Error message")
    field.fill("Dataset had no faces")
    page.evaluate("document.querySelector('[data-live] *').dataset.stale = '1'")
    segmind_client.finetune.details(job_id)  # a change the page hears of
    page.wait_for_function("!document.querySelector('[data-live] [data-stale]')")  # swapped
    expect(field).to_have_value("Dataset had no faces")
    page.get_by_role("button", name="Force FAILED").click()
    expect(page.locator("#job-error")).to_have_text("Dataset had no faces")


def test_a_live_refresh_keeps_the_selection_in_the_focused_field(
    page: Page, segmind_client: Any
) -> None:
    # a refresh between selecting a field's text and typing over it: the typing replaces the
    # selection in the new field instead of landing before the old default
    job_id = sdk_submit(segmind_client, "QWEN")
    page.goto(f"{UI}/jobs/finetune/{job_id}")
    field = page.get_by_label("Error message")
    field.focus()
    field.select_text()
    page.evaluate("document.querySelector('[data-live] *').dataset.stale = '1'")
    segmind_client.finetune.details(job_id)  # a change the page hears of
    page.wait_for_function("!document.querySelector('[data-live] [data-stale]')")  # swapped
    page.keyboard.insert_text("Dataset had no faces")
    expect(field).to_have_value("Dataset had no faces")


def test_fault_rule_added_from_the_page_shows_on_the_requests_page(
    page: Page, segmind_client: Any
) -> None:
    page.goto(f"{UI}/faults")
    form = page.locator("#fault-form")
    form.get_by_label("Path (glob)").fill("/finetune/request/list")
    form.get_by_label("Answer status").fill("503")
    form.get_by_label("Count").fill("1")
    form.get_by_role("button", name="Add rule").click()
    expect(page.locator("#rules li")).to_have_count(1)
    expect(page.locator("#rules")).to_contain_text('"status": 503')

    try:
        segmind_client.finetune.list()
    except Exception as exc:  # the SDK raises on the faulted 503
        assert "503" in str(exc)
    else:
        raise AssertionError("the fault rule did not fire")

    page.get_by_role("link", name="Requests").click()
    fault = page.locator(".fault", has_text="status=503")
    entry = page.locator("#journal > li", has=fault)
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("/finetune/request/list")
    entry.locator("summary").click()
    expect(entry).to_contain_text("x-api-key")
    expect(entry).to_contain_text("tun…~")  # the key's tenant id, masked
    expect(entry).not_to_contain_text("tunemock-test")


def test_pages_work_from_the_keyboard(page: Page, tunemock_server: LiveServer) -> None:
    page.goto(f"{UI}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(3):  # skip link, brand is not focusable, then the nav links
        page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.textContent]")
    assert focused == ["A", "Requests"]
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    button = page.get_by_role("button", name="+1 min")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#clock-offset")).to_have_text("60 s")


def test_contract_page_shows_vendor_extensions_offline(page: Page) -> None:
    page.goto(f"{UI}/contract?spec=segmind-finetune")
    operation = page.locator(".opblock-summary").first
    expect(operation).to_be_visible()
    operation.click()
    expect(page.locator(".opblock-body").first).to_contain_text("x-source")
    page.get_by_role("link", name="mock-admin.yaml").click()
    expect(page.locator(".opblock-summary").first).to_be_visible()
