"""Pure-ASGI middleware of the edge, one concern each (composed in app.create_app)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.clock import iso, utc_now
from mock_server.http.capture import Exchange
from mock_server.http.render import error_response
from mock_server.store import Store

_UNJOURNALED = ("/_mock/requests", "/_mock/ui")


class RequestJournal:
    """Records every request (method, path, status, tenant, latency, fault, and a bounded,
    masked copy of headers and bodies) in the store's bounded journal; outermost, so it sees
    the status the client finally got. The journal's own reads and the dashboard's pages
    (/_mock/ui) stay out of it."""

    def __init__(self, app: ASGIApp, store: Store, keep: int) -> None:
        self.app = app
        self.store = store
        self.keep = keep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_UNJOURNALED):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what a client sees if the app dies before answering
        state = scope.setdefault("state", {})
        exchange = Exchange(scope)

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            exchange.sent(message)
            await send(message)

        try:
            await self.app(scope, exchange.receiving(receive), record_status)
        finally:
            tenant = state.get("tenant")
            if tenant is None and status != 401 and not scope["path"].startswith("/_mock"):
                # refused before auth ran (a fault, a rate limit, a 403): who asked
                tenant = Headers(scope=scope).get("x-api-key", "").strip() or None
            self.store.append_journal(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "tenant": tenant,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                    "fault": state.get("fault"),
                    "at": iso(utc_now()),
                    **exchange.entry(),
                },
                keep=self.keep,
            )


class ApiKeyAuth:
    """`x-api-key` → tenant for operations whose spec requires the key: 401 without one,
    with an unknown one (when the config lists keys) or a disabled one; 403 when the key's
    settings forbid the operation's group (operationId, API family or "*")."""

    def __init__(
        self,
        app: ASGIApp,
        needs_key: Callable[[str, str], tuple[str, str] | None],
        accepted: frozenset[str],
        key_settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.app = app
        self.needs_key = needs_key  # (method, path) -> (operationId, family) if a key is needed
        self.accepted = accepted
        self.settings = key_settings or {}

    def _problem(self, key: str, op_id: str, family: str) -> tuple[int, str] | None:
        if not key:
            return 401, "Missing API key: send it in the x-api-key header"
        if self.accepted and key not in self.accepted:
            return 401, "Invalid API key"
        settings = self.settings.get(key, {})
        if settings.get("disabled"):
            return 401, "API key disabled"
        forbidden = settings.get("forbidden") or ()
        group = next((g for g in (op_id, family, "*") if g in forbidden), None)
        if group is not None:
            return 403, f"This API key has no permission for {op_id} (forbidden: {group})"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = self.needs_key(scope["method"], scope["path"])
        if found is not None:
            key = Headers(scope=scope).get("x-api-key", "").strip()
            problem = self._problem(key, *found)
            if problem:
                await error_response(found[1], *problem)(scope, receive, send)
                return
            scope.setdefault("state", {})["tenant"] = key
        await self.app(scope, receive, send)
