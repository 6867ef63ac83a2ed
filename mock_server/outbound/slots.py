"""Fetch slots: dataset and image fetches run in worker threads of their own, a few per
tenant, never in the shared thread pool. One tenant's slow URLs then wait in that tenant's
queue; another tenant's submit, the dashboard and webhook deliveries never wait for them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


class FetchSlots:
    def __init__(self, per_tenant: int, total: int) -> None:
        self._per_tenant = per_tenant
        # a backstop on threads over every tenant (any key is a tenant); a tenant holds at
        # most `per_tenant` of them, so a tenant waiting in its own queue holds none
        self._total = anyio.CapacityLimiter(total)
        self._tenants: dict[str, tuple[anyio.CapacityLimiter, list[int]]] = {}

    async def run_sync(self, tenant: str, func: Callable[..., T], *args: object) -> T:
        """`func(*args)` in a worker thread, once one of `tenant`'s slots is free."""
        limiter, users = self._tenants.setdefault(
            tenant, (anyio.CapacityLimiter(self._per_tenant), [0])
        )
        users[0] += 1
        try:
            async with limiter:
                return await anyio.to_thread.run_sync(func, *args, limiter=self._total)
        finally:
            users[0] -= 1
            if users[0] == 0:  # no tenant keeps a limiter it is not using
                self._tenants.pop(tenant, None)

    def busy(self, tenant: str) -> int:
        """Calls of `tenant` running or waiting."""
        entry = self._tenants.get(tenant)
        return entry[1][0] if entry else 0
