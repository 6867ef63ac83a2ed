"""A public dataset host that trickles its body (a byte now and then, so no per-read
timeout ever fires) is cut off at the fetch's total deadline, not waited on for ever."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mock_server.datasets.fetch import fetch_public
from mock_server.datasets.inspect import DatasetProblem

SIZE = 1000


class Trickle(BaseHTTPRequestHandler):
    def _head(self) -> None:
        self.send_response(200)
        self.send_header("content-length", str(SIZE))
        self.end_headers()

    def do_HEAD(self) -> None:
        self._head()

    def do_GET(self) -> None:
        self._head()
        try:
            for _ in range(SIZE):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up: what the test wants
            return

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def trickling_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/d.zip"
    server.shutdown()
    server.server_close()


def test_a_trickling_host_is_cut_off_at_the_deadline(trickling_host: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(DatasetProblem) as refused:
        fetch_public(trickling_host, tmp_path / "d.zip", None, deadline=0.5)
    assert "took over 0.5 s" in str(refused.value)
    assert time.monotonic() - started < 30  # a hang guard: the host needs 50 s to finish
