"""Startup of tunemock (memory and SQLite stores) and of the bare app, timed as throughput.py
times it (spawn until the first 200 on /_mock/health, polled every 5 ms), over several starts
each, taken in turns so that every server sees the same load; medians, min and max.

    python bench/startup.py --starts 10

To compare two versions, run this file from a checkout of each (it starts the tunemock of the
checkout it sits in)."""

from __future__ import annotations

import argparse
import statistics
import tempfile

from servers import Server, start_bare, start_tunemock, stop_process
from throughput import TARGETS, TUNEMOCK_ARGS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10, help="starts of each server")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"tunemock (memory)": [], "tunemock (SQLite)": [], "bare": []}
    with tempfile.TemporaryDirectory() as folder:
        for n in range(args.starts):
            for name, times_of in times.items():
                server: Server
                if name == "bare":
                    server = start_bare()
                elif name == "tunemock (SQLite)":
                    server = start_tunemock(name, *TUNEMOCK_ARGS, "--state", f"{folder}/{n}.db")
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
