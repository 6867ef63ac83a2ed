"""The admin guard on a real `tunemock serve`: the token from the flag, the Host allow-list
`serve` derives from its loopback bind, and the live-server helper that sends the token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_server.testing.live import LiveServer, start_server, stop_server

TOKEN = "live-admin-token"
KEY = "live-tenant-key"


@pytest.fixture(scope="module")
def guarded() -> Iterator[LiveServer]:
    server = start_server("--admin-token", TOKEN, "--clock", "virtual", "--datasets", "skip")
    yield server
    stop_server(server)


def test_admin_and_dashboard_need_the_token_and_the_vendor_api_does_not(
    guarded: LiveServer,
) -> None:
    base = guarded.base_url
    for path in ("/_mock/health", "/_mock/jobs", "/_mock/ui/", "/_mock/ui/faults"):
        assert httpx.get(base + path).status_code == 401, path
    assert httpx.post(f"{base}/_mock/reset", json={}).status_code == 401
    assert httpx.get(f"{base}/_mock/health", headers={"x-admin-token": TOKEN}).is_success
    listed = httpx.get(f"{base}/finetune/request/list", headers={"x-api-key": KEY})
    assert listed.status_code == 200
    guarded.reset()  # the helper sends the token it was started with
    guarded.advance(10)


def test_a_foreign_host_is_refused_and_loopback_names_answer(guarded: LiveServer) -> None:
    base, token = guarded.base_url, {"x-admin-token": TOKEN}
    port = base.rsplit(":", 1)[1]
    before = httpx.get(f"{base}/_mock/clock", headers=token).json()["offset_seconds"]
    rebound = httpx.post(
        f"{base}/_mock/clock/advance",
        json={"seconds": 60},
        headers={**token, "host": f"rebind.attacker.test:{port}"},
    )
    assert rebound.status_code == 403
    after = httpx.get(f"{base}/_mock/clock", headers=token).json()["offset_seconds"]
    assert after == before
    for name in ("localhost", "127.0.0.1", "[::1]"):
        answer = httpx.get(f"{base}/_mock/clock", headers={**token, "host": f"{name}:{port}"})
        assert answer.status_code == 200, name
