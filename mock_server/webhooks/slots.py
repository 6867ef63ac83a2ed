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
    """At most `per_target` attempts in flight per (tenant, target), `total` in all. A slot is
    taken before a delivery is claimed, so a claim's lease never runs while it waits."""

    def __init__(self, per_target: int, total: int) -> None:
        self._per_target = per_target
        self._total = anyio.CapacityLimiter(total)
        # limiters of the pairs in use, with how many tasks hold or wait on each: dropped
        # when none does, so the map holds the pairs in use, not every pair ever seen
        self._pairs: dict[tuple[str, str], tuple[anyio.CapacityLimiter, int]] = {}

    @asynccontextmanager
    async def slot(self, tenant: str, url: str) -> AsyncIterator[None]:
        pair = (tenant, target_of(url))
        limiter, users = self._pairs.get(pair) or (anyio.CapacityLimiter(self._per_target), 0)
        self._pairs[pair] = (limiter, users + 1)
        try:
            async with limiter, self._total:
                yield
        finally:
            limiter, users = self._pairs[pair]
            if users <= 1:
                del self._pairs[pair]
            else:
                self._pairs[pair] = (limiter, users - 1)

    def in_use(self) -> int:
        """Attempts in flight now (all pairs)."""
        return int(self._total.borrowed_tokens)
