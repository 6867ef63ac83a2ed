"""Benchmark: tunemock with many jobs, a whole lifecycle with webhooks, and `tunemock check`.

1. RSS, details latency (32 connections) and one tenant's list latency (1 connection: a
   client paging through its own jobs) with 10k and 100k fine-tune jobs in the store
   (memory and SQLite), spread over 100 tenants (1k jobs each at 100k).
2. A fine-tune's whole lifecycle on `--timing instant` with the three webhook deliveries
   (TRAINING_COMPLETED, INFERENCE_QUEUED, AVAILABLE) received: wall time from the submit to
   the third delivery, a `POST /_mock/webhooks/flush` in between as tests do.
3. `tunemock check --base-url` against a fresh mock: its duration and exit code.

Figures are printed, never asserted.

    python bench/scale.py [--jobs 10000 100000] [--seconds 3] [--skip-check]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import BENCH, free_port, load, start, start_tunemock, stop_process
from workload import API_KEY, JSON_HEADERS, submit_body

from mock_server.testing.receiver import running_receiver

TARGETS_100K = {"rss_mb": 300.0, "list_p99_ms": 50.0}
LIFECYCLE_TARGET_S = 1.0


def filled(jobs: int, seconds: float, state: Path | None) -> dict[str, Any]:
    port = free_port()
    cmd = [sys.executable, str(BENCH / "scale_server.py"), "--port", str(port)]
    cmd += ["--jobs", str(jobs), "--tenants", "100"]
    cmd += ["--state", str(state)] if state else []
    server = start("scale", cmd, port, "/_mock/health", timeout=600)
    try:
        time.sleep(1.0)  # let the background webhook pass see the jobs once
        tenant = "tenant-0000"
        listed = httpx.get(
            f"{server.base_url}/finetune/request/list", headers={"x-api-key": tenant}, timeout=60
        )
        listed.raise_for_status()
        list_request = {"method": "GET", "path": "/finetune/request/list",
                        "headers": {"x-api-key": tenant}, "body": None}  # fmt: skip
        details_request = {"method": "GET", "path": "/finetune/request/details",
                           "headers": {**JSON_HEADERS, "x-api-key": tenant},
                           "body": f'{{"request_id": "{listed.json()[-1]["id"]}"}}'}  # fmt: skip
        listing = load(server, [list_request], 1, seconds, 0.5)
        details = load(server, [details_request], 32, seconds, 0.5)
        return {
            "jobs": jobs,
            "store": "SQLite" if state else "memory",
            "tenant_jobs": len(listed.json()),
            "rss_mb": server.rss_mb(),
            "list": listing,
            "details": details,
        }
    finally:
        stop_process(server.process)


def lifecycle() -> dict[str, Any]:
    """Submit → three deliveries received, on instant timing, through the HTTP API only."""
    with running_receiver() as receiver:
        server = start_tunemock(
            "tunemock", "--timing", "instant", "--datasets", "skip",
            env={"TUNEMOCK_WEBHOOK_URL": receiver.url},
        )  # fmt: skip
        try:
            with httpx.Client(base_url=server.base_url, headers=JSON_HEADERS) as client:
                started = time.perf_counter()
                job = client.post("/finetune/request/submit", json=submit_body())
                job.raise_for_status()
                client.post("/_mock/webhooks/flush", json={}).raise_for_status()
                received = receiver.wait_for(3, timeout=30)
                seconds = time.perf_counter() - started
                finetune_id = job.json()["finetune_id"]
                status = client.request(
                    "GET", "/finetune/request/details", json={"request_id": finetune_id}
                ).json()["finetune"]["status"]
        finally:
            stop_process(server.process)
    events = [r.json().get("event") for r in received]
    return {"seconds": seconds, "events": events, "status": status}


def check_duration() -> dict[str, Any]:
    server = start_tunemock("tunemock", "--datasets", "skip")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "mock_server", "check", "--base-url", server.base_url,
                 "--api-key", API_KEY, "--report", tmp],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            seconds = time.perf_counter() - started
    finally:
        stop_process(server.process)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return {"seconds": seconds, "exit": done.returncode, "summary": last}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per load")
    parser.add_argument("--skip-check", action="store_true", help="no `tunemock check` run")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()

    # the figures are only as quiet as the machine: say how busy it was (2 shared cores)
    print(f"1-min load average {os.getloadavg()[0]:.2f} at the start ({os.cpu_count()} cores)\n")
    print(f"{'store':<7} {'jobs':>7} {'RSS MB':>7} {'list 1k/1 conn':>15} {'p50':>7} {'p99':>7}"
          f" {'details/32 conn':>16} {'p50':>7} {'p99':>7}")  # fmt: skip
    verdicts = []
    for jobs in args.jobs:
        for sqlite in [False] if args.no_sqlite else [False, True]:
            with tempfile.TemporaryDirectory(prefix="tunemock-bench-") as tmp:
                row = filled(jobs, args.seconds, Path(tmp, "s.db") if sqlite else None)
            lst, det = row["list"], row["details"]
            print(
                f"{row['store']:<7} {jobs:>7} {row['rss_mb']:>7.1f} "
                f"{lst['rps']:>11.1f} r/s {lst['p50_ms']:>7.1f} {lst['p99_ms']:>7.1f} "
                f"{det['rps']:>12.0f} r/s {det['p50_ms']:>7.1f} {det['p99_ms']:>7.1f}",
                flush=True,
            )
            if jobs == 100_000 and not sqlite:
                verdicts.append((f"100k jobs, memory: RSS < 300 MB ({row['rss_mb']:.0f} MB)",
                                 row["rss_mb"] < TARGETS_100K["rss_mb"]))  # fmt: skip
                verdicts.append((f"100k jobs, memory: list of one tenant's {row['tenant_jobs']} "
                                 f"jobs p99 < 50 ms ({lst['p99_ms']:.1f} ms)",
                                 lst["p99_ms"] < TARGETS_100K["list_p99_ms"]))  # fmt: skip
    life = lifecycle()
    print(f"\nlifecycle (instant, 3 webhooks): {life['seconds']:.3f} s, events {life['events']}, "
          f"final status {life['status']}")  # fmt: skip
    quick = life["seconds"] < LIFECYCLE_TARGET_S and len(life["events"]) == 3
    verdicts.append((f"lifecycle with 3 webhooks < 1 s ({life['seconds']:.3f} s)", quick))
    if not args.skip_check:
        check = check_duration()
        print(f"tunemock check against the mock: {check['seconds']:.1f} s, exit {check['exit']}"
              f" ({check['summary']})")  # fmt: skip
    print(f"\n1-min load average {os.getloadavg()[0]:.2f} at the end")
    print("\ntargets")
    for text, met in verdicts:
        print(f"  [{'met' if met else 'MISSED'}] {text}")


if __name__ == "__main__":
    main()
