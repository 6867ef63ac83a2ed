"""Benchmark: webhook dispatch at scale (figures printed, never asserted).

1. Idle CPU of the server (% of one core over --idle-seconds, default 30) with 0, 10k and
   100k stored fine-tunes that have webhooks, once the server has settled (its first look
   at every stored job done). Target: under 2 % at every size, flat.
2. Delivery latency of a fast receiver's three events (tenant y) while tenant x has 100
   jobs aimed at a receiver that hangs (`--timing fast`, real clock): each event's arrival
   minus the moment of its transition. Target: each within 1 s.
3. `--workers 2 --state F`, a receiver answering after 0.7 s, 200 submits: events
   delivered and duplicates. Target: 600 delivered, 0 duplicates.

    python bench/dispatch_scale.py [--jobs 0 10000 100000] [--idle-seconds 30]
        [--stores memory sqlite] [--skip-idle | --idle-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import BENCH, Server, free_port, start, start_tunemock, stop_process
from workload import submit_body

IDLE_TARGET_PCT = 2.0
LATENCY_TARGET_S = 1.0


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 200 after `delay` seconds and keeps each
    call's arrival time (wall clock)."""

    delay: float = 0.0
    url: str = ""
    calls: list[tuple[float, dict[str, object]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def receiver(delay: float) -> Iterator[Receiver]:
    got = Receiver(delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with got.lock:
                got.calls.append((time.time(), json.loads(body or b"{}")))
            time.sleep(got.delay)
            try:
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:  # the sender gave up (its timeout)
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    got.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()


def cpu_pct(server: Server, seconds: float) -> float:
    before, started = server.cpu_s(), time.monotonic()
    time.sleep(seconds)
    return 100 * (server.cpu_s() - before) / (time.monotonic() - started)


def idle_cpu(jobs: int, seconds: float, sqlite: bool) -> dict[str, float]:
    port = free_port()
    cmd = [sys.executable, str(BENCH / "scale_server.py"), "--port", str(port)]
    cmd += ["--jobs", str(jobs), "--tenants", "100", "--webhooks"]
    with tempfile.TemporaryDirectory() as tmp:
        if sqlite:
            cmd += ["--state", str(Path(tmp) / "state.db")]
        return _idle(start("dispatch-idle", cmd, port, "/_mock/health", timeout=900), jobs, seconds)


def _idle(server: Server, jobs: int, seconds: float) -> dict[str, float]:
    try:
        started = time.monotonic()  # the first look at every stored job: once, at start
        while cpu_pct(server, 2.0) > 5 * IDLE_TARGET_PCT and time.monotonic() - started < 600:
            pass
        settled = time.monotonic() - started
        return {"jobs": jobs, "settle_s": settled, "idle_cpu_pct": cpu_pct(server, seconds)}
    finally:
        stop_process(server.process)


def post(client: httpx.Client, path: str, key: str, **body: object) -> dict[str, object]:
    answer = client.post(path, json=body or None, headers={"x-api-key": key})
    answer.raise_for_status()
    result: dict[str, object] = answer.json()
    return result


def hook(client: httpx.Client, key: str, url: str) -> None:
    post(client, "/webhook/add", key, webhook_url=url, event={"types": ["FINETUNE"]})


def submit(client: httpx.Client, key: str) -> str:
    answer = client.post("/finetune/request/submit", json=submit_body(), headers={"x-api-key": key})
    answer.raise_for_status()
    return str(answer.json().get("finetune_id") or answer.json()["request_id"])


def head_of_line(hanging_jobs: int) -> dict[str, object]:
    with receiver(3600.0) as hangs, receiver(0.0) as fast:
        server = start_tunemock("dispatch-hol", "--timing", "fast", "--datasets", "skip")
        try:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                hook(client, "x", hangs.url)
                hook(client, "y", fast.url)
                for _ in range(hanging_jobs):
                    submit(client, "x")
                job_id = submit(client, "y")
                deadline = time.monotonic() + 120
                while len(fast.calls) < 3 and time.monotonic() < deadline:
                    time.sleep(0.05)
                jobs = client.get("/_mock/jobs", params={"kind": "finetune", "tenant": "y"})
                history = {h["state"]: h["at"] for h in jobs.json()[0]["history"]}
        finally:
            stop_process(server.process)
    late = {}
    for arrived, payload in fast.calls:
        event = str(payload["event"])
        moved = datetime.fromisoformat(history[event].replace("Z", "+00:00")).timestamp()
        late[event] = round(arrived - moved, 3)
    return {"x_jobs_hanging": hanging_jobs, "y_job": job_id, "y_latency_s": late,
            "x_calls_in_flight": len(hangs.calls)}  # fmt: skip


def two_workers(submits: int, delay: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, receiver(delay) as slow:
        state = Path(tmp) / "state.db"
        server = start_tunemock(
            "dispatch-workers", "--workers", "2", "--state", str(state),
            "--timing", "fast", "--datasets", "skip",
        )  # fmt: skip
        try:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                hook(client, "k", slow.url)
                started = time.monotonic()
                for _ in range(submits):
                    submit(client, "k")
                deadline = time.monotonic() + 300
                while len(slow.calls) < 3 * submits and time.monotonic() < deadline:
                    time.sleep(0.2)
                took = time.monotonic() - started
                time.sleep(15)  # a duplicate still on its way would show
        finally:
            stop_process(server.process)
    sent = Counter((str(p.get("finetune_id")), str(p["event"])) for _, p in slow.calls)
    return {"submits": submits, "receiver_delay_s": delay, "calls": len(slow.calls),
            "events_delivered": len(sent), "duplicates": sum(n - 1 for n in sent.values()),
            "all_delivered_after_s": round(took, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[0, 10_000, 100_000])
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--skip-idle", action="store_true")
    parser.add_argument("--idle-only", action="store_true")
    parser.add_argument("--stores", nargs="+", choices=["memory", "sqlite"], default=["memory"])
    args = parser.parse_args()
    for store in [] if args.skip_idle else args.stores:
        for jobs in args.jobs:
            row = idle_cpu(jobs, args.idle_seconds, store == "sqlite")
            print(f"idle ({store}): {row['jobs']:>7} fine-tunes with webhooks: "
                  f"{row['idle_cpu_pct']:.2f} % of a core over {args.idle_seconds:.0f} s "
                  f"(settled {row['settle_s']:.0f} s after start; target < {IDLE_TARGET_PCT} %)",
                  flush=True)  # fmt: skip
    if args.idle_only:
        return
    hol = head_of_line(100)
    print(f"head of line: {hol['x_jobs_hanging']} jobs of tenant x at a hanging receiver "
          f"({hol['x_calls_in_flight']} calls held); tenant y's events arrived "
          f"{hol['y_latency_s']} s after their transitions (target < {LATENCY_TARGET_S} s each)",
          flush=True)  # fmt: skip
    workers = two_workers(200, 0.7)
    print(
        f"--workers 2 --state F, receiver {workers['receiver_delay_s']} s, "
        f"{workers['submits']} submits: {workers['events_delivered']} events delivered in "
        f"{workers['calls']} calls, {workers['duplicates']} duplicates "
        f"(all within {workers['all_delivered_after_s']} s of the first submit)",
        flush=True,
    )


if __name__ == "__main__":
    main()
