"""Benchmark: a 100 MB presigned PUT upload to the mock, and the server's memory while it runs.

Shows that the mock streams uploads to disk: its resident memory should grow by a few MB,
not by the size of the body. Starts its own `python -m mock_server serve` on a free port,
asks for a presigned URL the way the Segmind docs do (GET with a JSON body), PUTs
`--size-mb` MiB streamed from a generator with an explicit Content-Length, and prints
bytes, seconds, MB/s and the server's RSS before and peak RSS after. Figures are printed,
never asserted: this is a benchmark, not a test.

    python bench/upload_100mb.py [--size-mb N]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
CHUNK = MIB
API_KEY = "bench"
DEFAULT_CAP = 100 * MIB  # the mock's default max_upload_bytes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_supports(flag: str) -> bool:
    """Whether `serve` knows a flag yet (`--datasets` lands separately from this script)."""
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return flag in result.stdout


def start_server(port: int, storage: Path, size: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "mock_server", "serve", "--port", str(port)]
    if serve_supports("--datasets"):
        # no dataset inspection: the upload alone is measured
        cmd += ["--datasets", "skip"]
    env = dict(os.environ, TUNEMOCK_STORAGE_DIR=str(storage))
    if size > DEFAULT_CAP:
        # otherwise a bigger --size-mb would be refused with EntityTooLarge
        env["TUNEMOCK_MAX_UPLOAD_BYTES"] = str(size)
    # stderr to a file, not a pipe: an unread pipe that fills up would stall the server
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=log)


def wait_healthy(
    proc: subprocess.Popen[bytes], base: str, log: IO[bytes], timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise SystemExit(f"server exited with {proc.returncode}:\n{err}")
        try:
            if httpx.get(f"{base}/_mock/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server not healthy after {timeout:.0f}s")


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak since the process started) in kB, from /proc."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def body(size: int) -> Iterator[bytes]:
    """`size` bytes in CHUNK pieces; one chunk reused so the client's memory stays flat too."""
    chunk = os.urandom(CHUNK)
    left = size
    while left > 0:
        step = min(CHUNK, left)
        yield chunk if step == CHUNK else chunk[:step]
        left -= step


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run(size: int) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        tempfile.TemporaryDirectory(prefix="tunemock-bench-") as storage,
        tempfile.TemporaryFile() as log,
    ):
        proc = start_server(port, Path(storage), size, log)
        try:
            wait_healthy(proc, base, log)
            with httpx.Client(timeout=httpx.Timeout(120.0)) as client:
                presign = client.request(
                    "GET",
                    f"{base}/finetune/request/upload/pre-signed-url",
                    json={"name": "big.zip"},
                    headers={"x-api-key": API_KEY},
                )
                presign.raise_for_status()
                url = presign.json()["presigned_url"]
                before = memory_kb(proc.pid)
                started = time.perf_counter()
                put = client.put(url, content=body(size), headers={"Content-Length": str(size)})
                seconds = time.perf_counter() - started
            after = memory_kb(proc.pid)
            if put.status_code != 200:
                raise SystemExit(f"PUT answered {put.status_code}: {put.text}")
        finally:
            stop(proc)
    report(size, seconds, before, after)


def report(size: int, seconds: float, before: dict[str, int], after: dict[str, int]) -> None:
    growth = after["VmHWM"] - before["VmRSS"]
    rows = [
        ("bytes", f"{size:,}"),
        ("seconds", f"{seconds:.2f}"),
        ("MiB/s", f"{size / MIB / seconds:.1f}"),
        ("server RSS before (VmRSS)", f"{before['VmRSS'] / 1024:.1f} MiB"),
        # a startup peak above the upload's would hide the growth: show it for comparison
        ("server peak RSS before (VmHWM)", f"{before['VmHWM'] / 1024:.1f} MiB"),
        ("server peak RSS after (VmHWM)", f"{after['VmHWM'] / 1024:.1f} MiB"),
        ("server RSS after (VmRSS)", f"{after['VmRSS'] / 1024:.1f} MiB"),
        ("peak growth (VmHWM - RSS before)", f"{growth / 1024:.1f} MiB"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>14}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100, help="MiB to upload (default 100)")
    args = parser.parse_args()
    run(args.size_mb * MIB)


if __name__ == "__main__":
    main()
