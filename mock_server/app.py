"""The app factory: one Starlette app serving every API family of the contract plus `/_mock`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mock_server.config import Config
from mock_server.http.render import error_response
from mock_server.spec import SpecBundle, load_specs

_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _family_for_path(bundle: SpecBundle, path: str) -> str | None:
    """The family whose mount prefix owns `path` (for answering 404/405 in its format)."""
    for op in bundle.operations:
        if op.prefix and path.startswith(op.prefix + "/"):
            return op.family
    return None


def create_app(config: Config | None = None) -> Starlette:
    """Build the mock for `config` (defaults: in-memory state, real clock, fast timing)."""
    config = config or Config()
    bundle = load_specs(config.spec_dir)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {"status": "ok", "apis": list(bundle.documents), "operations": len(bundle.operations)}
        )

    async def vendor(request: Request) -> Response:
        path, method = request.url.path, request.method
        found = bundle.match(method, path)
        family = found[0].family if found else _family_for_path(bundle, path)
        if found is None:
            allowed = bundle.methods_at(path)
            if allowed:
                return error_response(
                    family, 405, f"Method {method} not allowed on {path}",
                    headers={"Allow": ", ".join(sorted(allowed))},
                )  # fmt: skip
            return error_response(family, 404, f"No such endpoint: {method} {path}")
        op, _params = found
        if not request.headers.get("x-api-key"):
            return error_response(family, 401, "Missing API key: send it in the x-api-key header")
        return error_response(
            family, 501, f"tunemock does not serve {op.operation_id} ({method} {op.path}) yet"
        )

    routes = [
        Route("/_mock/health", health, methods=["GET"]),
        Route("/{path:path}", vendor, methods=_ALL_METHODS),
    ]
    app = Starlette(routes=routes)
    app.state.config = config
    app.state.spec = bundle
    return app
