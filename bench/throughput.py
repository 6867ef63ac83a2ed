"""Benchmark: tunemock (memory and SQLite stores) against a bare Starlette+uvicorn app and
Stoplight Prism, on the submit, details and v2-status routes, in one run.

Each server runs alone, started by this script on 127.0.0.1; one load generator (its own
process, the same for every server) keeps `--connections` keep-alive connections busy for
`--seconds` after a warm-up. On a 2-core machine the generator and the server share the
cores: the figures are comparable with each other, not with a dedicated load machine.
Figures are printed, never asserted.

The load generator is bench/loadgen.py (Python); `--loader wrk` adds wrk (Debian's `wrk`
package, bench/wrkload.py) on the same server right after it, and prints both loaders'
tables. A Python generator takes CPU from the server it measures, more from a faster one,
which flattens every ratio toward 1: wrk's ratios are the stricter ones.

    python bench/throughput.py [--seconds 4] [--rounds 3] [--connections 32] [--no-prism]
                               [--loader wrk]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from servers import (
    ROOT,
    Server,
    ensure_prism,
    load,
    start_bare,
    start_prism,
    start_tunemock,
    stop_process,
)
from workload import ROUTES, prepare_tunemock, requests_for
from wrkload import load_wrk

TUNEMOCK_ARGS = ("--timing", "instant", "--datasets", "skip")
TARGETS = {"vs_bare": 0.6, "vs_prism": 3.0, "p99_ms": 20.0, "startup_s": 1.0}

Row = dict[str, Any]
Prepare = Callable[[Server], dict[str, dict[str, Any]]]
#: what the servers without state answer: any id does (Prism's is its example's)
FIXED = requests_for("3f1c0d2e", "0f9c2a8e-6b1d-4c3e-9a57-2d8e4b1f7c60")
ARGS = argparse.Namespace(seconds=4.0, warmup=1.0, connections=32, loaders=("python",))
LOADERS = {
    "python": load,
    "wrk": lambda server, requests, *run: load_wrk(server.port, requests, *run),
}


@dataclass
class Contender:
    """A server to measure: how to start it for a route, and the requests it answers 200.
    One row of results per load generator."""

    name: str
    start: Callable[[str], Server]
    prepare: Prepare
    rows: dict[str, Row] = field(default_factory=dict)

    def measure(self, route: str) -> None:
        """One route on a server of its own, started fresh (jobs left by the submit run would
        otherwise weigh on the next route), each load generator in turn; RSS right after
        the load. Each round adds one result; the table shows the median round."""
        server = self.start(route)
        try:
            request = self.prepare(server)[route]
            for loader in ARGS.loaders:
                row = self.rows.setdefault(loader, {"server": self.name})
                row.setdefault("startups", []).append(server.startup_s)
                cpu = server.cpu_s()
                result = LOADERS[loader](
                    server, [request], ARGS.connections, ARGS.seconds, ARGS.warmup
                )
                # the server's CPU per answer (warm-up included): steadier than req/s on a
                # shared machine, where the load generator takes CPU from the server
                result["cpu_us"] = (server.cpu_s() - cpu) / max(result["answered"], 1) * 1e6
                row.setdefault("rounds", {}).setdefault(route, []).append(result)
                row.setdefault("rss_mb", {})[route] = server.rss_mb()
        finally:
            stop_process(server.process)
        for row in self.rows.values():
            row["startup_s"] = statistics.median(row["startups"])
            runs = row["rounds"][route]
            row.setdefault("routes", {})[route] = {
                key: statistics.median(r[key] for r in runs)
                for key in ("rps", "p50_ms", "p99_ms", "cpu_us")
            } | {"statuses": _summed(r["statuses"] for r in runs)}


def _summed(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for count in counts:
        for status, n in count.items():
            total[status] = total.get(status, 0) + n
    return total


def tunemock(
    name: str, state_dir: str | None = None, env: dict[str, str] | None = None
) -> Contender:
    def start(route: str) -> Server:
        # SQLite: a fresh file per route, for the same reason as a fresh server
        state = ("--state", f"{state_dir}/{route.replace(' ', '-')}.db") if state_dir else ()
        return start_tunemock(name, *TUNEMOCK_ARGS, *state, env=env)

    def prepare(server: Server) -> dict[str, dict[str, Any]]:
        return requests_for(*prepare_tunemock(server.base_url))

    return Contender(name, start, prepare)


def bare() -> Contender:
    return Contender("bare uvicorn", lambda route: start_bare(), lambda server: FIXED)


def prism() -> Contender:
    """Prism mocks one file per process: the fine-tune routes from segmind-finetune.yaml, v2
    status from segmind-inference.yaml."""

    def start(route: str) -> Server:
        if route == "v2 status":
            probe = FIXED[route]["path"]
            return start_prism(str(ROOT / "openapi/segmind-inference.yaml"), probe)
        return start_prism(str(ROOT / "openapi/segmind-finetune.yaml"), "/finetune/request/list")

    return Contender("Prism 5 (static)", start, lambda server: FIXED)


def fmt_statuses(result: dict[str, Any]) -> str:
    bad = {k: v for k, v in result["statuses"].items() if not k.startswith("2")}
    return ",".join(f"{k}x{v}" for k, v in bad.items()) or "-"


def table(rows: list[Row]) -> str:
    head = f"{'server':<22} {'route':<10} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>8}"
    lines = [head + f" {'CPU µs':>7} {'RSS MB':>7} {'start s':>7}", "-" * (len(head) + 24)]
    for row in rows:
        for i, route in enumerate(ROUTES):
            r = row["routes"][route]
            start = f"{row['startup_s']:>7.2f}" if i == 0 else ""
            tail = f" {r['cpu_us']:>7.1f} {row['rss_mb'][route]:>7.1f} {start:>7}"
            lines.append(
                f"{row['server'] if i == 0 else '':<22} {route:<10} {r['rps']:>8.0f} "
                f"{r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {fmt_statuses(r):>8}{tail}"
            )
    return "\n".join(lines)


def ratios(rows: list[Row]) -> tuple[str, list[tuple[str, bool]]]:
    """The ratio table, and each target with whether it is met."""
    by_name = {row["server"]: row for row in rows}
    bare, prism = by_name.get("bare uvicorn"), by_name.get("Prism 5 (static)")
    lines = [
        f"{'tunemock':<22} {'route':<10} {'÷ bare':>7} {'÷ Prism':>8}"
        f"   {'÷ bare, each round':<22} {'÷ Prism, each round':<22} {'bare CPU ÷ own'}"
    ]
    verdicts: list[tuple[str, bool]] = []
    for row in rows:
        if not row["server"].startswith("tunemock"):
            continue
        for route in ROUTES:
            rps = row["routes"][route]["rps"]
            vs_bare = rps / bare["routes"][route]["rps"] if bare else float("nan")
            vs_prism = rps / prism["routes"][route]["rps"] if prism else float("nan")
            # the same comparison by the server's CPU per answer (bare's ÷ tunemock's)
            cpu = bare["routes"][route]["cpu_us"] / row["routes"][route]["cpu_us"] if bare else None
            lines.append(
                f"{row['server']:<22} {route:<10} {vs_bare:>7.2f} {vs_prism:>8.2f}"
                f"   {_per_round(row, bare, route):<22} {_per_round(row, prism, route):<22}"
                f" {'-' if cpu is None else f'{cpu:.2f}'}"
            )
            if route != "submit":
                name = f"{row['server']} {route}"
                if bare:
                    verdicts.append((f"{name}: ≥ 0.6x bare ({vs_bare:.2f}x)", vs_bare >= 0.6))
                if prism:
                    verdicts.append((f"{name}: ≥ 3x Prism ({vs_prism:.2f}x)", vs_prism >= 3.0))
            p99 = row["routes"][route]["p99_ms"]
            verdicts.append((f"{row['server']} {route}: p99 < 20 ms ({p99:.1f} ms)", p99 < 20))
        startup = row["startup_s"]
        verdicts.append((f"{row['server']}: startup < 1 s ({startup:.2f} s)", startup < 1.0))
    return "\n".join(lines), verdicts


def _per_round(row: Row, other: Row | None, route: str) -> str:
    """The ratio in each round (the two servers measured back to back in it)."""
    if other is None:
        return "-"
    pairs = zip(row["rounds"][route], other["rounds"][route], strict=True)
    return " ".join(f"{mine['rps'] / theirs['rps']:.2f}" for mine, theirs in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per route")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds over every route and server (median shown)"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-prism", action="store_true", help="skip Prism (no node/npm)")
    parser.add_argument(
        "--loader",
        choices=["python", "wrk"],
        default="python",
        help="wrk: measure with wrk too, after the Python loader on the same server",
    )
    parser.add_argument(
        "--only",
        choices=["memory", "sqlite", "bare", "prism", "nojournal"],
        nargs="*",
        help="servers to run (default: all but nojournal, the memory store with journal_size 0)",
    )
    args = parser.parse_args()
    vars(ARGS).update(vars(args))
    ARGS.loaders = ("python", "wrk") if args.loader == "wrk" else ("python",)
    wanted = set(args.only or ["memory", "sqlite", "bare", "prism"])
    if args.no_prism:
        wanted.discard("prism")
    with tempfile.TemporaryDirectory(prefix="tunemock-bench-") as tmp:
        contenders = {
            "memory": tunemock("tunemock (memory)"),
            "sqlite": tunemock("tunemock (SQLite)", tmp),
            "bare": bare(),
            "prism": prism(),
            # not by default: what the request journal costs (TUNEMOCK_JOURNAL_SIZE=0 turns it off)
            "nojournal": tunemock("tunemock (no journal)", env={"TUNEMOCK_JOURNAL_SIZE": "0"}),
        }
        chosen = [c for key, c in contenders.items() if key in wanted]
        if "prism" in wanted:
            ensure_prism()  # the install is not part of any startup time
        load_before = os.getloadavg()[0]
        # route by route, every server in turn: a change in the machine's load (2 shared
        # cores) then hits all of them, and the ratios stay fair
        # and the whole of it `--rounds` times: one slow spell of the shared machine then
        # moves one round, not the median
        for _ in range(args.rounds):
            for route in ROUTES:
                for contender in chosen:
                    contender.measure(route)
        load_after = os.getloadavg()[0]
    print(
        f"{args.connections} connections, {args.seconds:g} s per route after {args.warmup:g} s "
        f"warm-up, {args.rounds} rounds (medians shown); Python {platform.python_version()}, "
        f"load generator in its own process on the same machine; 1-min load average "
        f"{load_before:.2f} before, {load_after:.2f} after ({os.cpu_count()} cores)"
    )
    for loader in ARGS.loaders:
        rows = [c.rows[loader] for c in chosen]
        print(f"\n=== load generator: {loader} ===\n")
        print(table(rows))
        ratio_table, verdicts = ratios(rows)
        print(f"\nreq/s ratios (same run, {loader})\n" + ratio_table)
        print(f"\ntargets ({loader})")
        for text, met in verdicts:
            print(f"  [{'met' if met else 'MISSED'}] {text}")


if __name__ == "__main__":
    main()
