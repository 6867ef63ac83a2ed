"""A webhook target's answer never reaches the tenant: /webhook/test and dispatch-logs say
status, success and latency with response_body null (the spec's x-inferred), while the
admin API keeps at most the answer's first 2 KB."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from tests.fixtures.contract import conforms
from tests.security.hosts import serving

pytestmark = pytest.mark.anyio

SECRET = b"internal-only " * 1000  # 14 KB a tenant must never read through the mock


class Talkative(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-length", str(len(SECRET)))
        self.end_headers()
        self.wfile.write(SECRET)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def talkative() -> Iterator[str]:
    with serving(Talkative) as url:
        yield f"{url}/hook"


async def test_the_targets_body_is_never_handed_to_the_tenant(
    mock_client: httpx.AsyncClient, talkative: str
) -> None:
    hook = conforms(
        "webhook_add",
        await mock_client.post(
            "/webhook/add", json={"webhook_url": talkative, "event": {"types": ["FINETUNE"]}}
        ),
    )
    tested = conforms(
        "webhook_test",
        await mock_client.post("/webhook/test", json={"webhook_id": hook["webhook_id"]}),
    )
    logs = conforms(
        "webhook_dispatch_logs",
        await mock_client.get("/webhook/dispatch-logs", params={"webhook_id": hook["webhook_id"]}),
    )
    assert tested["delivery"]["success"] is True and tested["delivery"]["status_code"] == 200
    assert tested["delivery"]["response_body"] is None
    assert [entry["response_body"] for entry in logs["logs"]] == [None]
    admin = conforms(
        "admin_webhook_deliveries", await mock_client.get("/_mock/webhooks/deliveries")
    )
    kept = admin[0]["attempts"][0]["response_body"]
    assert kept == SECRET[:2048].decode()
