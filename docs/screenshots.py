"""Take the README's dashboard screenshots (docs/dashboard-*.png): a live mock with a few
jobs, a webhook receiver and a fault, shown in Debian's headless chromium through
Playwright (the same setup as tests/ui).

    python docs/screenshots.py
"""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from mock_server.testing.live import start_server, stop_server
from mock_server.testing.receiver import running_receiver
from mock_server.testing.sdk import segmind_client
from tests.finetune.helpers import doc_submit_body
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

HERE = Path(__file__).resolve().parent


def populate(base: str, hook_url: str) -> str:
    """Three fine-tunes (one trained and delivered), a v2 request, a fault; the job to show."""
    with segmind_client(base, api_key="demo-key-1234") as sdk:
        sdk.webhooks.add(hook_url, ["FINETUNE"])
        ids = []
        for model in ("FLUX", "FLUX_PRO", "QWEN"):
            body = {**doc_submit_body(model), "data_source_path": f"{base}/datasets/faces.zip"}
            answer = httpx.post(
                f"{base}/finetune/request/submit", json=body, headers={"x-api-key": "demo-key-1234"}
            ).json()
            ids.append(answer.get("finetune_id") or answer["request_id"])
            httpx.post(f"{base}/_mock/clock/advance", json={"seconds": 2})
        httpx.post(f"{base}/_mock/clock/advance", json={"seconds": 3600})
        for _ in range(3):
            httpx.post(f"{base}/_mock/webhooks/flush")
        sdk.finetune.list()
    httpx.post(
        f"{base}/_mock/faults",
        json={"match": {"path": "/v2/requests/*"}, "action": {"status": 503}, "count": 1},
    )
    httpx.get(f"{base}/v2/requests/abc/status", headers={"x-api-key": "ci-key-5678"})
    httpx.put(f"{base}/_mock/credits/ci-key-5678", json={"credits": 40})
    return str(ids[0])


def main() -> None:
    server = start_server("--clock=virtual", "--datasets=skip")
    try:
        with running_receiver() as receiver, sync_playwright() as playwright:
            job_id = populate(server.base_url, receiver.url)
            receiver.wait_for(3)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(f"{server.base_url}/_mock/ui/")
            page.screenshot(path=HERE / "dashboard-overview.png", full_page=True)
            page.goto(f"{server.base_url}/_mock/ui/jobs/finetune/{job_id}")
            page.locator("#deliveries details").first.locator("summary").click()
            page.screenshot(path=HERE / "dashboard-job.png", full_page=True)
            page.goto(f"{server.base_url}/_mock/ui/requests")
            faulted = page.locator(
                "#journal details", has=page.locator(".fault", has_text="status=")
            )
            faulted.locator("summary").click()
            page.screenshot(path=HERE / "dashboard-requests.png", full_page=False)
            browser.close()
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
