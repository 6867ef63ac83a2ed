"""The one check before every outbound connection: resolve the host, refuse the mock's own
listeners and whatever the target policy forbids, and name the address to connect to (the
checked one: a name that resolves differently a moment later changes nothing)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

import anyio

from mock_server.outbound.listeners import OwnListeners
from mock_server.outbound.policy import Address, TargetPolicy, normalized

#: The error class of a refused call, as deliveries and job errors show it.
NOT_ALLOWED = "target not allowed"
#: One class for every failure to connect (closed, filtered, unresolvable): the texts of a
#: connection error must not turn the mock into a port scanner.
CANNOT_CONNECT = "connection error: could not connect"
#: Seconds a name lookup may take.
RESOLVE_TIMEOUT = 5.0


class TargetRefused(Exception):
    """The target policy (or the own-listener rule) refuses this call; no byte was sent."""


class Unresolvable(Exception):
    """The host name has no address."""


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _addresses(infos: Sequence[Any]) -> list[Address]:
    found: list[Address] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) is not part of it
        found.append(ipaddress.ip_address(raw))
    return found


class Guard:
    def __init__(self, policy: TargetPolicy, own: OwnListeners, itself: str = "the mock") -> None:
        """`itself` names whose listeners `own` holds, in the refusal (the proxy has its own
        guard: "the proxy")."""
        self.policy = policy
        self.own = own
        self.itself = itself

    def pick(self, host: str, port: int, addresses: Sequence[Address]) -> Address:
        """The address to connect to; TargetRefused unless every address is allowed (a name
        with one good and one forbidden address is refused: which one a client would use
        is not ours to guess)."""
        if not addresses:
            raise Unresolvable(host)
        for address in addresses:
            if self.own.is_own(address, port):
                raise TargetRefused(f"{NOT_ALLOWED}: {self.itself}'s own address")
            if not self.policy.allows(host, address):
                raise TargetRefused(NOT_ALLOWED)
        return normalized(addresses[0])

    def resolve(self, host: str, port: int) -> list[Address]:
        """The addresses of `host` (blocking; for worker threads)."""
        literal = _literal(host)
        if literal is not None:
            return [literal]
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise Unresolvable(host) from exc
        return _addresses(infos)

    async def aresolve(self, host: str, port: int) -> list[Address]:
        """The addresses of `host`, without blocking the event loop, in bounded time."""
        literal = _literal(host)
        if literal is not None:
            return [literal]
        try:
            with anyio.fail_after(RESOLVE_TIMEOUT):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError, TimeoutError) as exc:
            raise Unresolvable(host) from exc
        return _addresses(infos)
