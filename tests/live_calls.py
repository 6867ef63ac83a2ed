"""Vendor calls that tests make to a live server (`tunemock serve` in a process of its own),
over plain HTTP, as the docs make them."""

from __future__ import annotations

import httpx

from mock_server.testing.bodies import doc_submit_body


def finetune_details(base_url: str, key: str, job_id: str) -> httpx.Response:
    """The docs' details read: a GET with the job's id in a JSON body."""
    return httpx.request(
        "GET",
        f"{base_url}/finetune/request/details",
        json={"request_id": job_id},
        headers={"x-api-key": key},
    )


def add_webhook(base_url: str, key: str, url: str) -> str:
    """Register `url` for the key's FINETUNE events (asserting it was taken); its id."""
    answer = httpx.post(
        f"{base_url}/webhook/add",
        headers={"x-api-key": key},
        json={"webhook_url": url, "event": {"types": ["FINETUNE"]}},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["webhook_id"])


def submit_finetune(base_url: str, key: str) -> str:
    """Submit the docs' FLUX fine-tune under the key (asserting it was taken); its id."""
    answer = httpx.post(
        f"{base_url}/finetune/request/submit",
        json=doc_submit_body("FLUX"),
        headers={"x-api-key": key},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["finetune_id"])
