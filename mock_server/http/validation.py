"""Check a request against its operation's spec before a handler sees it: parameters, body size,
media type, syntax, then schema. Each client mistake is one `RequestRejected`."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from mock_server.http.call import call_of
from mock_server.http.request_schemas import (
    FORM_MEDIA_TYPES,
    BodyPlan,
    Detail,
    MediaPlan,
    OperationPlan,
    ParamPlan,
    compile_operation,
    dotted,
    is_json,
)
from mock_server.spec import Operation, SpecBundle, SpecDocument
from mock_server.texts import describe, find_unpaired, may_hold_surrogates, visible

__all__ = ["RequestRejected", "RequestValidator", "ValidRequest"]

_DIGITS = re.compile(r"[0-9]+")


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to make, one per request
class ValidRequest:
    """A request that passed every check of its operation, with its inputs parsed."""

    operation: Operation
    path_params: Mapping[str, str]
    query: Mapping[str, Any]  # declared query params present, coerced to their schema types
    media_type: str | None  # e.g. "application/json"; None when no body
    # Parsed JSON; for forms a dict of field -> value (coerced like query params), UploadFile,
    # or a list of those for array fields; None without a body.
    body: Any


class RequestRejected(Exception):
    """A client mistake found before the handler ran; the caller answers it in the vendor's
    error format. `details`: [{"path", "rule", "pointer", "message"}], empty unless a schema
    or parameter check failed."""

    def __init__(self, status: int, message: str, details: Sequence[Detail] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details: list[Detail] = list(details)


class _NotJson(ValueError):
    """A token Python's json module accepts but JSON does not (NaN, Infinity, 1e999)."""


def _reject_constant(token: str) -> Any:
    raise _NotJson(f"{token} is not a valid JSON value")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NotJson(f"number {token} is out of range")
    return value


#: one decoder for every body (json.loads with hooks builds a new one per call)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def parse_json(data: bytes) -> Any:
    """The JSON value of a body; 400 saying where and why it is not JSON."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"Malformed JSON body: invalid UTF-8 at byte {exc.start}"
        raise RequestRejected(400, message) from exc
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        where = f"at line {exc.lineno}, column {exc.colno} (char {exc.pos})"
        raise RequestRejected(400, f"Malformed JSON body: {exc.msg} {where}") from exc
    except ValueError as exc:  # _NotJson, or an integer with more digits than Python converts
        raise RequestRejected(400, f"Malformed JSON body: {exc}") from exc
    except RecursionError:
        raise RequestRejected(400, "Malformed JSON body: nested too deeply") from None


def media_type_of(content_type: str | None) -> str | None:
    """`application/json` of `Application/JSON; charset=utf-8`; None when absent or empty."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _header(request: Request, name: str) -> str | None:
    """A header's first value, from the edge's `Call` when there is one (read once)."""
    call = call_of(request.scope)
    return call.headers.get(name) if call is not None else request.headers.get(name)


def _too_large(cap: int) -> RequestRejected:
    return RequestRejected(413, f"Request body too large: the limit is {cap} bytes")


def _check_declared_length(request: Request, cap: int) -> None:
    declared = _header(request, "content-length")
    if declared is not None:
        if declared.isascii() and declared.isdigit() and len(declared) < 10:
            if int(declared) > cap:  # the usual header, read without the regex
                raise _too_large(cap)
            return
        if not _DIGITS.fullmatch(declared.strip()):
            raise RequestRejected(400, f"Invalid Content-Length header: {declared!r}")
        digits = declared.strip().lstrip("0")
        if len(digits) > 18 or int(digits or "0") > cap:  # int() refuses thousands of digits
            raise _too_large(cap)


async def read_body(request: Request, cap: int) -> bytes:
    """The whole body, refused with 413 once it passes `cap` (at most one chunk over it is held)."""
    _check_declared_length(request, cap)
    chunks: list[bytes] = []
    size = 0
    # ASGI's receive loop as Request.stream() runs it, without its async generator (a
    # measurable share of a small request's time)
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise _too_large(cap)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    # Starlette's own cache: request.body() and request.form() read these bytes from now on.
    request._body = data
    return data


def _unclosed_multipart(content_type: str | None, data: bytes) -> bool:
    """True when a multipart body lacks its closing delimiter, which the parser forgives by
    silently dropping the unfinished part."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        return False  # not multipart, or Starlette's parser reports the missing boundary
    return b"--" + boundary + b"--" not in data


async def parse_form(request: Request, data: bytes, cap: int) -> FormData:
    """The form of a (size-checked) urlencoded or multipart body; 400 when it does not parse."""
    if _unclosed_multipart(_header(request, "content-type"), data):
        raise RequestRejected(400, "Malformed form body: the multipart body is not closed")
    try:
        return await request.form(max_part_size=cap)
    except MultiPartException as exc:  # raised as is outside an app
        raise RequestRejected(400, f"Malformed form body: {exc.message}") from exc
    except HTTPException as exc:  # inside an app Starlette wraps the MultiPartException
        raise RequestRejected(400, f"Malformed form body: {exc.detail}") from exc
    except (FormParserError, ValueError) as exc:
        raise RequestRejected(400, f"Malformed form body: {exc}") from exc


def _check(media: MediaPlan, instance: Any) -> None:
    if media.check is None:
        return
    try:
        problems = media.check.problems(instance)
    except RecursionError:
        raise RequestRejected(400, "Invalid request body: nested too deeply") from None
    if problems:
        first = problems[0]
        message = f"Invalid request body: {first['path']}: {first['message']}"
        raise RequestRejected(400, message, problems)


def _check_text(media: MediaPlan, data: bytes, value: Any) -> None:
    """400 naming the field when a JSON body's text holds an unpaired surrogate (`\\ud800`):
    no answer could carry it back, whichever field or operation it came in (JSON is the
    one body type that can bring one: forms, query strings and paths decode bytes as UTF-8
    with replacement, headers as Latin-1)."""
    if not may_hold_surrogates(data):
        return
    found = find_unpaired(value)
    if found is None:
        return
    path, surrogate = found
    where = visible(dotted(path))
    detail: Detail = {
        "path": where,
        "rule": "unicode",
        "pointer": media.check.pointer if media.check is not None else "",
        "message": f"holds {describe(surrogate)}",
    }
    raise RequestRejected(400, f"Invalid request body: {where}: {detail['message']}", [detail])


def _operation_key(operation: Operation) -> tuple[str, str, str]:
    return operation.family, operation.method, operation.path


@dataclass(frozen=True)
class UploadCaps:
    """Size limits of a multipart operation, from its 413 response in the spec
    (`x-max-bytes` for the whole body, `x-max-file-bytes` per file)."""

    total: int
    per_file: int | None


def _upload_caps(doc: SpecDocument, operation: Operation, default: int) -> UploadCaps:
    too_large = operation.raw.get("responses", {}).get("413") or {}
    if "$ref" in too_large:
        too_large = doc.resolve(too_large["$ref"])
    return UploadCaps(int(too_large.get("x-max-bytes", default)), too_large.get("x-max-file-bytes"))


class _CountingReceive:
    """The request's receive, refusing with 413 once more than `cap` body bytes arrived (a
    multipart body is parsed as it streams, files spooled to disk, never held whole); it
    keeps the last bytes so a missing closing delimiter can still be noticed."""

    def __init__(self, request: Request, cap: int) -> None:
        self._request = request
        self._cap = cap
        self.seen = 0
        self.tail = b""

    async def __call__(self) -> Message:
        message = await self._request.receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self.seen += len(chunk)
            if self.seen > self._cap:
                raise _too_large(self._cap)
            self.tail = (self.tail + chunk)[-512:]
        return message


async def stream_multipart(request: Request, caps: UploadCaps) -> FormData:
    """Parse a multipart body while it streams, with the total and per-file caps."""
    _check_declared_length(request, caps.total)
    receive = _CountingReceive(request, caps.total)
    streaming = Request(request.scope, receive)
    try:
        form = await streaming.form(max_part_size=1024 * 1024)
    except MultiPartException as exc:
        raise RequestRejected(400, f"Malformed form body: {exc.message}") from exc
    except HTTPException as exc:
        raise RequestRejected(400, f"Malformed form body: {exc.detail}") from exc
    except (FormParserError, ValueError) as exc:
        raise RequestRejected(400, f"Malformed form body: {exc}") from exc
    request._form = form  # closed with the request (Dispatcher closes it)
    if receive.seen and _unclosed_multipart(_header(request, "content-type"), receive.tail):
        await form.close()
        raise RequestRejected(400, "Malformed form body: the multipart body is not closed")
    for name, value in form.multi_items():
        size = getattr(value, "size", None)
        if caps.per_file is not None and size is not None and size > caps.per_file:
            await form.close()
            raise RequestRejected(
                413,
                f"File {getattr(value, 'filename', name)!r} in {name} is larger than "
                f"{caps.per_file} bytes",
            )
    return form


def _received(param: ParamPlan, request: Request, path_params: Mapping[str, str]) -> list[str]:
    """The values sent for one declared parameter (the query string is parsed only if asked)."""
    name = param.name
    if param.location == "path":
        return [path_params[name]] if name in path_params else []
    if param.location == "query":
        return request.query_params.getlist(name)
    if param.location == "header":
        return request.headers.getlist(name)
    if param.location == "cookie":
        return [request.cookies[name]] if name in request.cookies else []
    return []


class RequestValidator:
    """Every operation's request rules, compiled once from the specs; `validate()` applies them."""

    def __init__(
        self,
        bundle: SpecBundle,
        max_json_bytes: int = 10 * 1024 * 1024,
        max_form_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.max_json_bytes = max_json_bytes
        self.max_form_bytes = max_form_bytes
        self._plans: dict[tuple[str, str, str], tuple[OperationPlan, UploadCaps]] = {
            _operation_key(op): (
                compile_operation(bundle.documents[op.family], op),
                _upload_caps(bundle.documents[op.family], op, max_form_bytes),
            )
            for op in bundle.operations
        }

    async def validate(
        self, request: Request, operation: Operation, path_params: Mapping[str, str]
    ) -> ValidRequest:
        """The request's checked inputs; RequestRejected (400, 413 or 415) for a client mistake."""
        plan, caps = self._plans[_operation_key(operation)]
        query = self._parameters(plan, request, path_params)
        media_type, body = await self._body(plan.body, request, caps)
        return ValidRequest(operation, dict(path_params), query, media_type, body)

    def _parameters(
        self, plan: OperationPlan, request: Request, path_params: Mapping[str, str]
    ) -> dict[str, Any]:
        if not plan.params:  # most operations: no query string or headers to parse
            return {}
        query: dict[str, Any] = {}
        details: list[Detail] = []
        summary = ""
        for param in plan.params:
            values = _received(param, request, path_params)
            value, problems = param.read(values)
            if problems and not details:
                first = problems[0]["message"]
                where = f"{param.location} parameter {param.name}"
                summary = f"Invalid {where}: {first}" if values else first
            details += problems
            if values and param.location == "query":
                query[param.name] = value
        if details:
            raise RequestRejected(400, summary, details)
        return query

    async def _body(
        self, plan: BodyPlan | None, request: Request, caps: UploadCaps
    ) -> tuple[str | None, Any]:
        if plan is None:
            return None, None  # a body the operation does not declare is ignored, as servers do
        media_type = media_type_of(_header(request, "content-type"))
        media = plan.plan_for(media_type)
        if media_type == "multipart/form-data" and media is not None:
            form = await stream_multipart(request, caps)
            if not form and plan.required:
                raise RequestRejected(400, f"Request body is required ({plan.accepted})")
            return media_type, await self._checked_form(form, media)
        is_form = media_type in FORM_MEDIA_TYPES
        cap = self.max_form_bytes if is_form else self.max_json_bytes
        data = await read_body(request, cap)
        if not data:
            if plan.required:
                raise RequestRejected(400, f"Request body is required ({plan.accepted})")
            return None, None
        if media is None:
            sent = f"Unsupported Content-Type {media_type}" if media_type else "No Content-Type"
            raise RequestRejected(415, f"{sent}: expected {plan.accepted}")
        if is_json(media_type):
            value = parse_json(data)
            _check_text(media, data, value)
            _check(media, value)
            return media_type, value
        if is_form:
            form = await parse_form(request, data, cap)
            return media_type, await self._checked_form(form, media)
        return media_type, data  # other media types reach the handler as raw bytes

    async def _checked_form(self, form: FormData, media: MediaPlan) -> dict[str, Any]:
        body, instance = media.form_values(form.multi_items())
        try:
            _check(media, instance)
        except RequestRejected:
            await form.close()  # the caller gets no form to close on rejection
            raise
        return body
