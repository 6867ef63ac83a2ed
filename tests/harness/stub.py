"""A tiny HTTP server for the harness's CLI tests: answers every request with one fixed
status and JSON body (e.g. a broken server answering 500 to everything), optionally only
after a delay on every path but `/` (a target whose calls take "forever")."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fixtures.threaded import serving


class _Fixed(BaseHTTPRequestHandler):
    status = 200
    body = b"{}"
    delay = 0.0

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if self.path != "/":
            time.sleep(self.delay)
        with contextlib.suppress(OSError):  # the client may have given up waiting
            self.send_response(self.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def fixed_server(status: int, body: bytes, delay: float = 0.0) -> Iterator[str]:
    """Serve `status` + `body` to every request on 127.0.0.1 (after `delay` seconds, but at
    once on `/`); yield the base URL."""
    handler = type("Handler", (_Fixed,), {"status": status, "body": body, "delay": delay})
    with serving(handler) as url:
        yield url
