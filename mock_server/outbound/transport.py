"""httpx clients whose every connection passes the Guard, made at connect time.

The check sits in httpcore's network backend (its documented extension point), so it
runs for every connection httpx opens, redirects included, and the socket connects to the
very address that was checked: DNS rebinding between check and connect cannot happen.
TLS still verifies the URL's host name (httpcore passes it to start_tls separately).
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from mock_server.outbound.guard import Guard

SocketOptions = Iterable[Any] | None


class _GuardedAsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, guard: Guard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.AsyncNetworkStream:
        address = self._guard.pick(host, port, await self._guard.aresolve(host, port))
        return await self._inner.connect_tcp(
            str(address), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not an outbound target")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    """Every read and write ends by the deadline: httpx's timeouts are per operation, so
    a peer that trickles a byte now and then (headers or body) would never trip them."""

    def __init__(self, inner: httpcore.NetworkStream, ends: float) -> None:
        self._inner = inner
        self._ends = ends

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._ends - time.monotonic()
        if left <= 0:
            raise error("the call's total time is up")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._left(timeout, httpcore.ConnectTimeout)
        secured = self._inner.start_tls(ssl_context, server_hostname, left)
        return _DeadlineStream(secured, self._ends)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedSyncBackend(httpcore.NetworkBackend):
    def __init__(self, guard: Guard, ends: float) -> None:
        self._guard = guard
        self._ends = ends
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.NetworkStream:
        address = self._guard.pick(host, port, self._guard.resolve(host, port))
        left = self._ends - time.monotonic()
        if left <= 0:
            # out of time before trying: not a failed connect, which must read the same
            # for every port (closed, filtered)
            raise httpcore.ReadTimeout("the call's total time is up")
        timeout = left if timeout is None else min(timeout, left)
        stream = self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
        return _DeadlineStream(stream, self._ends)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not an outbound target")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # one per process, made at the first client: loading the CA bundle is the dearest part
    # of making a client, and every client verifies against the same bundle
    return httpx.create_ssl_context(trust_env=False)


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, guard: Guard) -> None:
        # no proxies from the environment: a proxy would make the connection, unchecked
        super().__init__(verify=_ssl_context(), trust_env=False)
        # httpx takes no network backend, so its pool is replaced by one that has ours
        # (same settings as httpx's defaults)
        limits = httpx.Limits()  # httpx's defaults (httpcore's own pool allows only 10)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedAsyncBackend(guard),
        )


class _SyncTransport(httpx.HTTPTransport):
    def __init__(self, guard: Guard, ends: float) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(), network_backend=_GuardedSyncBackend(guard, ends)
        )


def async_client(guard: Guard, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """A client for many calls (webhook deliveries); each call's total time is the caller's
    to bound (anyio.fail_after)."""
    return httpx.AsyncClient(
        transport=_AsyncTransport(guard), timeout=timeout, follow_redirects=False, trust_env=False
    )


def sync_client(
    guard: Guard, timeout: httpx.Timeout, deadline: float, max_redirects: int = 0
) -> httpx.Client:
    """A client for one fetch (in a worker thread) that ends within `deadline` seconds from
    now, whatever the peer does."""
    ends = time.monotonic() + deadline
    return httpx.Client(
        transport=_SyncTransport(guard, ends),
        timeout=timeout,
        follow_redirects=max_redirects > 0,
        max_redirects=max_redirects,
        trust_env=False,
    )
