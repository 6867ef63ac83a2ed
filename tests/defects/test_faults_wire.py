"""`drop` and `truncate` on the wire of a real server: a dropped connection carries no byte of
an answer, a truncated one stops mid-body, and each is one log line, never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from mock_server.testing.live import LiveServer, start_server, stop_server


@pytest.fixture
def server() -> Iterator[LiveServer]:
    started = start_server("--clock", "virtual", "--datasets", "skip", timeout=60)
    try:
        yield started
    finally:
        stop_server(started)


def _raw_get(server: LiveServer, fault: str) -> bytes:
    """Every byte the server sends to one GET with a one-off fault, until it closes."""
    where = urlsplit(server.base_url)
    request = (
        f"GET /finetune/request/list HTTP/1.1\r\nHost: {where.netloc}\r\n"
        f"x-api-key: k\r\nx-mock-fault: {fault}\r\nConnection: close\r\n\r\n"
    ).encode()
    received = b""
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(request)
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except ConnectionResetError:  # an abort may reach the client as a reset
            pass
    return received


def test_drop_sends_no_byte_and_truncate_stops_mid_body_each_one_log_line(
    server: LiveServer,
) -> None:
    dropped = _raw_get(server, "drop")
    truncated = _raw_get(server, "truncate")
    fine = _raw_get(server, "latency=1ms")
    output = stop_server(server)

    assert dropped == b""
    head, _, body = truncated.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = int(
        next(
            v
            for k, _, v in (h.partition(b": ") for h in head.split(b"\r\n"))
            if k.lower() == b"content-length"
        )
    )
    assert len(body) < length  # cut short: fewer bytes than the header announced
    assert fine.startswith(b"HTTP/1.1 200")
    assert "Exception in ASGI application" not in output and "Traceback" not in output
    lines = [line for line in output.splitlines() if "injected fault" in line]
    assert len(lines) == 2, output
    assert "dropped" in lines[0] and "truncated" in lines[1]
