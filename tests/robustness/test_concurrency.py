"""200 concurrent submits from two tenants against a live mock (in memory; SQLite with one
and with two workers), with list reads racing them: every accepted job exists exactly
once, under its own tenant, ids are unique, and every list agrees with the admin view."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from mock_server.testing.live import start_server, stop_server
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A, KEY_B

SUBMITS = 200
MODELS = ("FLUX", "FLUX_PRO", "QWEN")


def _job_id(answer: dict[str, Any]) -> str:
    return str(answer.get("finetune_id") or answer["request_id"])  # QWEN answers request_id


async def _burst(base_url: str) -> tuple[dict[str, list[str]], list[list[dict[str, Any]]]]:
    """Every submit at once (half per tenant) with list reads among them; the ids each
    tenant was given, and what the racing reads saw, tagged with the reader's key."""
    accepted: dict[str, list[str]] = {KEY_A: [], KEY_B: []}
    seen: list[list[dict[str, Any]]] = []
    limits = httpx.Limits(max_connections=SUBMITS, max_keepalive_connections=SUBMITS)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:

        async def submit(i: int) -> None:
            key = (KEY_A, KEY_B)[i % 2]
            body = doc_submit_body(MODELS[i % 3]) | {"name": f"burst-{i}"}
            answer = await client.post(
                "/finetune/request/submit", json=body, headers={"x-api-key": key}
            )
            assert answer.status_code == 200, answer.text
            accepted[key].append(_job_id(answer.json()))

        async def read(i: int) -> None:
            key = (KEY_A, KEY_B)[i % 2]
            answer = await client.get("/finetune/request/list", headers={"x-api-key": key})
            assert answer.status_code == 200, answer.text
            seen.append([{"key": key, **item} for item in answer.json()])

        async with anyio.create_task_group() as group:
            for i in range(SUBMITS):
                group.start_soon(submit, i)
                if i % 10 == 0:
                    group.start_soon(read, i)
    return accepted, seen


@pytest.mark.parametrize(
    "mode", ["memory-1-worker", "sqlite-1-worker", "sqlite-2-workers"], ids=str
)
def test_concurrent_submits_from_two_tenants_each_exist_exactly_once(
    tmp_path: Path, mode: str
) -> None:
    args = ["--datasets", "skip", "--clock", "virtual"]
    if mode.startswith("sqlite"):
        args += ["--state", str(tmp_path / "state.db"), "--workers", mode.split("-")[1]]
    server = start_server(*args)
    try:
        accepted, seen = anyio.run(_burst, server.base_url)
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            lists = {
                key: client.get("/finetune/request/list", headers={"x-api-key": key}).json()
                for key in (KEY_A, KEY_B)
            }
            every = client.get("/_mock/jobs", params={"limit": 1000}).json()
            # filtered by key: the worker answering knows the key then, and names the tenant
            # by it (unfiltered, a worker that never saw a key names its tenant by id)
            admin = [
                job
                for key in (KEY_A, KEY_B)
                for job in client.get("/_mock/jobs", params={"limit": 1000, "tenant": key}).json()
            ]
    finally:
        stop_server(server)

    everything = accepted[KEY_A] + accepted[KEY_B]
    assert len(everything) == SUBMITS and len(set(everything)) == SUBMITS  # ids unique
    for key in (KEY_A, KEY_B):
        listed = [item["finetune_id"] for item in lists[key]]
        assert Counter(listed) == Counter(accepted[key])  # each exactly once, no strangers
    assert sorted(job["id"] for job in every) == sorted(everything)
    by_admin = Counter((job["tenant"], job["id"]) for job in admin if job["kind"] == "finetune")
    assert by_admin == Counter((k, i) for k in (KEY_A, KEY_B) for i in accepted[k])
    for snapshot in seen:  # reads during the burst: own jobs only, none twice
        ids = [item["finetune_id"] for item in snapshot]
        assert len(ids) == len(set(ids))
        assert all(item["finetune_id"] in accepted[item["key"]] for item in snapshot)
