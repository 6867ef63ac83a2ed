"""The proxy as one ASGI app: its own admin routes under /_mock (health, journal,
violations), every other path forwarded to the upstream."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from mock_server.proxy.check import ResponseChecker
from mock_server.proxy.exchange import Books
from mock_server.proxy.forward import Forwarder, ProxySettings
from mock_server.proxy.hooks import HOOK_PATH, HookForwarder
from mock_server.proxy.ledger import Ledger
from mock_server.proxy.record import Recorder

ADMIN_PREFIX = "/_mock"
#: The proxy's own routes (method, path); every other /_mock path is a 404 of the proxy.
ADMIN_ROUTES = frozenset(
    {
        ("GET", f"{ADMIN_PREFIX}/health"),
        ("GET", f"{ADMIN_PREFIX}/requests"),
        ("GET", f"{ADMIN_PREFIX}/violations"),
        ("DELETE", f"{ADMIN_PREFIX}/violations"),
    }
)
#: Bytes of a webhook delivery read; a larger one is refused (413).
_HOOK_CAP = 1024 * 1024
_LIMIT_DEFAULT, _LIMIT_MAX = 100, 1000


def _limit(request: Request) -> int | Response:
    text = request.query_params.get("limit", str(_LIMIT_DEFAULT))
    if not text.isascii() or not text.isdigit() or not 1 <= int(text[:6]) <= _LIMIT_MAX:
        return JSONResponse(
            {"error": f"limit must be an integer from 1 to {_LIMIT_MAX}, got {text!r}"},
            status_code=400,
        )
    return int(text)


class ProxyApp:
    """`create_proxy_app(settings)`; the upstream client and the recording file open with
    the lifespan and close with it."""

    def __init__(self, settings: ProxySettings) -> None:
        self.settings = settings
        self.ledger = Ledger(settings.keep)
        self.forwarder: Forwarder | None = None
        self.hooks: HookForwarder | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> Any:
        timeout = httpx.Timeout(self.settings.timeout, connect=10.0)
        # redirects are answers the client must see; a large pool so that one slow upstream
        # call never queues another client's
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=20)
        recorder = Recorder(self.settings.record) if self.settings.record else None
        try:
            async with httpx.AsyncClient(
                timeout=timeout, limits=limits, follow_redirects=False, trust_env=False
            ) as client:
                checker = ResponseChecker(self.settings.bundle)
                books = Books(
                    self.ledger, recorder, checker, self.settings.report, self.settings.upstream
                )
                self.forwarder = Forwarder(self.settings, client, books)
                if self.settings.webhook_forward:
                    port = urlsplit(self.settings.public).port or 80
                    self.hooks = HookForwarder(
                        self.settings.bundle, books, self.settings.webhook_forward, port
                    )
                try:
                    yield
                finally:
                    if self.hooks is not None:
                        await self.hooks.aclose()
        finally:
            self.forwarder, self.hooks = None, None
            if recorder is not None:
                recorder.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        hooked = path == HOOK_PATH or path.startswith(HOOK_PATH + "/")
        if hooked and scope["method"] == "POST" and self.hooks is not None:
            named = unquote(path[len(HOOK_PATH) + 1 :]) or None
            await self._hook(scope, receive, send, self.hooks, named)
            return
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self._admin(Request(scope, receive))(scope, receive, send)
            return
        if self.forwarder is None:
            await JSONResponse({"error": "the proxy is not running"}, 503)(scope, receive, send)
            return
        await self.forwarder(scope, receive, send)

    async def _hook(
        self, scope: Scope, receive: Receive, send: Send, hooks: HookForwarder, named: str | None
    ) -> None:
        """One webhook delivery from the upstream, read in bounded memory."""
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in Request(scope, receive).stream():
                chunks.append(chunk)
                size += len(chunk)
                if size > _HOOK_CAP:
                    too_large = {"error": f"a delivery over {_HOOK_CAP} bytes"}
                    await JSONResponse(too_large, 413)(scope, receive, send)
                    return
        except ClientDisconnect:  # the sender went away: nothing arrived
            return
        body = b"".join(chunks)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        status, out, content = await hooks.deliver(headers, body, named)
        await Response(content, status, dict(out))(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        context = self.running()
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await context.__aenter__()
                except Exception as exc:  # told to the server, which refuses to start
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await context.__aexit__(None, None, None)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _admin(self, request: Request) -> Response:
        """The proxy's own routes; other /_mock paths are not the vendor's and not ours."""
        route = (request.method, request.url.path.rstrip("/"))
        if route not in ADMIN_ROUTES:
            return JSONResponse(
                {"error": f"{request.method} {request.url.path} is not a route of the proxy"},
                status_code=404,
            )
        if route == ("GET", f"{ADMIN_PREFIX}/health"):
            return JSONResponse({"status": "ok", "upstream": self.settings.upstream})
        if route in (("GET", f"{ADMIN_PREFIX}/requests"), ("GET", f"{ADMIN_PREFIX}/violations")):
            limit = _limit(request)
            if isinstance(limit, Response):
                return limit
            if route[1].endswith("/requests"):
                return JSONResponse(self.ledger.journal(limit))
            return JSONResponse(self.ledger.violations(limit))
        self.ledger.clear()  # DELETE /_mock/violations
        return Response(status_code=204)


def create_proxy_app(settings: ProxySettings) -> ProxyApp:
    return ProxyApp(settings)
