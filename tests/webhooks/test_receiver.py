"""The test webhook receiver (mock_server.testing.receiver) records only requests that
arrived whole: a sender killed mid-request (the kill -9 tests) delivered nothing."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx

from mock_server.testing.receiver import running_receiver


def test_a_request_cut_short_is_not_recorded() -> None:
    with running_receiver() as receiver:
        url = urlsplit(receiver.url)
        with socket.create_connection((url.hostname, url.port)) as sock:
            sock.sendall(
                f"POST {url.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n\r\n".encode()
                + b'{"event": "trunc'
            )
            sock.shutdown(socket.SHUT_WR)  # the sender dies before the rest of the body
            sock.settimeout(10)
            assert sock.recv(100) == b""  # no answer: the receiver closed it
        answer = httpx.post(receiver.url, json={"event": "whole"})
        assert answer.status_code == 200
        assert receiver.events() == ["whole"]
