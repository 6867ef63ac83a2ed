"""A small HTTP/1.1 load generator: N keep-alive connections, each sending its next request as
soon as the last answer arrived, for a fixed time. Run as its own process by the benchmarks
(so it never shares an event loop or a GIL with a server), the same one for every server.

Raw asyncio streams, not httpx: httpx spends ~10x more CPU per request, and on a 2-core
machine the generator's CPU is taken from the server it measures. uvloop is used when
importable (it comes with uvicorn[standard]).

    python bench/loadgen.py --spec '{"requests": [...], ...}'   # prints one JSON line

The spec: {"host", "port", "connections", "seconds", "warmup", "requests": [{"method",
"path", "headers": {...}, "body": str | null}, ...]}; the requests are sent round-robin.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from typing import Any


def encode(host: str, port: int, request: dict[str, Any]) -> bytes:
    """One request's bytes, built once (a request is re-sent unchanged)."""
    body = (request.get("body") or "").encode()
    lines = [f"{request['method']} {request['path']} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in request.get("headers", {}).items()]
    if body or request["method"] in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one whole response (Content-Length or chunked); its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


class Run:
    """Counters shared by the connections of one run."""

    def __init__(self, requests: list[bytes], measure_from: float, stop_at: float) -> None:
        self.requests: Iterator[bytes] = itertools.cycle(requests)
        self.measure_from = measure_from
        self.stop_at = stop_at
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.failures = 0
        self.answered = 0  # warm-up included: what the server did while it was watched


async def connection(host: str, port: int, run: Run) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            started = time.perf_counter()
            if started >= run.stop_at:
                return
            writer.write(next(run.requests))
            try:
                status = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                run.failures += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            done = time.perf_counter()
            run.answered += 1
            if started >= run.measure_from:  # answers to warm-up requests are not counted
                run.latencies.append(done - started)
                run.statuses[status] = run.statuses.get(status, 0) + 1
    finally:
        writer.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def drive(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], int(spec["port"])
    encoded = [encode(host, port, r) for r in spec["requests"]]
    now = time.perf_counter()
    run = Run(encoded, now + spec["warmup"], now + spec["warmup"] + spec["seconds"])
    await asyncio.gather(*(connection(host, port, run) for _ in range(spec["connections"])))
    latencies = sorted(run.latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / spec["seconds"],
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else float("nan")) * 1000,
        "statuses": {str(k): v for k, v in sorted(run.statuses.items())},
        "failures": run.failures,
        "answered": run.answered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="the run, as JSON (see the docstring)")
    spec = json.loads(parser.parse_args().spec)
    try:
        from uvloop import run
    except ImportError:  # the plain asyncio loop works too, only slower
        from asyncio import run
    print(json.dumps(run(drive(spec))))


if __name__ == "__main__":
    main()
