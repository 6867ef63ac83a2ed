"""With --state, every acknowledged job survives SIGKILL and restart (also with 2 workers)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from mock_server.testing.live import free_port, start_server, stop_server
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A, KEY_B


@pytest.mark.parametrize("workers", ["1", "2"])
def test_jobs_survive_kill_9_and_restart(tmp_path: Path, workers: str) -> None:
    state = tmp_path / "state.db"
    port = free_port()
    server = start_server(
        "--state", str(state), "--workers", workers, "--datasets", "skip", port=port
    )
    accepted: dict[str, set[str]] = {KEY_A: set(), KEY_B: set()}
    try:
        for i in range(20):
            key = KEY_A if i % 2 else KEY_B
            body = doc_submit_body("QWEN") | {"name": f"job-{i}"}
            answer = httpx.post(
                f"{server.base_url}/finetune/request/submit", json=body, headers={"x-api-key": key}
            )
            assert answer.status_code == 200
            accepted[key].add(answer.json()["request_id"])
    finally:
        # the whole process group: with --workers the workers die with their parent
        os.killpg(server.process.pid, signal.SIGKILL)
        stop_server(server)
    restarted = start_server("--state", str(state), port=port)
    try:
        for key, ids in accepted.items():
            listing = httpx.get(
                f"{restarted.base_url}/finetune/request/list", headers={"x-api-key": key}
            ).json()
            assert {item["request_id"] for item in listing} == ids
    finally:
        stop_server(restarted)


def test_workers_need_a_state_file() -> None:
    with pytest.raises(RuntimeError, match="--state"):
        start_server("--workers", "2")
