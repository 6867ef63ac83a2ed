"""What a handler receives: the validated request, the edge's `Call`, the caller's tenant, the
runtime and the app's services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Scope

from mock_server.http.call import Call, base_url_of
from mock_server.http.validation import ValidRequest
from mock_server.runtime import Runtime
from mock_server.services import Services

T = TypeVar("T")


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to make, one per request
class HandlerContext:
    valid: ValidRequest
    call: Call  # the request as the edge classified it
    tenant: str  # the API key that passed the key check; "" on an operation needing none
    scope: Scope
    runtime: Runtime
    services: Services

    @property
    def base_url(self) -> str:
        """scheme://host[:port] the client used: absolute URLs are built on it (worked out
        only by the handlers that build one; a status poll does not)."""
        return base_url_of(self.scope, self.call.headers.get("host"))

    @property
    def body(self) -> Any:
        return self.valid.body

    async def writing(self, call: Callable[..., T], *args: object) -> T:
        """Run `call`, which writes to the store: in a worker thread when the store's writes
        may wait for another process's lock (SQLite, PostgreSQL), never on the event loop;
        inline when they never wait (memory), where the thread hop would cost more than
        the write."""
        if self.runtime.store.writes_may_wait:
            return await anyio.to_thread.run_sync(call, *args)
        return call(*args)


Handler = Callable[[HandlerContext], Awaitable[Response]]


def services_of(connection: HTTPConnection) -> Services:
    """The app's services, for the app's own routes (files, outputs, the dashboard), which
    Starlette calls with the request alone: `create_app` keeps them in the app's state."""
    services = connection.app.state.services
    if not isinstance(services, Services):
        raise TypeError(f"app.state.services is a {type(services).__name__}, not Services")
    return services
