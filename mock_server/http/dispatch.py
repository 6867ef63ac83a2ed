"""Route a request to its spec operation, validate it, call the handler, render errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.errors import DomainError
from mock_server.http.call import call_of
from mock_server.http.context import Handler, HandlerContext
from mock_server.http.render import domain_error_response, error_response, rejected_response
from mock_server.http.validation import RequestRejected, RequestValidator
from mock_server.runtime import Runtime
from mock_server.spec import SpecBundle


class Dispatcher:
    """The catch-all endpoint: everything the spec describes goes through here."""

    def __init__(
        self,
        runtime: Runtime,
        handlers: Mapping[str, Handler],
        services: Mapping[str, Any],
        validator: RequestValidator,
    ) -> None:
        self.runtime = runtime
        self.handlers = handlers
        self.services = services
        self.validator = validator
        self.bundle: SpecBundle = runtime.spec

    def family_for_path(self, path: str) -> str | None:
        """The family whose mount prefix owns `path` (to answer 404/405 in its format)."""
        for op in self.bundle.operations:
            if op.prefix and path.startswith(op.prefix + "/"):
                return op.family
        return None

    async def handle(self, request: Request) -> Response:
        # the raw path: request.url drops newlines (urlsplit), the middleware saw them
        path, method = request.scope["path"], request.method
        call = call_of(request.scope)
        found = call.found if call is not None else self.bundle.match(method, path)
        if found is None:
            family = self.family_for_path(path)
            allowed = self.bundle.methods_at(path)
            if allowed:
                return error_response(
                    family,
                    405,
                    f"Method {method} not allowed on {path}",
                    headers={"Allow": ", ".join(sorted(allowed))},
                )
            parts = path.strip("/").split("/")
            if len(parts) == 2 and parts[0] in ("v1", "v2"):  # the docs' "Model ... not found"
                return error_response(family, 404, f"Model {parts[1]} not found")
            return error_response(family, 404, f"No such endpoint: {method} {path}")
        op, params = found
        handler = self.handlers.get(op.operation_id)
        if handler is None:
            return error_response(op.family, 501, f"tunemock does not serve {op.operation_id} yet")
        try:
            valid = await self.validator.validate(request, op, params)
            ctx = HandlerContext(
                valid=valid,
                tenant=request.scope.get("state", {}).get("tenant", ""),
                scope=request.scope,
                runtime=self.runtime,
                services=self.services,
            )
            return await handler(ctx)
        except RequestRejected as exc:
            return rejected_response(op.family, exc.status, exc.message, exc.details)
        except DomainError as exc:
            return domain_error_response(op.family, exc)
        finally:
            await request.close()  # closes an uploaded form's temp files
