"""An app that answers what the request validator made of each request, and helpers to build
requests and read its answers (the request-validation tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message

from mock_server.http.call import first_values
from mock_server.http.validation import RequestRejected, RequestValidator
from mock_server.spec import SpecBundle

#: A tiny purpose-built spec that exercises every rule of the validator.
TINY = Path(__file__).with_name("tiny-spec.yaml")


def headers_of(request: Request) -> dict[str, str]:
    return first_values(request.scope["headers"])


async def _jsonable(value: Any) -> Any:
    if isinstance(value, UploadFile):
        return {"filename": value.filename, "content": (await value.read()).decode()}
    if isinstance(value, list):
        return [await _jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: await _jsonable(v) for k, v in value.items()}
    return value


def echo_app(bundle: SpecBundle, validator: RequestValidator) -> Starlette:
    """Routes every request to its operation and answers what `validate()` made of it."""

    async def endpoint(request: Request) -> JSONResponse:
        found = bundle.match(request.method, request.url.path)
        assert found is not None, request.url.path
        operation, path_params = found
        headers = first_values(request.scope["headers"])
        valid = None
        try:
            valid = await validator.validate(request, headers, operation, path_params)
            return JSONResponse(
                {
                    "operation": valid.operation.operation_id,
                    "path_params": dict(valid.path_params),
                    "query": dict(valid.query),
                    "media_type": valid.media_type,
                    "body": await _jsonable(valid.body),
                }
            )
        except RequestRejected as exc:
            body = {"message": exc.message, "details": exc.details}
            return JSONResponse(body, status_code=exc.status)
        finally:
            if valid is not None:
                await valid.close()

    methods = ["GET", "POST", "PUT"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


@asynccontextmanager
async def serving(bundle: SpecBundle, **caps: int) -> AsyncIterator[httpx.AsyncClient]:
    app = echo_app(bundle, RequestValidator(bundle, **caps))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        yield client


def raw_request(
    path: str, headers: dict[str, str], chunks: Iterator[bytes], method: str = "POST"
) -> tuple[Request, list[int]]:
    """A Request outside any app whose body arrives in `chunks`; counts `receive` calls."""
    calls = [0]

    async def receive() -> Message:
        calls[0] += 1
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope, receive), calls


def only_detail(response: httpx.Response) -> dict[str, Any]:
    details = response.json()["details"]
    assert len(details) == 1, details
    return dict(details[0])
