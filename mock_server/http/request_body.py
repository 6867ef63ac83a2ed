"""Reading a request's body within its limits: the declared and the received length, JSON
syntax, urlencoded and multipart forms (multipart parsed as it streams, files spooled to
disk), each client mistake a `RequestRejected` in the vendor's terms."""

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
from starlette.types import Message, Scope

from mock_server.http.schema_check import Detail
from mock_server.spec import Operation, SpecDocument

_DIGITS = re.compile(r"[0-9]+")


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


class Replay:
    """An ASGI `receive` that hands over an already-read body once, then a disconnect: a body
    read whole (to check its size) is parsed again by Starlette's form parser."""

    def __init__(self, body: bytes) -> None:
        self._messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def __call__(self) -> Message:
        if self._messages:
            return self._messages.pop()
        return {"type": "http.disconnect"}


def _too_large(cap: int) -> RequestRejected:
    return RequestRejected(413, f"Request body too large: the limit is {cap} bytes")


def _check_declared_length(headers: Mapping[str, str], cap: int) -> None:
    declared = headers.get("content-length")
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


async def read_body(request: Request, headers: Mapping[str, str], cap: int) -> bytes:
    """The whole body, refused with 413 once it passes `cap` (at most one chunk over it is held).
    `headers`: the request's, lower-case name to first value."""
    _check_declared_length(headers, cap)
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
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _unclosed_multipart(content_type: str | None, data: bytes) -> bool:
    """True when a multipart body lacks its closing delimiter, which the parser forgives by
    silently dropping the unfinished part."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        return False  # not multipart, or Starlette's parser reports the missing boundary
    return b"--" + boundary + b"--" not in data


async def parse_form(scope: Scope, content_type: str | None, data: bytes, cap: int) -> FormData:
    """The form of a (size-checked, already read) urlencoded or multipart body; 400 when it
    does not parse. The caller closes it."""
    if _unclosed_multipart(content_type, data):
        raise RequestRejected(400, "Malformed form body: the multipart body is not closed")
    try:
        return await Request(scope, Replay(data)).form(max_part_size=cap)
    except MultiPartException as exc:  # raised as is outside an app
        raise RequestRejected(400, f"Malformed form body: {exc.message}") from exc
    except HTTPException as exc:  # inside an app Starlette wraps the MultiPartException
        raise RequestRejected(400, f"Malformed form body: {exc.detail}") from exc
    except (FormParserError, ValueError) as exc:
        raise RequestRejected(400, f"Malformed form body: {exc}") from exc


@dataclass(frozen=True)
class UploadCaps:
    """Size limits of a multipart operation, from its 413 response in the spec
    (`x-max-bytes` for the whole body, `x-max-file-bytes` per file)."""

    total: int
    per_file: int | None


def upload_caps(doc: SpecDocument, operation: Operation, default: int) -> UploadCaps:
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


async def stream_multipart(
    request: Request, headers: Mapping[str, str], caps: UploadCaps
) -> FormData:
    """Parse a multipart body while it streams, with the total and per-file caps. The caller
    closes the form."""
    _check_declared_length(headers, caps.total)
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
    if receive.seen and _unclosed_multipart(headers.get("content-type"), receive.tail):
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
