"""Token-bucket rate limits per API key and operation group (off unless configured):
429 in the vendor's format with Retry-After, like the real platform under load."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

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

    def __init__(
        self,
        app: ASGIApp,
        limits: Mapping[str, Mapping[str, float]],
        classify: Callable[[str, str], tuple[str, str] | None],
    ) -> None:
        self.app = app
        self.limits = limits
        self.classify = classify  # (method, path) -> (operationId, family) or None
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def _group(self, op_id: str, family: str) -> str | None:
        return next((g for g in (op_id, family, "*") if g in self.limits), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limits:
            await self.app(scope, receive, send)
            return
        found = self.classify(scope["method"], scope["path"])
        group = self._group(*found) if found else None
        key = Headers(scope=scope).get("x-api-key", "")
        if group is None or not key:
            await self.app(scope, receive, send)
            return
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
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            response = error_response(
                found[1] if found else None,
                429,
                f"Rate limit exceeded for {group}: retry after {retry} s",
                headers={"Retry-After": retry},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
