"""The HTTP edge in one ASGI pass: the request classified once, then the journal, faults, rate
limits and API keys, then the spec's operations straight to the dispatcher and the app's own
routes (files, dashboard) to Starlette's stack.

One pass instead of a middleware each: as middleware every layer re-read the headers and
matched the spec again, and Starlette's router and error middleware tried its routes'
patterns before the catch-all that serves every vendor route, for every request."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.errors import StateUnavailable
from mock_server.http.admin_guard import AdminGuard
from mock_server.http.auth import ApiKeyAuth
from mock_server.http.call import Call, classify
from mock_server.http.capture import Exchange
from mock_server.http.disk import full_disk
from mock_server.http.dispatch import Dispatcher
from mock_server.http.faults import FaultInjection
from mock_server.http.journal import RequestJournal
from mock_server.http.ratelimit import RateLimit
from mock_server.http.replay import Replayer
from mock_server.spec import SpecBundle

Crashed = Callable[[Request, Exception], Awaitable[Response]]


@dataclass(frozen=True)
class EdgeParts:
    """What the edge is made of (built by app.create_app)."""

    spec: SpecBundle
    app_prefixes: tuple[str, ...]  # where the app's own routes start
    journal: RequestJournal
    faults: FaultInjection
    limits: RateLimit
    keys: ApiKeyAuth
    admin: AdminGuard  # /_mock and the dashboard: Host, token, no unasked state changes
    dispatcher: Dispatcher
    crashed: Crashed  # the answer to a bug of the mock (logged by it)
    # one request's store reads (Store.view): a vendor request reads the clock, the fault
    # rules and its job, and the store may ask once whether they changed
    view: Callable[[], AbstractContextManager[None]]
    replay: Replayer | None = None  # `--replay FILE`: recorded answers before the mock's


class Edge:
    """Outermost ASGI app; `app` (Starlette's stack) gets lifespan events and the app's own
    routes, with Starlette's own error handling around them."""

    def __init__(self, app: ASGIApp, parts: EdgeParts) -> None:
        self.app = app
        self.parts = parts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parts = self.parts
        call = classify(scope, parts.spec, parts.app_prefixes)
        started = time.perf_counter()
        exchange = Exchange(scope, receive, send)
        try:
            # the app's own routes are left out: the dashboard's event stream lasts minutes
            with nullcontext() if call.by_app else parts.view():
                await self._guarded(scope, call, exchange.receive, exchange.send)
        except Exception as exc:
            # as Starlette's ServerErrorMiddleware does (it does so itself around the app's own
            # routes): the mock's answer to its own bug (500 in the vendor's format, unless an
            # answer has started), then the error goes on to the server, which logs it. A
            # full disk (507) or an unreachable state database (503) is answered and logged
            # by `crashed`, and is no bug to raise.
            expected = full_disk(exc) is not None or isinstance(exc, StateUnavailable)
            if call.by_app:
                if expected and exchange.answered:
                    return
                raise
            crash = await parts.crashed(Request(scope), exc)
            if not exchange.answered:
                await crash(scope, receive, send)
            if not expected:
                raise
        finally:
            if not parts.journal.skips(call.path):
                parts.journal.record(call, exchange, started)

    async def _guarded(self, scope: Scope, call: Call, receive: Receive, send: Send) -> None:
        parts = self.parts
        # the admin guard first: a refused admin request reaches nothing (faults exempt /_mock)
        refusal = parts.admin.refusal(scope, call)
        if refusal is None:
            refusal, send = await parts.faults.apply(scope, call, send)
        if refusal is None:
            # a limited request never reaches a handler; the tenant is known before one runs
            refusal = await parts.limits.refusal(call) or parts.keys.refusal(call)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if parts.replay is not None and not _admin(call.path):
            given = await parts.replay.answer(scope, call, receive, send)
            if given is None:  # answered from the recording
                return
            receive = given
        if call.by_app:
            await self.app(scope, receive, send)
        else:
            response = await parts.dispatcher.handle(Request(scope, receive, send), call)
            await response(scope, receive, send)


def _admin(path: str) -> bool:
    return path == "/_mock" or path.startswith("/_mock/")


class MockApp(Starlette):
    """Starlette with the mock's `Edge` outermost but for `outer` (wrapped around the edge,
    outermost first): Starlette's own middleware (errors, exceptions) wraps only the routes
    the app serves itself."""

    def __init__(
        self, parts: EdgeParts, outer: Sequence[Middleware] = (), **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.edge_parts = parts
        self.outer = list(outer)

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = Edge(super().build_middleware_stack(), self.edge_parts)
        for cls, args, kwargs in reversed(self.outer):
            app = cls(app, *args, **kwargs)
        return app
