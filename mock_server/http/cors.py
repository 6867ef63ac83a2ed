"""CORS for browser apps calling the mock (`--cors ORIGINS`, off by default): Starlette's
CORSMiddleware answers preflights and adds the headers on the vendor routes; the admin routes
(`/_mock`) are left out, so a web page can never read or drive the mock's own controls."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

ADMIN_PREFIX = "/_mock"

#: What a browser app may send: every method the vendors' routes take, and any header (the
#: SDKs send x-api-key, content types, the mock's own x-mock-fault).
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class VendorCors:
    """CORSMiddleware around `app` for every path but the admin routes."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=_METHODS,
            allow_headers=["*"],
            expose_headers=["Retry-After"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        admin = path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
        if scope["type"] != "http" or admin:
            await self.app(scope, receive, send)
            return
        await self.cors(scope, receive, send)
