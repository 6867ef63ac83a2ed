"""What a handler receives: the validated request, the caller's tenant, the runtime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from mock_server.http.call import base_url_of
from mock_server.http.validation import ValidRequest
from mock_server.runtime import Runtime


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to make, one per request
class HandlerContext:
    valid: ValidRequest
    tenant: str
    scope: Scope
    runtime: Runtime
    services: Mapping[str, Any]  # domain services by family name

    @property
    def base_url(self) -> str:
        """scheme://host[:port] the client used: absolute URLs are built on it (worked out
        only by the handlers that build one; a status poll does not)."""
        return base_url_of(self.scope)

    @property
    def body(self) -> Any:
        return self.valid.body


Handler = Callable[[HandlerContext], Awaitable[Response]]
