"""The requests the benchmarks send: bodies from the contract's own doc examples, and the ids
a tunemock server needs before it can answer details and v2 status with a 200."""

from __future__ import annotations

import json
from typing import Any

import httpx

from mock_server.testing.bodies import doc_submit_body, doc_v2_body

API_KEY = "bench"
JSON_HEADERS = {"x-api-key": API_KEY, "content-type": "application/json"}
ROUTES = ("submit", "details", "v2 status")


def submit_body(model: str = "FLUX") -> dict[str, Any]:
    """The docs' submit example for `model`, with a dataset URL `--datasets skip` accepts."""
    return doc_submit_body(model)


def requests_for(finetune_id: str, v2_id: str) -> dict[str, dict[str, Any]]:
    """One request per benchmarked route, as loadgen.py takes them."""
    return {
        "submit": {
            "method": "POST",
            "path": "/finetune/request/submit",
            "headers": JSON_HEADERS,
            "body": json.dumps(submit_body()),
        },
        "details": {  # GET with a JSON body, as the docs' curl and the SDK send it
            "method": "GET",
            "path": "/finetune/request/details",
            "headers": JSON_HEADERS,
            "body": json.dumps({"request_id": finetune_id}),
        },
        "v2 status": {
            "method": "GET",
            "path": f"/v2/requests/{v2_id}/status",
            "headers": {"x-api-key": API_KEY},
            "body": None,
        },
    }


def prepare_tunemock(base_url: str) -> tuple[str, str]:
    """(an AVAILABLE fine-tune's id, a COMPLETED v2 request's id) on a tunemock started with
    `--timing instant --datasets skip`."""
    with httpx.Client(base_url=base_url, headers=JSON_HEADERS, timeout=10) as client:
        submitted = client.post("/finetune/request/submit", json=submit_body())
        submitted.raise_for_status()
        finetune_id = str(submitted.json()["finetune_id"])
        queued = client.post("/v2/flux-dev-finetuned", json=doc_v2_body(finetune_id))
        queued.raise_for_status()
        return finetune_id, str(queued.json()["request_id"])
