"""`tunemock serve` starts on its defaults, routes the contract, and answers like the vendor."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_server.app import create_app
from mock_server.config import Config
from mock_server.spec import SpecBundle
from mock_server.spec.loader import VENDOR_FAMILIES
from mock_server.store.sqlite import SqliteStore
from mock_server.testing.live import start_server, stop_server

pytestmark = pytest.mark.anyio


async def test_health_reports_every_api_family(mock_client: httpx.AsyncClient, bundle) -> None:
    response = await mock_client.get("/_mock/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["apis"] == list(VENDOR_FAMILIES)
    assert body["operations"] == len([op for op in bundle.operations if op.secured])


@pytest.mark.parametrize(
    ("method", "path", "status", "key"),
    [
        ("GET", "/no/such/thing", 404, "error"),
        ("DELETE", "/finetune/request/list", 405, "error"),
        ("GET", "/lora-trainer/nothing-here", 404, "detail"),
    ],
)
async def test_unknown_routes_answer_in_the_vendor_format(
    mock_client: httpx.AsyncClient, method: str, path: str, status: int, key: str
) -> None:
    response = await mock_client.request(method, path, headers={"x-api-key": "k"})
    assert response.status_code == status
    assert isinstance(response.json()[key], str) and response.json()[key]
    if status == 405:
        assert "GET" in response.headers["allow"]


async def test_every_operation_needs_an_api_key(
    mock_client: httpx.AsyncClient, bundle: SpecBundle
) -> None:
    for op in [op for op in bundle.operations if op.family != "mock-admin"]:
        assert op.secured, op.operation_id
        path = op.mock_path.replace("{", "").replace("}", "")
        response = await mock_client.request(op.method, path, headers={"x-api-key": ""})
        assert response.status_code == 401, op.operation_id
        body = response.json()
        message = body.get("error") or body.get("detail")
        assert "x-api-key" in message


def test_serve_starts_on_defaults_and_prints_a_banner() -> None:
    server = start_server()
    try:
        response = httpx.get(f"{server.base_url}/_mock/health")
        assert response.status_code == 200
        listing = httpx.get(f"{server.base_url}/finetune/request/list")
        assert listing.status_code == 401 and "error" in listing.json()
    finally:
        output = stop_server(server)
    assert server.base_url in output
    assert "segmind-finetune" in output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_websocket_upgrade_is_answered_as_http_without_warnings(
    workers: str, tmp_path: Path
) -> None:
    server = start_server("--workers", workers, "--state", str(tmp_path / "s.db"))
    upgrade = {
        "connection": "Upgrade",
        "upgrade": "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    try:
        health = httpx.get(f"{server.base_url}/_mock/health", headers=upgrade)
        listing = httpx.get(f"{server.base_url}/finetune/request/list", headers=upgrade)
    finally:
        output = stop_server(server)
    assert (health.status_code, listing.status_code) == (200, 401)
    assert "Unsupported upgrade" not in output and "WebSocket library" not in output, output


async def test_paths_no_route_can_hold_are_still_vendor_404s(
    mock_client: httpx.AsyncClient,
) -> None:
    response = await mock_client.get("/v2/requests/ab%0Acd/status")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]


async def test_a_bug_answers_a_vendor_shaped_500_and_is_journaled(mock_app) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    mock_app.state.services.finetune.list = broken
    transport = httpx.ASGITransport(app=mock_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        response = await client.get("/finetune/request/list", headers={"x-api-key": "k"})
        journal = (await client.get("/_mock/requests", params={"limit": 1})).json()
    assert response.status_code == 500
    assert "tunemock bug" in response.json()["error"]
    assert journal[0]["path"] == "/finetune/request/list" and journal[0]["status"] == 500


def test_a_stop_writes_the_journal_and_folds_the_log_into_the_file(tmp_path: Path) -> None:
    # SIGTERM is a graceful stop: the store closes (the journal's last batch written, and
    # SQLite's log checkpointed into the file and removed by the last connection)
    state = tmp_path / "s.db"
    server = start_server("--state", str(state), "--datasets", "skip")
    try:
        listing = httpx.get(f"{server.base_url}/finetune/request/list", headers={"x-api-key": "k"})
        assert listing.status_code == 200
    finally:
        stop_server(server)
    assert not Path(f"{state}-wal").exists()
    store = SqliteStore(state)
    try:
        assert "/finetune/request/list" in [entry["path"] for entry in store.journal(10)]
    finally:
        store.close()


async def test_a_store_given_to_the_app_stays_open_after_its_lifespan(tmp_path: Path) -> None:
    given = SqliteStore(tmp_path / "s.db")
    app = create_app(Config(datasets="skip", storage_dir=tmp_path / "files"), store=given)
    try:
        async with app.router.lifespan_context(app):
            pass
        given.set_meta("still", "open")  # its caller's to close, not the app's
        assert given.get_meta("still") == "open"
    finally:
        given.close()
