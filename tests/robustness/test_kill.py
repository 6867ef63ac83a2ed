"""With --state, SIGKILL the mock in the middle of a burst of submits and webhook
deliveries: after a restart every acknowledged job is there, no delivery that existed has
vanished or gone back, and every event of every acknowledged job still reaches the
receiver (perhaps twice, never not at all)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.testing.live import LiveServer, free_port, start_server, stop_server
from mock_server.testing.receiver import WebhookReceiver
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A, KEY_B
from tests.live_calls import add_webhook

EVENTS = ("TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE")
KILL_AFTER = 60  # acknowledged submits before the kill
_RANK = {"pending": 0, "delivered": 1, "failed": 1}


class Burst:
    """Submitters (two tenants) and a clock mover that also watches the deliveries."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.acknowledged: dict[str, set[str]] = {KEY_A: set(), KEY_B: set()}
        self.attempted: set[str] = set()
        self.deliveries: dict[str, str] = {}  # delivery_id -> state, last seen
        self.stop = threading.Event()

    def submitter(self, key: str, start: int) -> None:
        with httpx.Client(base_url=self.server.base_url, timeout=10) as client:
            for i in range(start, start + 10_000, 2):
                if self.stop.is_set():
                    return
                name = f"kill-{i}"
                with self.lock:
                    self.attempted.add(name)
                body = doc_submit_body(("FLUX", "FLUX_PRO")[i % 2]) | {"name": name}
                try:
                    answer = client.post(
                        "/finetune/request/submit", json=body, headers={"x-api-key": key}
                    )
                except httpx.TransportError:
                    return  # the server died under us: that submit was never acknowledged
                assert answer.status_code == 200, answer.text
                with self.lock:
                    self.acknowledged[key].add(answer.json()["finetune_id"])

    def mover(self) -> None:
        """Jobs keep reaching webhook events while submits go on."""
        with httpx.Client(base_url=self.server.base_url, timeout=10) as client:
            while not self.stop.is_set():
                try:
                    client.post("/_mock/clock/advance", json={"seconds": 1.5})
                    seen = client.get("/_mock/webhooks/deliveries").json()
                except httpx.TransportError:
                    return
                with self.lock:
                    self.deliveries = {d["delivery_id"]: d["state"] for d in seen}
                time.sleep(0.05)

    def total(self) -> int:
        with self.lock:
            return sum(map(len, self.acknowledged.values()))


def _deliveries(base_url: str) -> list[dict[str, Any]]:
    # every delivery: the default page (500) is less than a fast burst makes
    answer = httpx.get(f"{base_url}/_mock/webhooks/deliveries", params={"limit": _ALL}, timeout=30)
    answer.raise_for_status()
    rows = list(answer.json())
    assert len(rows) < _ALL, "more deliveries than one page holds"
    return rows


_ALL = 10_000  # the admin API's largest page


@pytest.mark.parametrize("workers", ["1", "2"])
def test_kill_9_mid_burst_loses_no_acknowledged_job_or_delivery(
    tmp_path: Path,
    workers: str,
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # retried on every pass until delivered; a claim dies with the process within 3 s
    monkeypatch.setenv("TUNEMOCK_WEBHOOK_MAX_ATTEMPTS", "1000")
    monkeypatch.setenv("TUNEMOCK_WEBHOOK_RETRY_BASE", "0.01")
    monkeypatch.setenv("TUNEMOCK_WEBHOOK_TIMEOUT", "0.5")
    args = ("--state", str(tmp_path / "state.db"), "--clock", "virtual", "--datasets", "skip")
    port = free_port()
    server = start_server(*args, "--workers", workers, port=port)
    webhook_receiver.then(*[503] * 40)  # deliveries pile up, pending, while the burst runs
    for key in (KEY_A, KEY_B):
        add_webhook(server.base_url, key, webhook_receiver.url)
    burst = Burst(server)
    threads = [
        threading.Thread(target=burst.submitter, args=(KEY_A, 0)),
        threading.Thread(target=burst.submitter, args=(KEY_B, 1)),
        threading.Thread(target=burst.mover),
    ]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120  # a hang guard, not a speed limit
        while burst.total() < KILL_AFTER or not burst.deliveries:
            assert time.monotonic() < deadline, "the burst stalled"
            time.sleep(0.01)
        os.killpg(server.process.pid, signal.SIGKILL)  # workers too: no goodbyes
    finally:
        burst.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        stop_server(server)
    with burst.lock:
        acknowledged = {k: set(v) for k, v in burst.acknowledged.items()}
        before_kill = dict(burst.deliveries)
    assert len(before_kill) > 0 and "pending" in before_kill.values()

    webhook_receiver.plan.clear()  # the receiver recovers while the mock is down
    restarted = start_server(*args, "--workers", workers, port=port)
    try:
        for key, ids in acknowledged.items():
            listing = httpx.get(
                f"{restarted.base_url}/finetune/request/list", headers={"x-api-key": key}
            ).json()
            listed = {item["finetune_id"] for item in listing}
            assert ids <= listed  # every acknowledged job survived
            assert {item["name"] for item in listing} <= burst.attempted  # and no phantom
        after = {d["delivery_id"]: d["state"] for d in _deliveries(restarted.base_url)}
        for delivery_id, state in before_kill.items():
            assert delivery_id in after, f"delivery {delivery_id} vanished"
            assert _RANK[after[delivery_id]] >= _RANK[state], (delivery_id, state)

        restarted.advance(3600)  # every job reaches AVAILABLE; every retry is due
        expected = {(i, e) for ids in acknowledged.values() for i in ids for e in EVENTS}
        deadline = time.monotonic() + 30  # a hang guard: leases of the killed run expire
        while True:
            restarted.advance(5)  # the virtual clock releases retries only when it moves
            httpx.post(f"{restarted.base_url}/_mock/webhooks/flush", json={}, timeout=60)
            calls = [r.json() for r in _received(webhook_receiver)]
            heard = {(c["finetune_id"], c["event"]) for c in calls}
            if expected <= heard:
                break
            if time.monotonic() > deadline:
                missing = sorted(expected - heard)
                job = missing[0][0]
                docs = [d for d in _deliveries(restarted.base_url) if d["job_id"] == job]
                raise AssertionError(f"never delivered: {missing[:5]} ({len(missing)}); {docs}")
            time.sleep(0.2)
        final = {d["delivery_id"]: d["state"] for d in _deliveries(restarted.base_url)}
        assert all(final[d] == "delivered" for d in before_kill)
    finally:
        stop_server(restarted)


def _received(receiver: WebhookReceiver) -> list[Any]:
    with receiver.lock:
        return list(receiver.received)
