"""Run `tunemock serve` as a real process on a free 127.0.0.1 port (the plugin's live
server, and the test suite's)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]

    def reset(self) -> None:
        httpx.post(f"{self.base_url}/_mock/reset", json={}).raise_for_status()

    def advance(self, seconds: float) -> None:
        httpx.post(
            f"{self.base_url}/_mock/clock/advance", json={"seconds": seconds}
        ).raise_for_status()

    def load_scenario(self, scenario: str | Path | Mapping[str, Any]) -> dict[str, Any]:
        """Load a scenario (a file, or the document itself) and return what was loaded;
        a document the mock refuses raises httpx.HTTPStatusError with its message."""
        url = f"{self.base_url}/_mock/scenario"
        if isinstance(scenario, Mapping):
            answer = httpx.post(url, json=dict(scenario))
        else:
            answer = httpx.post(
                url,
                content=Path(scenario).read_bytes(),
                headers={"content-type": "application/yaml"},
            )
        answer.raise_for_status()
        loaded: dict[str, Any] = answer.json()
        return loaded


def start_server(*args: str, timeout: float = 20.0, port: int | None = None) -> LiveServer:
    """Run `tunemock serve` on a free port and wait until /_mock/health answers."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: workers can be signalled with it
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, _ = process.communicate()
            if process.stdout:
                process.stdout.close()
            raise RuntimeError(f"tunemock serve exited with {process.returncode}:\n{out.decode()}")
        try:
            if httpx.get(f"{base_url}/_mock/health", timeout=0.5).status_code == 200:
                return LiveServer(base_url, process)
        except httpx.TransportError:
            time.sleep(0.05)
    _signal_group(process, signal.SIGKILL)
    process.communicate()
    if process.stdout:
        process.stdout.close()
    raise RuntimeError("tunemock serve did not answer /_mock/health in time")


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def stop_server(server: LiveServer) -> str:
    """Terminate the server (and its workers) and return what it printed."""
    _signal_group(server.process, signal.SIGTERM)
    try:
        out, _ = server.process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        _signal_group(server.process, signal.SIGKILL)
        out, _ = server.process.communicate()
    if server.process.stdout:
        server.process.stdout.close()
    return out.decode(errors="replace")
