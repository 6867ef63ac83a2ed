"""Token-bucket rate limits per API key and operation group (off unless configured):
429 in the vendor's format with Retry-After, like the real platform under load."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.responses import Response

from mock_server.http.call import Call
from mock_server.http.render import error_response


@dataclass
class Bucket:
    per_second: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """Take one token: 0.0 if allowed, else the seconds until one is there."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimit:
    """Groups are looked up by operationId, then API family, then "*" (everything)."""

    def __init__(self, limits: Mapping[str, Mapping[str, float]]) -> None:
        self.limits = limits
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def _group(self, op_id: str, family: str) -> str | None:
        return next((g for g in (op_id, family, "*") if g in self.limits), None)

    def refusal(self, call: Call) -> Response | None:
        """The 429 for a request over its key's limit, or None."""
        if not self.limits:
            return None
        op = call.found[0] if call.found else None
        group = self._group(op.operation_id, op.family) if op else None
        key = call.api_key
        if group is None or not key:
            return None
        limit = self.limits[group]
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(
                (key, group),
                Bucket(
                    float(limit["per_second"]),
                    float(limit.get("burst", 1)),
                    float(limit.get("burst", 1)),
                    now,
                ),
            )
            wait = bucket.take(now)
        if wait <= 0:
            return None
        retry = str(max(1, math.ceil(wait)))
        return error_response(
            op.family if op else None,
            429,
            f"Rate limit exceeded for {group}: retry after {retry} s",
            headers={"Retry-After": retry},
        )
