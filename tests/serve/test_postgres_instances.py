"""Two `tunemock serve --state postgresql://...` on one database (a throwaway PostgreSQL on
127.0.0.1) are one mock: jobs, credits, rate limits, the virtual clock and webhook
deliveries are shared, and killing one leaves the other serving everything acknowledged."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mock_server.testing.live import LiveServer, start_server, stop_server
from mock_server.testing.receiver import WebhookReceiver
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A, KEY_B
from tests.live_calls import add_webhook, finetune_details

EVENTS = ("TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE")
SUBMIT = "/finetune/request/submit"


def _serve_two(url: str, *args: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    common = ("--state", url, "--clock", "virtual", "--datasets", "skip", *args)
    first = start_server(*common, timeout=60)
    try:
        second = start_server(*common, timeout=60)
    except BaseException:
        stop_server(first)
        raise
    try:
        yield first, second
    finally:
        stop_server(first)
        stop_server(second)


@pytest.fixture
def two(postgres_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two instances on one fresh database."""
    yield from _serve_two(postgres_url)


def _config(tmp_path: Path, settings: dict[str, Any]) -> str:
    path = tmp_path / "tunemock.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return str(path)


def _submit(server: LiveServer, key: str, name: str) -> httpx.Response:
    body = doc_submit_body("FLUX") | {"name": name}
    return httpx.post(f"{server.base_url}{SUBMIT}", json=body, headers={"x-api-key": key})


def _details(server: LiveServer, key: str, job_id: str) -> dict[str, Any]:
    answer = finetune_details(server.base_url, key, job_id)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["finetune"]
    return found


def test_a_job_submitted_through_one_is_read_listed_and_advanced_through_the_other(
    two: tuple[LiveServer, LiveServer],
) -> None:
    first, second = two
    answer = _submit(first, KEY_A, "shared-job")
    assert answer.status_code == 200, answer.text
    job_id = answer.json()["finetune_id"]

    assert _details(second, KEY_A, job_id)["status"] == "REQUESTED"
    listing = httpx.get(
        f"{second.base_url}/finetune/request/list", headers={"x-api-key": KEY_A}
    ).json()
    assert [item["finetune_id"] for item in listing] == [job_id]
    other = httpx.get(f"{second.base_url}/finetune/request/list", headers={"x-api-key": KEY_B})
    assert other.json() == []  # tenancy holds across instances too

    second.advance(3600)  # the virtual clock is one clock: the first instance sees it move
    assert _details(first, KEY_A, job_id)["status"] == "AVAILABLE"
    assert _details(second, KEY_A, job_id)["status"] == "AVAILABLE"


def test_fault_rules_and_the_journal_are_shared(two: tuple[LiveServer, LiveServer]) -> None:
    first, second = two
    rule = {
        "match": {"method": "GET", "path": "/finetune/request/list", "api_key": None},
        "action": {"status": 503},
        "count": 1,
    }
    made = httpx.post(f"{first.base_url}/_mock/faults", json=rule)
    assert made.status_code == 201, made.text
    assert [r["id"] for r in httpx.get(f"{second.base_url}/_mock/faults").json()] == [
        made.json()["id"]
    ]
    url = "/finetune/request/list"
    faulted = httpx.get(f"{second.base_url}{url}", headers={"x-api-key": KEY_A})
    again = httpx.get(f"{first.base_url}{url}", headers={"x-api-key": KEY_A})
    assert (faulted.status_code, again.status_code) == (503, 200)  # count 1: once in all

    # one journal: each instance writes its entries in batches (~20-40 ms after a request)
    deadline = time.monotonic() + 10  # a hang guard, not a speed limit
    while True:
        newest = httpx.get(f"{second.base_url}/_mock/requests", params={"limit": 2}).json()
        if len(newest) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [(e["path"], e["status"]) for e in newest] == [(url, 200), (url, 503)]


def test_credits_are_spent_once_across_instances(postgres_url: str, tmp_path: Path) -> None:
    config = _config(tmp_path, {"costs": {"finetune": 1}})
    with_credits = _serve_two(postgres_url, "--config", config)
    first, second = next(with_credits)
    try:
        put = httpx.put(f"{first.base_url}/_mock/credits/{KEY_A}", json={"credits": 10})
        assert put.status_code == 200, put.text

        def submit(i: int) -> int:
            return _submit((first, second)[i % 2], KEY_A, f"credit-{i}").status_code

        with ThreadPoolExecutor(40) as pool:
            statuses = Counter(pool.map(submit, range(40)))

        assert statuses == {200: 10, 406: 30}
        left = httpx.get(f"{second.base_url}/_mock/credits/{KEY_A}").json()
        assert left == {"api_key": KEY_A, "credits": 0}
        listing = httpx.get(
            f"{first.base_url}/finetune/request/list", headers={"x-api-key": KEY_A}
        ).json()
        assert len(listing) == 10
    finally:
        with_credits.close()


def test_one_rate_limit_counts_requests_to_both_instances(
    postgres_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, {"rate_limits": {"*": {"per_second": 2, "burst": 2}}})
    limited = _serve_two(postgres_url, "--config", config)
    first, second = next(limited)
    try:
        # six requests at once, three to each instance: a bucket per instance would let
        # four through; the shared one lets two (the burst) and answers the rest 429, so
        # each instance refuses at least one. At once: a token comes back every 0.5 s.
        start = threading.Barrier(6)

        def ask(server: LiveServer) -> tuple[str, int]:
            start.wait()
            answer = httpx.get(
                f"{server.base_url}/finetune/request/list", headers={"x-api-key": KEY_A}
            )
            return server.base_url, answer.status_code

        with ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(ask, [first, second] * 3))
        assert Counter(status for _, status in outcomes) == {200: 2, 429: 4}
        refused_by = {base for base, status in outcomes if status == 429}
        assert refused_by == {first.base_url, second.base_url}
        other = httpx.get(f"{second.base_url}/finetune/request/list", headers={"x-api-key": KEY_B})
        assert other.status_code == 200  # a bucket per key
    finally:
        limited.close()


def _heard(receiver: WebhookReceiver) -> list[tuple[str, str]]:
    with receiver.lock:
        calls = [r.json() for r in receiver.received]
    return [(c["finetune_id"], c["event"]) for c in calls]


def test_webhooks_are_delivered_exactly_once_while_both_dispatch(
    two: tuple[LiveServer, LiveServer], webhook_receiver: WebhookReceiver
) -> None:
    first, second = two
    add_webhook(first.base_url, KEY_A, webhook_receiver.url)
    ids = []
    for i in range(12):
        answer = _submit((first, second)[i % 2], KEY_A, f"hook-{i}")
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["finetune_id"])
    expected = {(job, event) for job in ids for event in EVENTS}

    first.advance(3600)  # every event is due at once, and both dispatchers see it
    deadline = time.monotonic() + 60  # a hang guard, not a speed limit
    while not expected <= set(_heard(webhook_receiver)):
        assert time.monotonic() < deadline, sorted(expected - set(_heard(webhook_receiver)))
        time.sleep(0.1)
    for server in (first, second):  # anything still due goes out now
        httpx.post(f"{server.base_url}/_mock/webhooks/flush", json={}, timeout=60)

    counts = Counter(_heard(webhook_receiver))
    assert set(counts) == expected
    assert [pair for pair, n in counts.items() if n != 1] == []


class Burst:
    """Submits to both instances (alternating) until stopped; the acknowledged ids."""

    def __init__(self, servers: tuple[LiveServer, LiveServer]) -> None:
        self.servers = servers
        self.lock = threading.Lock()
        self.acknowledged: set[str] = set()
        self.stop = threading.Event()

    def submitter(self, start: int) -> None:
        for i in range(start, start + 10_000, 2):
            if self.stop.is_set():
                return
            try:
                answer = _submit(self.servers[i % 2], KEY_A, f"burst-{i}")
            except httpx.TransportError:
                continue  # the killed one: that submit was never acknowledged
            assert answer.status_code == 200, answer.text
            with self.lock:
                self.acknowledged.add(answer.json()["finetune_id"])

    def total(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def test_kill_9_of_one_instance_mid_burst(
    postgres_url: str, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a delivery the killed instance held comes up again when its lease ends (~11 s)
    monkeypatch.setenv("TUNEMOCK_WEBHOOK_TIMEOUT", "0.5")
    monkeypatch.setenv("TUNEMOCK_WEBHOOK_RETRY_BASE", "0.01")
    pair = _serve_two(postgres_url)
    first, second = next(pair)
    try:
        add_webhook(second.base_url, KEY_A, webhook_receiver.url)
        burst = Burst((first, second))
        threads = [threading.Thread(target=burst.submitter, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        try:
            deadline = time.monotonic() + 120  # a hang guard, not a speed limit
            while burst.total() < 30:
                assert time.monotonic() < deadline, "the burst stalled"
                second.advance(2)  # events come due while submits go on
                time.sleep(0.05)
            os.killpg(first.process.pid, signal.SIGKILL)
            time.sleep(0.5)  # submits go on, to the survivor only
        finally:
            burst.stop.set()
            for thread in threads:
                thread.join(timeout=60)
        acknowledged = set(burst.acknowledged)

        listing = httpx.get(
            f"{second.base_url}/finetune/request/list", headers={"x-api-key": KEY_A}
        ).json()
        assert acknowledged <= {item["finetune_id"] for item in listing}

        second.advance(3600)
        expected = {(job, event) for job in acknowledged for event in EVENTS}
        deadline = time.monotonic() + 90  # a hang guard: the killed one's leases expire
        while not expected <= set(_heard(webhook_receiver)):
            assert time.monotonic() < deadline, len(expected - set(_heard(webhook_receiver)))
            second.advance(5)  # retries are due only when the clock moves
            time.sleep(0.2)
    finally:
        pair.close()


def _next_mark(lines: Iterator[str]) -> str:
    return next(line for line in lines if line.startswith("data:"))


def test_the_dashboard_events_of_one_instance_wake_on_the_others_writes(
    two: tuple[LiveServer, LiveServer],
) -> None:
    first, second = two
    with httpx.stream("GET", f"{second.base_url}/_mock/ui/events", timeout=30) as events:
        lines = events.iter_lines()
        before = _next_mark(lines)  # the stream's first mark: the state as it is
        assert _submit(first, KEY_A, "seen-by-the-other").status_code == 200
        after = _next_mark(lines)  # the next: the write through the other instance
    assert before != after
