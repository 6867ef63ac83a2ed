"""Pure-ASGI middleware of the edge, one concern each (composed in app.create_app)."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.clock import iso, utc_now
from mock_server.http.render import error_response
from mock_server.store import Store


class RequestJournal:
    """Records every request (method, path, status, tenant, latency, fault) in the store's
    bounded journal; outermost, so it sees the status the client finally got."""

    def __init__(self, app: ASGIApp, store: Store, keep: int) -> None:
        self.app = app
        self.store = store
        self.keep = keep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_mock/requests"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what a client sees if the app dies before answering
        state = scope.setdefault("state", {})

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.store.append_journal(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "tenant": state.get("tenant"),
                    "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                    "fault": state.get("fault"),
                    "at": iso(utc_now()),
                },
                keep=self.keep,
            )


class ApiKeyAuth:
    """`x-api-key` → tenant for operations whose spec requires the key; 401 without one
    (and, when the config lists keys, with an unknown one)."""

    def __init__(
        self,
        app: ASGIApp,
        needs_key: Callable[[str, str], str | None],
        accepted: frozenset[str],
    ) -> None:
        self.app = app
        self.needs_key = needs_key  # (method, path) -> family if a key is required
        self.accepted = accepted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        family = self.needs_key(scope["method"], scope["path"])
        if family is not None:
            key = Headers(scope=scope).get("x-api-key", "").strip()
            problem = None
            if not key:
                problem = "Missing API key: send it in the x-api-key header"
            elif self.accepted and key not in self.accepted:
                problem = "Invalid API key"
            if problem:
                await error_response(family, 401, problem)(scope, receive, send)
                return
            scope.setdefault("state", {})["tenant"] = key
        await self.app(scope, receive, send)
