"""Route a request to its spec operation, validate it, call the handler, render errors."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from mock_server.errors import DomainError
from mock_server.http.call import Call
from mock_server.http.context import Handler, HandlerContext
from mock_server.http.render import domain_error_response, error_response, rejected_response
from mock_server.http.validation import RequestRejected, RequestValidator, ValidRequest
from mock_server.runtime import Runtime
from mock_server.services import Services
from mock_server.spec import SpecBundle


class Dispatcher:
    """Where the edge sends every request the spec describes (`handle`), and Starlette's
    router every path of the app's own prefixes that none of its routes serves
    (`unrouted`)."""

    def __init__(
        self,
        runtime: Runtime,
        handlers: Mapping[str, Handler],
        services: Services,
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

    def _unknown(self, method: str, path: str) -> Response:
        """404 (or 405 when the path serves other methods) in the family's format."""
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

    async def unrouted(self, request: Request) -> Response:
        # a path under an own route's prefix: the edge matched it to no spec operation
        # (Call.found is None for the app's own paths), so it is answered as unknown. The raw
        # path: request.url drops newlines (urlsplit), and the edge saw them.
        return self._unknown(request.method, request.scope["path"])

    async def handle(self, request: Request, call: Call) -> Response:
        if call.found is None:
            return self._unknown(call.method, call.path)
        op, params = call.found
        handler = self.handlers.get(op.operation_id)
        if handler is None:
            return error_response(op.family, 501, f"tunemock does not serve {op.operation_id} yet")
        valid: ValidRequest | None = None
        try:
            valid = await self.validator.validate(request, call.headers, op, params)
            ctx = HandlerContext(
                valid=valid,
                call=call,
                tenant=call.tenant or "",
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
            if valid is not None:
                await valid.close()  # an uploaded form's spooled files
