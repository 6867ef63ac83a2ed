"""Send slots shared per tenant and target: a target that hangs or is slow holds its own few
slots and no one else's, so other tenants' deliveries go out on time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio


def target_of(url: str) -> str:
    """Where a URL sends to (scheme, host, port): the paths of one receiver share its slots."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port}"
    except ValueError:  # a malformed URL (its attempt fails in the sender): slots of its own
        return url


class SendSlots:
    """At most `per_target` attempts in flight per (tenant, target), `per_tenant` per tenant
    and `total` in all. The tenant's cap keeps one tenant's many hanging targets from taking
    every slot; a slot is taken before a delivery is claimed, so a claim's lease never runs
    while it waits."""

    def __init__(self, per_target: int, total: int, per_tenant: int | None = None) -> None:
        self._caps = {"pair": per_target, "tenant": per_tenant or max(per_target, total // 4)}
        self._total = anyio.CapacityLimiter(total)
        # limiters in use, with how many tasks hold or wait on each: dropped when none does,
        # so the map holds what is in use, not every tenant and pair ever seen
        self._held: dict[tuple[str, ...], tuple[anyio.CapacityLimiter, int]] = {}

    def _take(self, key: tuple[str, ...]) -> anyio.CapacityLimiter:
        limiter, users = self._held.get(key) or (anyio.CapacityLimiter(self._caps[key[0]]), 0)
        self._held[key] = (limiter, users + 1)
        return limiter

    def _drop(self, key: tuple[str, ...]) -> None:
        limiter, users = self._held[key]
        if users <= 1:
            del self._held[key]
        else:
            self._held[key] = (limiter, users - 1)

    @asynccontextmanager
    async def slot(self, tenant: str, url: str) -> AsyncIterator[None]:
        keys = (("pair", tenant, target_of(url)), ("tenant", tenant))
        pair, own = (self._take(key) for key in keys)
        try:
            async with pair, own, self._total:
                yield
        finally:
            for key in keys:
                self._drop(key)

    def in_use(self) -> int:
        """Attempts in flight now (all pairs)."""
        return int(self._total.borrowed_tokens)
