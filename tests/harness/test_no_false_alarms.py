"""No false alarms on our own mock: twenty runs, each with its own seed (so the random
state machine and the generated cases differ), against one long-lived mock that keeps the
earlier runs' state. Each run is small; xdist spreads them."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from contracts import run_checks
from mock_server.testing.live import LiveServer

SEEDS = range(1, 21)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_run_on_our_own_mock_raises_no_false_alarm(
    live_server_session: LiveServer, seed: int
) -> None:
    # the session's mock, not reset: runs must not depend on a fresh one
    report = run_checks(live_server_session.base_url, max_examples=2, seed=seed)
    lines = [f"- [{f.suite}/{f.check}] {f.operation}: {f.message}" for f in report.failures]
    assert report.ok, f"seed {seed}:\n" + "\n".join(lines)
    ran = {o.suite for o in report.outcomes if o.passed and not o.skipped}
    assert {"schema", "lifecycle", "presign", "tenancy", "positive", "machine"} <= ran


def test_a_run_calls_back_only_its_own_receiver_under_keys_of_its_own(
    live_server: LiveServer,
) -> None:
    report = run_checks(live_server.base_url, max_examples=3, seed=7)
    assert report.ok
    hooks = httpx.get(f"{live_server.base_url}/_mock/webhooks").json()
    jobs = httpx.get(f"{live_server.base_url}/_mock/jobs", params={"limit": 500}).json()
    assert hooks and jobs
    # schemathesis makes up hosts (example.com, ...): none is ever registered
    assert {urlsplit(h["webhook_url"]).hostname for h in hooks} == {"127.0.0.1"}
    # every group, links included, works under a fresh key, never the bare one
    tenants = {h["tenant"] for h in hooks} | {j["tenant"] for j in _items(jobs)}
    assert "tunemock-check" not in tenants
    assert all(t.startswith("tunemock-check-") for t in tenants), tenants
    # and leaves no webhook active
    assert {h["status"] for h in hooks} == {"INACTIVE"}, [
        (h["tenant"], h["webhook_url"]) for h in hooks if h["status"] != "INACTIVE"
    ]


def _items(answer: object) -> list[dict[str, str]]:
    if isinstance(answer, dict):
        answer = answer.get("jobs", answer.get("items", []))
    return [i for i in answer if isinstance(i, dict)] if isinstance(answer, list) else []
