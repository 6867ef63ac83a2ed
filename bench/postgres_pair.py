"""Benchmark: two tunemock instances on one PostgreSQL, side by side with one on SQLite.

Details and v2 status (the routes a polling client calls most) at the same total number of
connections: all of them on the SQLite instance, or half on each PostgreSQL instance (two
load generators at once, their requests and latencies pooled). PostgreSQL is a throwaway
cluster of Debian's `postgresql` binaries on a free port of 127.0.0.1 (the tests' fixture),
with its default durability settings turned down as the tests' is (fsync off). Figures are
printed, never asserted.

    python bench/postgres_pair.py [--seconds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fixtures

from servers import Server, load, start_tunemock, stop_process
from workload import prepare_tunemock, requests_for

from tests.fixtures.postgres import postgres_server

ROUTES = ("details", "v2 status")
COMMON = ("--timing", "instant", "--datasets", "skip")


def pooled(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Several load generators' results as one run (latency percentiles weighted by their
    request counts: an approximation; each generator reports only its own percentiles)."""
    total = sum(r["requests"] for r in results)
    statuses: dict[str, int] = {}
    for r in results:
        for status, n in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    return {
        "rps": sum(r["rps"] for r in results),
        "p50_ms": sum(r["p50_ms"] * r["requests"] for r in results) / max(total, 1),
        "p99_ms": max(r["p99_ms"] for r in results),
        "statuses": statuses,
    }


def run_against(
    servers: list[Server], request: dict[str, Any], connections: int, seconds: float
) -> dict[str, Any]:
    share = max(1, connections // len(servers))
    with ThreadPoolExecutor(len(servers)) as pool:
        results = list(pool.map(lambda s: load(s, [request], share, seconds, warmup=1.0), servers))
    return pooled(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    rows: list[tuple[str, str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as folder, postgres_server() as pg:
        url = pg.create_database()
        sqlite = start_tunemock("sqlite", "--state", str(Path(folder) / "s.db"), *COMMON)
        try:
            ids = prepare_tunemock(sqlite.base_url)
            requests = requests_for(*ids)
            for route in ROUTES:
                result = run_against([sqlite], requests[route], args.connections, args.seconds)
                rows.append((route, "1 instance, SQLite", result))
        finally:
            stop_process(sqlite.process)
        pair = [start_tunemock(f"pg-{n}", "--state", url, *COMMON) for n in (1, 2)]
        try:
            ids = prepare_tunemock(pair[0].base_url)  # made through one, read through both
            requests = requests_for(*ids)
            for route in ROUTES:
                result = run_against(pair, requests[route], args.connections, args.seconds)
                rows.append((route, "2 instances, one PostgreSQL", result))
        finally:
            for server in pair:
                stop_process(server.process)
    load_avg = os.getloadavg()[0]
    print(f"{args.connections} connections in all, {args.seconds:.0f} s a run, load {load_avg:.1f}")
    print(f"{'route':<10} {'setup':<28} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}  statuses")
    for route, setup, r in rows:
        print(
            f"{route:<10} {setup:<28} {r['rps']:>8.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f}"
            f"  {r['statuses']}"
        )


if __name__ == "__main__":
    main()
