"""Token-bucket rate limits per API key and operation group (off unless configured):
429 in the vendor's format with Retry-After, like the real platform under load."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping

import anyio.to_thread
from starlette.responses import Response

from mock_server.http.call import Call
from mock_server.http.render import error_response
from mock_server.store import Store


def take(
    bucket: Mapping[str, float] | None, per_second: float, burst: float, now: float
) -> dict[str, float]:
    """A bucket (None: a full one) after one request at `now`: its tokens, the time they were
    counted, and `wait`, 0.0 if the request may pass, else the seconds until a token is there."""
    tokens = burst if bucket is None else float(bucket["tokens"])
    stamp = now if bucket is None else float(bucket["stamp"])
    tokens = min(burst, tokens + max(now - stamp, 0.0) * per_second)
    if tokens >= 1:
        return {"tokens": tokens - 1, "stamp": now, "wait": 0.0}
    return {"tokens": tokens, "stamp": now, "wait": (1 - tokens) / per_second}


class RateLimit:
    """Groups are looked up by operationId, then API family, then "*" (everything).

    Each (key, group) bucket is a meta value of the store, changed atomically: every worker
    and every instance sharing the store counts against one bucket (a bucket per process
    allowed N processes N times the rate). Keys are stored hashed: the state holds no key
    that would authenticate."""

    def __init__(self, limits: Mapping[str, Mapping[str, float]], store: Store) -> None:
        self.limits = limits
        self._store = store

    def _group(self, op_id: str, family: str) -> str | None:
        return next((g for g in (op_id, family, "*") if g in self.limits), None)

    def _wait(self, key: str, group: str) -> float:
        limit = self.limits[group]
        per_second, burst = float(limit["per_second"]), float(limit.get("burst", 1))
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        bucket = self._store.update_meta(
            f"ratelimit.{group}.{digest}",
            lambda old: take(old, per_second, burst, time.time()),  # wall time: any host's
        )
        return float(bucket["wait"])

    async def refusal(self, call: Call) -> Response | None:
        """The 429 for a request over its key's limit, or None."""
        if not self.limits:
            return None
        op = call.found[0] if call.found else None
        group = self._group(op.operation_id, op.family) if op else None
        key = call.api_key
        if group is None or not key:
            return None
        wait = await anyio.to_thread.run_sync(self._wait, key, group)  # a store write
        if wait <= 0:
            return None
        retry = str(max(1, math.ceil(wait)))
        return error_response(
            op.family if op else None,
            429,
            f"Rate limit exceeded for {group}: retry after {retry} s",
            headers={"Retry-After": retry},
        )
