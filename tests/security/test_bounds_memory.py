"""The server's memory stays flat (peak under +50 MB) while hostile peers push: four webhook
receivers answering 1 GB each at once, and a 98 MB ZIP of 1.85 M directory entries
submitted four times at once. Measured on a real `tunemock serve` process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.datasets import make_datasets
from mock_server.testing.live import LiveServer, start_server, stop_server
from tests.finetune.helpers import doc_submit_body
from tests.security.hosts import RssSampler, huge_answer, serving, static_files
from tests.security.zips import directory_only_zip

GB = 1024**3
LIMIT_MB = 50
DATASETS = Path(make_datasets.__file__).parent


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = start_server("--clock", "virtual")  # datasets are fetched and read (the default)
    yield live
    stop_server(live)


def _all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:  # reported by the assertions on results
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _test_delivery(server: LiveServer, key: str, url: str) -> dict[str, Any]:
    me = {"x-api-key": key}
    with httpx.Client(base_url=server.base_url, headers=me, timeout=60) as c:
        hook = c.post("/webhook/add", json={"webhook_url": url, "event": {"types": ["FINETUNE"]}})
        assert hook.status_code == 200, hook.text
        answer = c.post("/webhook/test", json={"webhook_id": hook.json()["webhook_id"]})
        assert answer.status_code == 200, answer.text
        delivery: dict[str, Any] = answer.json()["delivery"]
        return delivery


def test_four_receivers_answering_1_gb_at_once(server: LiveServer) -> None:
    server.reset()
    with serving(huge_answer(GB)) as url:
        _test_delivery(server, "warm-up", url)  # code paths loaded before the baseline
        with RssSampler(server.process.pid) as rss:
            deliveries = _all_at_once(
                [lambda k=k: _test_delivery(server, f"tenant-{k}", url) for k in range(4)]
            )
    for delivery in deliveries:
        assert isinstance(delivery, dict), delivery
        assert (delivery["status_code"], delivery["success"]) == (200, True)
        assert delivery["response_body"] is None  # the tenant never sees the target's body
    rows = httpx.get(f"{server.base_url}/_mock/webhooks/deliveries").json()
    kept = [a["response_body"] for r in rows for a in r["attempts"]]
    assert len(kept) == 5 and all(len(body) <= 2048 for body in kept)
    assert rss.growth_mb < LIMIT_MB, f"peak {rss.peak_mb:.0f} MB from {rss.baseline_mb:.0f} MB"


def _submit_and_settle(server: LiveServer, key: str, url: str) -> dict[str, Any]:
    me = {"x-api-key": key}
    with httpx.Client(base_url=server.base_url, headers=me, timeout=120) as c:
        body = doc_submit_body("QWEN") | {"data_source_path": url}
        answer = c.post("/finetune/request/submit", json=body)
        assert answer.status_code == 200, answer.text
        job_id = answer.json()["request_id"]
        c.post("/_mock/clock/advance", json={"seconds": 3600})
        details = c.request("GET", "/finetune/request/details", json={"request_id": job_id})
        finetune: dict[str, Any] = details.json()["finetune"]
        return finetune


def test_a_1_85_m_entry_zip_submitted_four_times_at_once(
    server: LiveServer, tmp_path: Path
) -> None:
    server.reset()
    directory_only_zip(tmp_path / "entries.zip", 1_850_000)
    (tmp_path / "good.zip").write_bytes((DATASETS / "good" / "images.zip").read_bytes())
    with serving(static_files(tmp_path)) as host:
        good = _submit_and_settle(server, "warm-up", f"{host}/good.zip")
        assert good["status"] == "AVAILABLE", good["error_message"]
        with RssSampler(server.process.pid) as rss:
            jobs = _all_at_once(
                [
                    lambda k=k: _submit_and_settle(server, f"tenant-{k}", f"{host}/entries.zip")
                    for k in range(4)
                ]
            )
    for job in jobs:
        assert isinstance(job, dict), job
        assert job["status"] == "FAILED"
        assert "declares 1850000 entries" in job["error_message"]
    assert rss.growth_mb < LIMIT_MB, f"peak {rss.peak_mb:.0f} MB from {rss.baseline_mb:.0f} MB"
