"""Misbehaving peers for the robustness tests: raw HTTP over a socket (bytes no client
library sends), a client that trickles its body, a webhook target that trickles its answer."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit


def address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def raw_exchange(base_url: str, request: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    """Send `request` as is and read the whole answer (the server closes or sets a length);
    (status, body)."""
    with socket.create_connection(address(base_url), timeout=timeout) as sock:
        sock.sendall(request)
        answer = _read_answer(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


def _read_answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        None,
    )
    while length is None or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def trickle(
    base_url: str, request_head: bytes, body: bytes, pause: float, until: threading.Event
) -> None:
    """Send the head, then the body one byte every `pause` seconds until `until` is set
    (or the body is out); then close without finishing (a client that gave up mid-body)."""
    with socket.create_connection(address(base_url), timeout=30) as sock:
        sock.sendall(request_head)
        for byte in body[:-1]:
            if until.wait(pause):
                return
            sock.sendall(bytes([byte]))


class TricklingReceiver:
    """A webhook target that accepts, reads the request, then answers one byte every
    `pause` seconds of a body it says is long: each read is quick, the answer never ends
    (a per-read timeout never fires; only a deadline on the whole call stops it)."""

    def __init__(self, pause: float = 0.2, stop_after: float = 120.0) -> None:
        self.pause, self.stop_after = pause, stop_after
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"
        self.calls = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> TricklingReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.server.close()
        self.thread.join(timeout=10)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.calls += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        deadline = time.monotonic() + self.stop_after
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
                while not self.stopped.is_set() and time.monotonic() < deadline:
                    conn.sendall(b"x")
                    time.sleep(self.pause)
            except OSError:
                return  # the sender gave up: what we want
