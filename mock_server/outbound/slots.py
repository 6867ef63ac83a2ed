"""Tenant slots: outbound work (fetches in worker threads, webhook attempts) runs a few at
a time per tenant, under a total over every tenant. One tenant's slow peers then wait in
that tenant's queue; another tenant's submit, the dashboard and its deliveries never wait
for them (fetches never use the thread pool that submits and the dashboard share). A
tenant's queue is bounded too: past it, a call is refused (429) instead of waiting, so one
tenant's thousand slow submits hold no more than its bound of connections and tasks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from mock_server.errors import TooManyRequests

T = TypeVar("T")


class TenantSlots:
    def __init__(self, per_tenant: int, total: int, queue: int = 64) -> None:
        self._per_tenant = per_tenant
        self._most = per_tenant + queue  # calls of one tenant under way or waiting
        # a backstop over every tenant (any key is a tenant); a tenant holds at most
        # `per_tenant` of it, and a call waiting in its tenant's queue holds none
        self._total = anyio.CapacityLimiter(total)
        self._tenants: dict[str, tuple[anyio.CapacityLimiter, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def _tenant(self, tenant: str) -> AsyncIterator[None]:
        limiter, users = self._tenants.setdefault(
            tenant, (anyio.CapacityLimiter(self._per_tenant), [0])
        )
        if users[0] >= self._most:
            raise TooManyRequests(
                f"Too many fetches under way for this API key ({users[0]}, at most "
                f"{self._most} with the queued ones): retry when some have finished"
            )
        users[0] += 1
        try:
            async with limiter:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:  # no tenant keeps a limiter it is not using
                self._tenants.pop(tenant, None)

    @contextlib.asynccontextmanager
    async def hold(self, tenant: str) -> AsyncIterator[None]:
        """One of `tenant`'s slots (and one of the total) for the block."""
        async with self._tenant(tenant), self._total:
            yield

    async def run_sync(self, tenant: str, func: Callable[..., T], *args: object) -> T:
        """`func(*args)` in a worker thread, once one of `tenant`'s slots is free."""
        async with self._tenant(tenant):
            return await anyio.to_thread.run_sync(func, *args, limiter=self._total)
