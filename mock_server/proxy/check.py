"""Each exchange checked against the contract with the validators the mock and the harness
use: requests through the mock's `RequestValidator`, answers through the harness's named
response checks. Findings are `Violation`s; nothing here changes what passes through."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import Message, Scope

from contracts.checks import RESPONSE_CHECKS, body_conforms
from contracts.errors import CheckFailure
from mock_server.http.validation import RequestRejected, RequestValidator
from mock_server.spec import Operation, SpecBundle

#: `'finetune_id' is a required property`: the pointer then names the missing field itself,
#: not its parent (jsonschema reports a missing property at the object that lacks it).
_MISSING = re.compile(r"^'(?P<name>[^']+)' is a required property")
#: `a/b/0: message`, how the harness's `body_conforms` says where the body breaks its schema.
_WHERE = re.compile(r"^(?P<where>[^:\s]*): (?P<message>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Violation:
    """One way one exchange breaks the contract. `pointer` is a JSON pointer into what was
    received (the request or the answer body; '' for the whole, e.g. a status code)."""

    direction: str  # "request" or "response"
    operation: str
    method: str
    path: str
    status: int | None
    check: str
    pointer: str
    received: str
    documented: str

    def line(self) -> str:
        """The one line printed for it: operation, pointer, received vs documented."""
        where = self.pointer or "(whole)"
        return (
            f"violation {self.direction} {self.operation} {where}: "
            f"Received: {self.received} / Documented: {self.documented}"
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _pointer_of_dotted(path: str) -> str:
    """`advance_parameters.iterations` / `data_urls[0]` (the mock's detail paths) as a JSON
    pointer; '' for `(body)`."""
    if path in ("", "(body)"):
        return ""
    parts = re.findall(r"[^.\[\]]+", path)
    return "".join(f"/{_escape(p)}" for p in parts)


def _missing(pointer: str, message: str) -> str:
    found = _MISSING.match(message)
    return f"{pointer}/{_escape(found.group('name'))}" if found else pointer


def response_violations(
    bundle: SpecBundle, op: Operation, path: str, answer: httpx.Response, body_complete: bool
) -> list[Violation]:
    """Every response check that fails on `answer`. When the proxy did not keep the whole
    body (larger than it buffers), the body's schema is not checked."""
    found: list[Violation] = []
    for check in RESPONSE_CHECKS:
        if check is body_conforms and not body_complete:
            continue
        try:
            check(bundle, op, answer)
        except CheckFailure as failure:
            pointer, received = "", failure.received
            where = _WHERE.match(failure.received) if check is body_conforms else None
            if where is not None:
                raw = where.group("where")
                pointer = "" if raw == "(body)" else "/" + raw
                pointer = _missing(pointer, where.group("message"))
            found.append(
                Violation(
                    "response",
                    op.operation_id,
                    op.method,
                    path,
                    answer.status_code,
                    failure.check,
                    pointer,
                    received,
                    failure.documented,
                )
            )
    return found


class _Replay:
    """An ASGI `receive` that hands over an already-read body once."""

    def __init__(self, body: bytes) -> None:
        self._messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def __call__(self) -> Message:
        if self._messages:
            return self._messages.pop()
        return {"type": "http.disconnect"}


async def request_violations(
    validator: RequestValidator,
    op: Operation,
    path_params: Mapping[str, str],
    scope: Scope,
    body: bytes,
) -> list[Violation]:
    """What the mock would refuse in this request (the whole body was read), as violations."""
    request = Request(dict(scope, state={}), _Replay(body))
    try:
        await validator.validate(request, op, path_params)
    except RequestRejected as rejected:
        return _from_rejection(op, scope["path"], rejected)
    finally:
        form = getattr(request, "_form", None)
        if form is not None:
            await form.close()
    return []


def _from_rejection(op: Operation, path: str, rejected: RequestRejected) -> list[Violation]:
    details: Sequence[Mapping[str, Any]] = rejected.details
    if not details:
        return [_request(op, path, rejected.status, "request_valid", "", rejected.message, "")]
    return [
        _request(
            op,
            path,
            rejected.status,
            f"request_{detail.get('rule', 'schema')}",
            _missing(_pointer_of_dotted(str(detail.get("path", ""))), str(detail.get("message"))),
            str(detail.get("message", "")),
            str(detail.get("pointer", "")),
        )
        for detail in details
    ]


def _request(
    op: Operation,
    path: str,
    status: int,
    check: str,
    pointer: str,
    received: str,
    documented: str,
) -> Violation:
    return Violation(
        "request",
        op.operation_id,
        op.method,
        path,
        None,
        check,
        pointer,
        received,
        documented or f"a valid request to {op.operation_id} (the mock answers {status})",
    )
