"""App time per request, in-process: the ASGI app called in a loop, without uvicorn, the
kernel or the load generator, for tunemock (memory and SQLite stores) and the bare app.

    python bench/inproc.py                        # every route, 5 runs each, medians
    python bench/inproc.py --route details --profile --only sqlite

CPU time (all threads of this process: the SQLite journal's writer too) per request is
steadier than wall time on a shared machine; under the load generator every figure is
about twice its in-process value. --profile prints cProfile's top functions of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop  # as uvicorn runs each app (tunemock serve and bench/bare_app.py alike)
from bare_app import app as bare_app
from workload import requests_for, submit_body

from mock_server.app import create_app
from mock_server.config import Config
from mock_server.testing.bodies import doc_v2_body

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def call(app: App, request: dict[str, Any]) -> tuple[int, bytes]:
    """One request through the ASGI app; (status, body)."""
    body = (request["body"] or "").encode()
    headers = [(k.lower().encode(), v.encode()) for k, v in request["headers"].items()]
    headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request["method"],
        "scheme": "http",
        "path": request["path"],
        "raw_path": request["path"].encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # the client never disconnects mid-request here
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    out: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    await asyncio.create_task(app(scope, receive, send))  # a task each, as uvicorn runs them
    return int(out[0]["status"]), b"".join(m.get("body", b"") for m in out[1:])


async def _lifespan(app: App) -> Callable[[], Awaitable[None]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await task

    return stop


async def measure(server: str, route: str, n: int, profile: bool) -> float:
    """CPU µs per request of `route` on `server` (memory, sqlite or bare)."""
    tmp = Path(tempfile.mkdtemp(prefix="tunemock-inproc-"))
    if server == "bare":
        app: App = bare_app
        stop = None
        ids = ("3f1c0d2e", "3f1c0d2e")
    else:
        state = tmp / "state.sqlite" if server == "sqlite" else None
        config = Config(timing="instant", datasets="skip", state=state, storage_dir=tmp / "files")
        app = create_app(config)
        stop = await _lifespan(app)
        submit = requests_for("", "")["submit"]
        finetune_id = json.loads((await call(app, submit))[1])["finetune_id"]
        v2 = {**submit, "path": "/v2/flux-dev-finetuned"}
        v2["body"] = json.dumps(doc_v2_body(finetune_id))
        ids = (finetune_id, json.loads((await call(app, v2))[1])["request_id"])
    request = requests_for(*ids)[route]
    if route == "submit":
        request = {**request, "body": json.dumps(submit_body())}
    for _ in range(200):  # warm: caches filled, code paths taken once
        status, answer = await call(app, request)
    assert status < 300, (server, route, status, answer)
    profiler = cProfile.Profile() if profile else None
    cpu = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(n):
        await call(app, request)
    if profiler:
        profiler.disable()
    await asyncio.sleep(0.05)  # the journal's writer finishes its batch (counted too)
    spent = time.process_time() - cpu
    if stop:
        await stop()
    shutil.rmtree(tmp, ignore_errors=True)  # its state file and storage: one per run
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return spent / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--route", choices=["submit", "details", "v2 status"], nargs="*")
    parser.add_argument("--only", choices=["memory", "sqlite", "bare"], nargs="*")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one run of each")
    args = parser.parse_args()
    routes = args.route or ["submit", "details", "v2 status"]
    servers = args.only or ["memory", "sqlite", "bare"]
    print(f"{'server':10} {'route':10} {'CPU µs/request, median':>24}   runs")
    for route in routes:
        n = args.requests // 10 if route == "submit" else args.requests
        for server in servers:
            runs = [
                uvloop.run(measure(server, route, n, args.profile and i == 0))
                for i in range(1 if args.profile else args.runs)
            ]
            each = " ".join(f"{r:.1f}" for r in sorted(runs))
            print(f"{server:10} {route:10} {statistics.median(runs):24.1f}   {each}", flush=True)


if __name__ == "__main__":
    main()
