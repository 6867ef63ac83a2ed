"""Misbehaving peers for the robustness tests: raw HTTP over a socket (bytes no client
library sends), and a client that trickles its body."""

from __future__ import annotations

import socket
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


def trickle(base_url: str, request_head: bytes, body: bytes, pause: float, stop: float) -> None:
    """Send the head, then the body one byte every `pause` seconds, for at most `stop`
    seconds; then close without finishing (a client that gave up mid-body)."""
    with socket.create_connection(address(base_url), timeout=stop + 5) as sock:
        sock.sendall(request_head)
        deadline = time.monotonic() + stop
        for byte in body:
            if time.monotonic() > deadline:
                return
            sock.sendall(bytes([byte]))
            time.sleep(pause)
