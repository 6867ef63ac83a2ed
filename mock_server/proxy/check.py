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
from starlette.types import Scope

from contracts.checks import RESPONSE_CHECKS, _declared, body_conforms
from contracts.errors import CheckFailure
from mock_server.http.call import first_values
from mock_server.http.request_body import Replay
from mock_server.http.schema_check import SchemaCheck
from mock_server.http.validation import RequestRejected, RequestValidator
from mock_server.spec import Operation, SpecBundle
from mock_server.spec.schemas import first_problem, schema_validator
from mock_server.spec.walk import escape

#: `where: message` of `first_problem`, and the property a `required` message names: a
#: missing field's pointer then names the field itself, not the object that lacks it
_WHERE = re.compile(r"^(?:(?P<where>[^\s:]+): )?(?P<message>.*)$", re.DOTALL)
_MISSING = re.compile(r"^'(?P<name>[^']+)' is a required property")


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
    spec: str = ""  # where in the family's spec document the broken rule sits, `#/...`

    def line(self) -> str:
        """The one line printed for it: operation, pointer, received vs documented."""
        where = self.pointer or "(whole)"
        return (
            f"violation {self.direction} {self.operation} {where}: "
            f"Received: {self.received} / Documented: {self.documented}"
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _fragment(pointer: str) -> str:
    """`#/...` of `file.yaml#/...`."""
    return pointer[pointer.index("#") :] if "#" in pointer else pointer


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _pointer_of_dotted(path: str) -> str:
    """`advance_parameters.iterations` / `data_urls[0]` (the mock's detail paths) as a JSON
    pointer; '' for `(body)`."""
    if path in ("", "(body)"):
        return ""
    parts = re.findall(r"[^.\[\]]+", path)
    return "".join(f"/{_escape(p)}" for p in parts)


class ResponseChecker:
    """The harness's response checks give the verdict; where the body breaks its schema, the
    mock's own schema check (the one that explains a discriminated oneOf by its chosen
    branch) says where, one violation per place, as a JSON pointer."""

    def __init__(self, bundle: SpecBundle) -> None:
        self.bundle = bundle
        self._schemas: dict[tuple[str, int, str], tuple[SchemaCheck, Any] | None] = {}

    def violations(
        self, op: Operation, path: str, answer: httpx.Response, body_complete: bool
    ) -> list[Violation]:
        """Every response check that fails on `answer`. When the proxy did not keep the
        whole body (larger than it buffers), the body's schema is not checked."""
        found: list[Violation] = []
        for check in RESPONSE_CHECKS:
            if check is body_conforms and not body_complete:
                continue
            try:
                check(self.bundle, op, answer)
            except CheckFailure as failure:
                explained = self._explain(op, answer) if check is body_conforms else []
                for pointer, received, documented, spec in explained or [
                    ("", failure.received, failure.documented, f"{op.pointer}/responses")
                ]:
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
                            documented,
                            spec,
                        )
                    )
        return found

    def _explain(self, op: Operation, answer: httpx.Response) -> list[tuple[str, str, str, str]]:
        media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        schema = self._schema(op, answer.status_code, media)
        if schema is None:
            return []
        check, raw = schema
        try:
            body = answer.json()
            problems = check.problems(body)
        except (ValueError, RecursionError):
            return []
        found = []
        for p in problems:
            pointer, message = _pointer_of_dotted(str(p["path"])), str(p["message"])
            if p["rule"] in ("oneOf", "anyOf"):
                # no discriminator names the branch: explain the branch that came closest
                pointer, message = _closest(self.bundle, op, raw, body) or (pointer, message)
            spec = _fragment(str(p["pointer"]))
            found.append((pointer, message, f"{p['rule']} at {p['pointer']}", spec))
        return found

    def _schema(self, op: Operation, status: int, media: str) -> tuple[SchemaCheck, Any] | None:
        key = (op.operation_id, status, media)
        if key not in self._schemas:
            # `_declared` is the harness's own lookup of the answer documented for a status
            # (exact, then 2XX, then default): the same answer its checks judged against
            content = (_declared(self.bundle, op, status) or {}).get("content") or {}
            schema = (content.get(media) or {}).get("schema")
            doc = self.bundle.documents[op.family]
            where = f"{op.pointer}/responses/{status}/content/{escape(media)}/schema"
            self._schemas[key] = (SchemaCheck(doc, where, schema), schema) if schema else None
        return self._schemas[key]


def _closest(bundle: SpecBundle, op: Operation, schema: Any, body: Any) -> tuple[str, str] | None:
    problem = first_problem(schema_validator(bundle.documents[op.family], schema), body)
    found = _WHERE.match(problem or "")
    if problem is None or found is None:
        return None
    pointer = f"/{found.group('where')}" if found.group("where") else ""
    missing = _MISSING.match(found.group("message"))
    if missing:
        pointer += "/" + escape(missing.group("name"))
    return pointer, found.group("message")


async def request_violations(
    validator: RequestValidator,
    op: Operation,
    path_params: Mapping[str, str],
    scope: Scope,
    body: bytes,
) -> list[Violation]:
    """What the mock would refuse in this request (the whole body was read), as violations."""
    request = Request(scope, Replay(body))
    headers = first_values(scope.get("headers") or [])
    try:
        valid = await validator.validate(request, headers, op, path_params)
    except RequestRejected as rejected:
        return _from_rejection(op, scope["path"], rejected)
    await valid.close()
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
            _pointer_of_dotted(str(detail.get("path", ""))),
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
        _fragment(documented) if documented else f"{op.pointer}/requestBody",
    )
