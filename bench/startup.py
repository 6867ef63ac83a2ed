"""Startup of tunemock (memory and SQLite stores) and of the bare app, timed as throughput.py
times it (spawn until the first 200 on /_mock/health, polled every 5 ms), over several starts
each, taken in turns so that every server sees the same load; medians, min and max.

    python bench/startup.py --starts 10
    python bench/startup.py --starts 5 --deliveries 100000   # a state with webhook logs too

To compare two versions, run this file from a checkout of each (it starts the tunemock of the
checkout it sits in)."""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from servers import Server, start_bare, start_tunemock, stop_process
from throughput import TARGETS, TUNEMOCK_ARGS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's tunemock


def state_with_deliveries(path: Path, count: int) -> None:
    """A SQLite state holding `count` delivered webhook deliveries (out of the due queue, as
    a delivered one is), written as an older version would: not marked as keeping every
    pending delivery queued, so its first start reads them all once."""
    from mock_server.store.sqlite import SqliteStore
    from mock_server.tenancy import TenantIds
    from mock_server.webhooks.deliveries import DELIVERED, Deliveries, RetryPolicy, due_key

    store = SqliteStore(path)
    deliveries = Deliveries(store, RetryPolicy())
    hook = {"webhook_id": "wh", "webhook_url": "http://127.0.0.1:9/hook"}
    at = datetime(2026, 1, 1, tzinfo=UTC)
    tenant = TenantIds(b"bench").of("bench-key")  # an id's shape: no key to convert
    payload = {"event": "AVAILABLE", "status": "AVAILABLE", "detail": "x" * 200}
    for n in range(count):
        made = deliveries.enqueue(tenant, hook, f"job-{n}", "AVAILABLE", 2, payload, at)
        assert made is not None
        store.update("delivery", made["delivery_id"], None, lambda d: {**d, "state": DELIVERED})
        store.unschedule([due_key(made["delivery_id"])])
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10, help="starts of each server")
    parser.add_argument(
        "--deliveries", type=int, default=0, help="also start on a SQLite state with this many"
    )
    args = parser.parse_args()
    times: dict[str, list[float]] = {"tunemock (memory)": [], "tunemock (SQLite)": [], "bare": []}
    old, kept = "SQLite+deliveries, 1st", "SQLite+deliveries"
    if args.deliveries:
        times |= {old: [], kept: []}
    with tempfile.TemporaryDirectory() as folder:
        made = Path(folder) / "made.db"
        if args.deliveries:
            state_with_deliveries(made, args.deliveries)
        for n in range(args.starts):
            for name, times_of in times.items():
                server: Server
                if name == "bare":
                    server = start_bare()
                elif name == "tunemock (SQLite)":
                    server = start_tunemock(name, *TUNEMOCK_ARGS, "--state", f"{folder}/{n}.db")
                elif name in (old, kept):
                    # the old state's first start on a fresh copy; then a start of that copy
                    copy = Path(folder) / f"{n}-deliveries.db"
                    if name == old:
                        shutil.copyfile(made, copy)
                    server = start_tunemock(name, *TUNEMOCK_ARGS, "--state", str(copy))
                else:
                    server = start_tunemock(name, *TUNEMOCK_ARGS)
                times_of.append(server.startup_s)
                stop_process(server.process)
    print(f"{'server':<20} {'median s':>8} {'min s':>6} {'max s':>6}  ({args.starts} starts each)")
    for name, found in times.items():
        print(f"{name:<20} {statistics.median(found):8.3f} {min(found):6.3f} {max(found):6.3f}")
    print(f"target: tunemock under {TARGETS['startup_s']:.1f} s")


if __name__ == "__main__":
    main()
