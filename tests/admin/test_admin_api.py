"""The admin API under /_mock: health, reset, clock, jobs, journal, as mock-admin.yaml says."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from mock_server.tenancy import mask_secret
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.contract import conforms
from tests.fixtures.server import KEY_A, KEY_B

pytestmark = pytest.mark.anyio


async def test_health_reports_what_is_loaded(mock_client: httpx.AsyncClient, bundle) -> None:
    health = conforms("admin_health", await mock_client.get("/_mock/health", headers={}))
    assert health["apis"] == [
        "segmind-finetune",
        "segmind-inference",
        "segmind-platform",
        "lora-trainer",
    ]
    assert health["clock"] == "virtual" and health["timing"] == "fast"
    assert health["state"] == "memory"


async def test_admin_needs_no_key(mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.get("/_mock/clock", headers={"x-api-key": ""})
    assert response.status_code == 200


async def test_clock_advances_forward_only(mock_client: httpx.AsyncClient) -> None:
    before = conforms("admin_clock", await mock_client.get("/_mock/clock"))
    after = conforms(
        "admin_clock_advance", await mock_client.post("/_mock/clock/advance", json={"seconds": 90})
    )
    assert after["offset_seconds"] == before["offset_seconds"] + 90
    assert after["now"] > before["now"]
    backwards = await mock_client.post("/_mock/clock/advance", json={"seconds": -5})
    assert backwards.status_code == 400 and "seconds" in backwards.json()["error"]
    assert (await mock_client.get("/_mock/clock")).json()["now"] == after["now"]


async def test_jobs_lists_every_tenant_newest_first_and_filters(
    mock_client: httpx.AsyncClient,
) -> None:
    await mock_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    await mock_client.post("/_mock/clock/advance", json={"seconds": 1})
    await mock_client.post(
        "/finetune/request/submit", json=doc_submit_body("QWEN"), headers={"x-api-key": KEY_B}
    )
    jobs = conforms("admin_jobs", await mock_client.get("/_mock/jobs"))
    assert [j["tenant"] for j in jobs] == [KEY_B, KEY_A]
    only_a = (await mock_client.get("/_mock/jobs", params={"tenant": KEY_A})).json()
    assert [j["tenant"] for j in only_a] == [KEY_A]
    training = (await mock_client.get("/_mock/jobs", params={"status": "TRAINING"})).json()
    assert [j["tenant"] for j in training] == [KEY_A]  # 1 s in: A's job left REQUESTED
    assert (await mock_client.get("/_mock/jobs", params={"limit": 0})).status_code == 400


async def test_forcing_an_unknown_job_is_404(mock_client: httpx.AsyncClient) -> None:
    response = await mock_client.post("/_mock/jobs/nope/status", json={"status": "FAILED"})
    assert response.status_code == 404 and response.json()["error"]


async def test_reset_forgets_everything(mock_client: httpx.AsyncClient) -> None:
    await mock_client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    await mock_client.post("/_mock/clock/advance", json={"seconds": 50})
    assert conforms("admin_reset", await mock_client.post("/_mock/reset", json={})) == {
        "reset": True
    }
    assert (await mock_client.get("/finetune/request/list")).json() == []
    assert (await mock_client.get("/_mock/clock")).json()["offset_seconds"] == 0


async def test_journal_records_requests_newest_first(mock_client: httpx.AsyncClient) -> None:
    await mock_client.get("/finetune/request/list")
    await mock_client.get("/finetune/request/list", headers={"x-api-key": ""})
    await mock_client.get("/no/such/path")
    entries = conforms(
        "admin_requests", await mock_client.get("/_mock/requests", params={"limit": 3})
    )
    assert [(e["path"], e["status"]) for e in entries] == [
        ("/no/such/path", 404),
        ("/finetune/request/list", 401),
        ("/finetune/request/list", 200),
    ]
    # the tenant is its id: the key masked, then a salted hash of it
    assert entries[2]["tenant"].startswith(mask_secret(KEY_A) + "~")
    assert entries[1]["tenant"] is None
    assert all(e["latency_ms"] >= 0 and e["fault"] is None for e in entries)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
async def test_journal_size_0_keeps_no_request(make_client, tmp_path, store: str) -> None:
    state = tmp_path / "state.db" if store == "sqlite" else None
    async with make_client(KEY_A, journal_size=0, state=state) as client:
        submitted = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        assert submitted.status_code == 200
        await client.get("/_mock/health")
        assert (await client.get("/_mock/requests", params={"limit": 100})).json() == []
        page = (await client.get("/_mock/ui/requests")).text
    assert "The journal is off" in page
    if state is not None:  # nothing went to the file either
        with sqlite3.connect(state) as conn:
            assert conn.execute("SELECT COUNT(*) FROM journal").fetchone() == (0,)


async def test_journal_is_bounded(make_client) -> None:
    async with make_client(journal_size=5) as client:
        for _ in range(12):
            await client.get("/_mock/health")
        entries = (await client.get("/_mock/requests", params={"limit": 100})).json()
    assert len(entries) == 5
