"""The same run as loadgen.py, driven by wrk (Debian's `wrk` package) instead.

A load generator written in Python takes more CPU per request than the server it measures
answers with, so on a shared 2-core machine a faster server gets less CPU, and every ratio
against bare uvicorn is flattened toward 1. wrk (C, two threads) takes far less. The
request is one fixed request (wrk's Lua script sets its method, headers and body); the
result has loadgen.py's keys, so either loader fills the same tables.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

# wrk's done() hook: its summary as one JSON line on stdout (latencies in µs)
_DONE = """
done = function(summary, latency, requests)
  local s = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%f,"p99_us":%f,"max_us":%f}\\n',
    summary.requests, summary.duration, s.status, s.connect + s.read + s.write + s.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _script(request: dict[str, Any]) -> str:
    lines = [f"wrk.method = {json.dumps(request['method'])}"]
    if request.get("body") is not None:
        lines.append(f"wrk.body = {json.dumps(request['body'])}")
    for name, value in request.get("headers", {}).items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    return "\n".join(lines) + "\n" + _DONE


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk not found: `apt-get install -y wrk` (Debian's package)")
    return found


def run_wrk(
    port: int, request: dict[str, Any], connections: int, seconds: float, threads: int = 2
) -> dict[str, Any]:
    """One wrk run of `request` against 127.0.0.1:port; its summary."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_script(request))
    try:
        out = subprocess.run(
            [wrk_binary(), "-t", str(threads), "-c", str(connections),
             "-d", f"{max(round(seconds), 1)}s", "-s", script.name,
             f"http://127.0.0.1:{port}{request['path']}"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        Path(script.name).unlink()
    summary: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return summary


def load_wrk(
    port: int, requests: list[dict[str, Any]], connections: int, seconds: float, warmup: float
) -> dict[str, Any]:
    """loadgen.py's result for one request, from a warm-up run (discarded) and a measured one."""
    [request] = requests  # wrk sends one request; the benchmarks give it one per route
    if warmup > 0:
        run_wrk(port, request, connections, warmup)
    s = run_wrk(port, request, connections, seconds)
    ok = s["requests"] - s["non2xx"]
    return {
        "requests": s["requests"],
        "rps": s["requests"] / (s["duration_us"] / 1e6),
        "p50_ms": s["p50_us"] / 1000,
        "p99_ms": s["p99_us"] / 1000,
        "max_ms": s["max_us"] / 1000,
        "statuses": {"2xx": ok} | ({"non-2xx": s["non2xx"]} if s["non2xx"] else {}),
        "failures": s["socket_errors"],
        "answered": s["requests"],
    }
