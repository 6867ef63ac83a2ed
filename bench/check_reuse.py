"""Benchmark: `tunemock check` against a mock that has served many earlier runs (figures
printed, never asserted).

The harness gives every group fresh keys and its own webhook receiver, so runs should not
see each other: a run on a mock that has served --runs earlier ones should be as fast and as
green as one on a freshly started mock. This serves --runs steered runs (each with its own
seed) to one long-lived mock, then times runs on it side by side with runs on a fresh mock,
alternating, and prints both with the stored job and delivery counts.

    python bench/check_reuse.py [--runs 100] [--rounds 3] [--max-examples 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts import Report, run_checks
from mock_server.testing.live import LiveServer, start_server, stop_server


def timed(server: LiveServer, seed: int, max_examples: int) -> tuple[float, Report]:
    started = time.monotonic()
    report = run_checks(server.base_url, seed=seed, max_examples=max_examples)
    return time.monotonic() - started, report


def stored(server: LiveServer) -> str:
    every = {"limit": 10000}  # the admin lists' largest page (their default is 500)
    jobs = httpx.get(f"{server.base_url}/_mock/jobs", params=every, timeout=30).json()
    deliveries = httpx.get(f"{server.base_url}/_mock/webhooks/deliveries", params=every, timeout=30)
    count = len(deliveries.json()) if deliveries.status_code == 200 else "?"
    return f"{len(jobs)} jobs, {count} deliveries"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="earlier runs to serve")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs on each mock")
    parser.add_argument("--max-examples", type=int, default=5)
    args = parser.parse_args()

    used = start_server()
    try:
        first, report = timed(used, 0, args.max_examples)
        print(f"run 1 on the long-lived mock: {first:.1f} s, ok={report.ok}", flush=True)
        red = 0 if report.ok else 1
        for seed in range(1, args.runs):
            seconds, report = timed(used, seed, args.max_examples)
            red += not report.ok
            if seed % 10 == 0 or not report.ok:
                print(f"run {seed + 1}: {seconds:.1f} s, ok={report.ok}", flush=True)
        print(f"after {args.runs} runs: {red} not green; stored: {stored(used)}", flush=True)
        on_used: list[float] = []
        on_fresh: list[float] = []
        for n in range(args.rounds):
            seconds, report = timed(used, 1000 + n, args.max_examples)
            on_used.append(seconds)
            red += not report.ok
            fresh = start_server()
            try:
                seconds, report = timed(fresh, 1000 + n, args.max_examples)
            finally:
                stop_server(fresh)
            on_fresh.append(seconds)
            print(f"round {n + 1}: used {on_used[-1]:.1f} s, fresh {seconds:.1f} s", flush=True)
    finally:
        stop_server(used)
    ratio = statistics.median(on_used) / statistics.median(on_fresh)
    print(
        f"median run: {statistics.median(on_used):.1f} s on the mock after {args.runs} runs, "
        f"{statistics.median(on_fresh):.1f} s on a fresh one (ratio {ratio:.2f}); "
        f"runs not green: {red}"
    )


if __name__ == "__main__":
    main()
