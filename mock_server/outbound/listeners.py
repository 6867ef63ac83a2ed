"""The mock's own listeners, so that no outbound call ever reaches the mock itself (a
webhook at /_mock/reset would let any tenant wipe every tenant's state).

Own ports are the configured one (what `tunemock serve` binds, in every worker) and every
port a request has arrived on (ASGI `scope["server"]`: the socket really bound, also for a
server run in a thread or on another port). The process's sockets are not read from the
OS: a test process listens with its receivers too, and those must stay reachable.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

from mock_server.outbound.policy import Address, normalized, this_host


def is_local(address: Address) -> bool:
    """Does `address` reach this machine? Loopback and unspecified do; any other address
    does when a socket can be bound to it (the kernel knows it as one of its own: no
    listing of interfaces needed)."""
    address = normalized(address)
    if this_host(address):
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class OwnListeners:
    """`is_own(address, port)`: would a connection there reach this mock?

    Rule: the address is one of this machine's and the port is one the mock listens on.
    Which local address a listener is bound to is not compared: a listener on 0.0.0.0
    answers on every local address (127.0.0.2, the LAN address, ::ffff:127.0.0.1), and
    treating every local spelling alike costs at most a refused call to another program
    on the same port of another local address."""

    def __init__(self, configured_port: int | None = None) -> None:
        self._ports: set[int] = {configured_port} if configured_port else set()

    def note(self, server: Sequence[Any] | None) -> None:
        """Remember the port of an ASGI `scope["server"]` (host, port) a request came on.
        Only a socket's address counts: an in-process transport names the URL's host
        there ("mock.test", 80), which is no listener of ours."""
        if not server or len(server) < 2 or not _is_address(str(server[0])):
            return
        port = server[1]
        if isinstance(port, int) and port > 0 and port not in self._ports:
            self._ports = {*self._ports, port}  # a new set: readers never see one grow

    def ports(self) -> frozenset[int]:
        return frozenset(self._ports)

    def is_own(self, address: Address, port: int) -> bool:
        return port in self._ports and is_local(address)
