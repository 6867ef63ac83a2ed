"""The `--state` file holds no API key: the store knows a tenant by a salted id of its key,
worked out at the edge, so jobs, credits, webhooks, deliveries and the journal hold no key,
and a restart on the same file still gives each key its own jobs."""

from __future__ import annotations

from pathlib import Path

import httpx

from mock_server.tenancy import is_tenant_id
from mock_server.testing.bodies import doc_submit_body, doc_v2_body
from mock_server.testing.live import start_server, stop_server
from tests.live_calls import add_webhook, finetune_details, submit_finetune
from tests.security.state_files import assert_no_key, state_args

KEY = "sk-live-STATEFILE-0123456789abcdefDISTINCT"
SCENARIO_KEY = "sk-scenario-FROMYAML-9876543210fedcbaXYZ"
OTHER = "sk-other-tenant-00000000000000000000"


def _use_every_surface(base: str, admin: dict[str, str]) -> tuple[str, float]:
    """Submit, webhook, credits, v2 inference and a scenario under keys; (job id, credits)."""
    me = {"x-api-key": KEY}
    job_id = submit_finetune(base, KEY)
    add_webhook(base, KEY, "http://127.0.0.1:9/hook")
    credits = httpx.put(f"{base}/_mock/credits/{KEY}", json={"credits": 50}, headers=admin)
    assert credits.status_code == 200 and credits.json()["api_key"] == KEY
    httpx.post(f"{base}/_mock/clock/advance", json={"seconds": 3600}, headers=admin)
    inference = httpx.post(f"{base}/v2/flux-dev-finetuned", json=doc_v2_body(job_id), headers=me)
    assert inference.status_code == 200, inference.text
    scenario = {
        "name": "keys",
        "tenants": [
            {
                "api_key": SCENARIO_KEY,
                "credits": 7,
                "finetunes": [{"status": "AVAILABLE", "request": doc_submit_body("FLUX")}],
            }
        ],
    }
    loaded = httpx.post(f"{base}/_mock/scenario", json=scenario, headers=admin)
    assert loaded.status_code == 200, loaded.text
    # the admin API still takes the key the user knows, and names the tenant by it
    mine = httpx.get(f"{base}/_mock/jobs", params={"tenant": KEY}, headers=admin).json()
    assert {j["id"] for j in mine} == {job_id, inference.json()["request_id"]}
    assert {j["tenant"] for j in mine} == {KEY}
    assert httpx.get(f"{base}/_mock/requests", params={"tenant": KEY}).json()
    balance = httpx.get(f"{base}/_mock/credits/{KEY}", headers=admin).json()["credits"]
    assert balance is not None and balance < 50  # the inference was charged to the key
    return job_id, balance


def test_the_state_holds_no_key_and_a_restart_keeps_each_keys_jobs(tmp_path: Path) -> None:
    folder, state, args = state_args(tmp_path)
    server = start_server(*args)
    try:
        job_id, balance = _use_every_surface(server.base_url, server.admin_headers)
    finally:
        stop_server(server)
    assert_no_key(folder, state, (KEY, SCENARIO_KEY))

    server = start_server(*args)
    try:
        base = server.base_url
        # before the key comes back, this process cannot name it: a full export names its
        # tenant by id, and that id loads back as the same tenant
        exported = httpx.get(f"{base}/_mock/scenario", params={"keys": "full", "format": "json"})
        assert KEY not in exported.text
        owners = [t["api_key"] for t in exported.json()["tenants"]]
        assert owners and all(is_tenant_id(owner) for owner in owners)
        by_id = httpx.get(f"{base}/_mock/jobs", params={"tenant": owners[0]}).json()
        assert by_id and {j["tenant"] for j in by_id} == {owners[0]}
        # a filter by key finds the same tenant, and teaches the process its key
        by_key = httpx.get(f"{base}/_mock/jobs", params={"tenant": KEY}).json()
        assert by_key and {j["tenant"] for j in by_key} == {KEY}
        details = finetune_details(base, KEY, job_id)
        assert details.status_code == 200, details.text
        assert job_id in details.text
        others = finetune_details(base, OTHER, job_id)
        assert others.status_code == 404
        listed = httpx.get(f"{base}/finetune/request/list", headers={"x-api-key": OTHER})
        assert listed.status_code == 200 and job_id not in listed.text
        hooks = httpx.get(f"{base}/webhook/get", headers={"x-api-key": KEY}).json()["webhooks"]
        assert any(h["webhook_url"] == "http://127.0.0.1:9/hook" for h in hooks), hooks
        credits = httpx.get(f"{base}/_mock/credits/{KEY}").json()
        assert credits == {"api_key": KEY, "credits": balance}
        loaded = httpx.get(f"{base}/finetune/request/list", headers={"x-api-key": SCENARIO_KEY})
        assert len(loaded.json()) == 1
        # now known again: a full export names the key (and the journal keeps it masked)
        full = httpx.get(f"{base}/_mock/scenario", params={"keys": "full"})
        assert KEY in full.text and SCENARIO_KEY in full.text
    finally:
        stop_server(server)
    assert_no_key(folder, state, (KEY, SCENARIO_KEY))
