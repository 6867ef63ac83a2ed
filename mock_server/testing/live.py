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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mock_server.testing import verify


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    #: sent on /_mock calls: the admin token, when the server was started with one
    admin_headers: dict[str, str] = field(default_factory=dict)

    def reset(self) -> None:
        httpx.post(
            f"{self.base_url}/_mock/reset", json={}, headers=self.admin_headers
        ).raise_for_status()

    def advance(self, seconds: float) -> None:
        httpx.post(
            f"{self.base_url}/_mock/clock/advance",
            json={"seconds": seconds},
            headers=self.admin_headers,
        ).raise_for_status()

    def calls(self, operation: str, **match: Any) -> list[dict[str, Any]]:
        """The journal's calls of `operation` matching `match` (see testing.verify)."""
        return verify.calls(self.base_url, operation, **match)

    def assert_called(
        self, operation: str, times: int | None = None, **match: Any
    ) -> list[dict[str, Any]]:
        """Assert how often `operation` was called as described, listing near misses."""
        return verify.assert_called(self.base_url, operation, times=times, **match)

    def load_scenario(self, scenario: str | Path | Mapping[str, Any]) -> dict[str, Any]:
        """Load a scenario (a file, or the document itself) and return what was loaded;
        a document the mock refuses raises httpx.HTTPStatusError with its message."""
        url = f"{self.base_url}/_mock/scenario"
        if isinstance(scenario, Mapping):
            answer = httpx.post(url, json=dict(scenario), headers=self.admin_headers)
        else:
            answer = httpx.post(
                url,
                content=Path(scenario).read_bytes(),
                headers={"content-type": "application/yaml", **self.admin_headers},
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
    token = args[args.index("--admin-token") + 1] if "--admin-token" in args[:-1] else None
    admin = {"x-admin-token": token} if token else {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, _ = process.communicate()
            if process.stdout:
                process.stdout.close()
            raise RuntimeError(f"tunemock serve exited with {process.returncode}:\n{out.decode()}")
        try:
            health = httpx.get(f"{base_url}/_mock/health", timeout=0.5, headers=admin)
            if health.status_code == 200:
                return LiveServer(base_url, process, admin)
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
