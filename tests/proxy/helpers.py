"""A `tunemock proxy` served in a background thread on 127.0.0.1, for the proxy's tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from starlette.types import ASGIApp

from mock_server.proxy import ProxyApp, ProxySettings, create_proxy_app
from mock_server.spec import load_specs
from mock_server.spec.loader import VENDOR_FAMILIES
from mock_server.testing.live import free_port


@dataclass
class RunningProxy:
    url: str
    app: ProxyApp
    lines: list[str] = field(default_factory=list)  # what it printed, one violation a line


@contextlib.contextmanager
def serve_app(app: ASGIApp, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (on `sock`, else a free port) in a thread; its base URL."""
    sock = sock or socket.socket()
    if sock.getsockname()[1] == 0:
        sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False, ws="none")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def running_proxy(
    upstream: str,
    record: Path | None = None,
    buffer_bytes: int = 1024 * 1024,
    webhook_forward: str | None = None,
    sock: socket.socket | None = None,
) -> Iterator[RunningProxy]:
    """The proxy on `sock` (bound), else on a free 127.0.0.1 port."""
    bundle = load_specs()
    vendor = type(bundle)({n: d for n, d in bundle.documents.items() if n in VENDOR_FAMILIES})
    if sock is None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    lines: list[str] = []
    settings = ProxySettings(
        upstream=upstream,
        public=url,
        bundle=vendor,
        record=record,
        report=lines.append,
        buffer_bytes=buffer_bytes,
        webhook_forward=webhook_forward,
    )
    app = create_proxy_app(settings)
    with serve_app(app, sock):
        yield RunningProxy(url, app, lines)


@contextlib.contextmanager
def proxy_process(
    *args: str, timeout: float = 20.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`tunemock proxy ARGS` as a real process on a free port; killed on exit if still running."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "proxy", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tunemock proxy did not start: {process.returncode}")
            try:
                if httpx.get(f"{url}/_mock/health", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)
