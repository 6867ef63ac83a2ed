"""What a handler receives: the validated request, the caller's tenant, the runtime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from mock_server.http.validation import ValidRequest
from mock_server.runtime import Runtime


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to make, one per request
class HandlerContext:
    valid: ValidRequest
    tenant: str
    base_url: str  # scheme://host[:port] the client used: absolute URLs are built on it
    runtime: Runtime
    services: Mapping[str, Any]  # domain services by family name

    @property
    def body(self) -> Any:
        return self.valid.body


Handler = Callable[[HandlerContext], Awaitable[Response]]
