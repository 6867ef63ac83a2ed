"""Expired v2 results are gone: past the spec's x-retention-seconds after a request ended, it
answers 404 and, on the clock, is deleted from the store (memory and SQLite alike), a
bounded number per pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.spec import load_specs
from tests.fixtures.server import running_app
from tests.inference.test_inference import available_model, path_of, v2

pytestmark = pytest.mark.anyio

RETENTION = float(load_specs().operation("inference_v2_result").raw["x-retention-seconds"])
REQUESTS = 3


@pytest.mark.parametrize("state", ["memory", "sqlite"])
async def test_expired_v2_results_answer_404_and_are_gone_from_the_store(
    state: str, tmp_path: Path
) -> None:
    config = {"state": tmp_path / "s.db"} if state == "sqlite" else {}
    async with running_app(key="k", clock="virtual", datasets="skip", **config) as client:
        store = client.app.state.runtime.store  # type: ignore[attr-defined]
        model = await available_model(client)
        jobs = [await v2(client, model) for _ in range(REQUESTS)]
        await client.post("/_mock/clock/advance", json={"seconds": 120})  # all COMPLETED
        first = await client.get(path_of(jobs[0]["response_url"]))
        assert first.status_code == 200
        await client.post("/_mock/webhooks/flush", json={})
        assert store.count("inference", None) == REQUESTS  # kept while not expired
        await client.post("/_mock/clock/advance", json={"seconds": RETENTION + 60})
        await client.post("/_mock/webhooks/flush", json={})
        answers = [await client.get(path_of(job["response_url"])) for job in jobs]
        assert [a.status_code for a in answers] == [404] * REQUESTS
        assert all("expired" in a.json()["error"] for a in answers)
        assert [store.get("inference", job["request_id"], None) for job in jobs] == [None] * 3
        assert store.count("inference", None) == 0
        finetunes = store.count("finetune", None)
    assert finetunes == 1  # only the expired results went
