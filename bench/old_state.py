"""Benchmark: converting a state from before tenant ids (figures printed, never asserted).

A SQLite state with N fine-tunes under 50 raw API keys is converted as `serve` does on open
(mock_server.tenancy_upgrade): time of the first open, which moves every record, and of the
next, which reads one meta value.

    python bench/old_state.py [--records 10000 30000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from mock_server.store import open_store
from mock_server.tenancy import TenantIds, ensure_secret
from mock_server.tenancy_upgrade import convert_key_tenants


def measure(records: int, folder: Path) -> str:
    store = open_store(folder / f"old-{records}.db")
    try:
        for i in range(records):
            key = f"sk-key-{i % 50}-0123456789abcdef"
            store.insert("finetune", key, f"job-{i}", {"n": i, "pad": "x" * 500})
        started = time.perf_counter()
        moved = convert_key_tenants(store, TenantIds(ensure_secret(store)), ["finetune"])
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = convert_key_tenants(store, TenantIds(ensure_secret(store)), ["finetune"])
        second = time.perf_counter() - started
    finally:
        store.close()
    per = first / max(moved, 1) * 1000
    return (
        f"{records:>7} records: first open moved {moved} in {first:.2f} s ({per:.2f} ms each); "
        f"next open moved {again} in {second * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 30_000])
    args = parser.parse_args()
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        for records in args.records:
            print(measure(records, Path(folder)))


if __name__ == "__main__":
    main()
