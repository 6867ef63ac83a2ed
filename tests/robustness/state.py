"""What "nothing changed" means for the robustness tests: every tenant's jobs (admin view,
with their history), every webhook delivery, and what the vendor APIs list per key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx


def snapshot(base_url: str, keys: Sequence[str]) -> dict[str, Any]:
    with httpx.Client(base_url=base_url, timeout=30) as client:

        def get(path: str, key: str | None = None) -> Any:
            headers = {"x-api-key": key} if key else {}
            answer = client.get(path, headers=headers)
            answer.raise_for_status()
            return answer.json()

        return {
            "jobs": get("/_mock/jobs?limit=1000"),
            "deliveries": get("/_mock/webhooks/deliveries"),
            "finetunes": {k: get("/finetune/request/list", k) for k in keys},
            "webhooks": {k: get("/webhook/get", k) for k in keys},
            "credits": {k: get(f"/_mock/credits/{k}") for k in keys},
        }


def healthy(base_url: str) -> bool:
    answer = httpx.get(f"{base_url}/_mock/health", timeout=30)
    return answer.status_code == 200 and answer.json()["status"] == "ok"
