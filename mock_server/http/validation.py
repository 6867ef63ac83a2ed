"""Check a request against its operation's spec before a handler sees it: parameters, body size,
media type, syntax, then schema. Each client mistake is one `RequestRejected`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from mock_server.http.request_body import (
    RequestRejected,
    UploadCaps,
    media_type_of,
    parse_form,
    parse_json,
    read_body,
    stream_multipart,
    upload_caps,
)
from mock_server.http.request_schemas import (
    FORM_MEDIA_TYPES,
    BodyPlan,
    MediaPlan,
    OperationPlan,
    ParamPlan,
    compile_operation,
    is_json,
)
from mock_server.http.schema_check import Detail, dotted
from mock_server.spec import Operation, SpecBundle
from mock_server.texts import describe, find_unpaired, may_hold_surrogates, visible

__all__ = ["RequestRejected", "RequestValidator", "ValidRequest"]


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
    form: FormData | None = None  # the parsed form, its files open until `close()`

    async def close(self) -> None:
        """Closes an uploaded form's spooled files (once the handler is done with them)."""
        if self.form is not None:
            await self.form.close()


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


@dataclass(frozen=True)
class _Rules:
    """One operation's compiled rules."""

    plan: OperationPlan
    caps: UploadCaps


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
        self._rules: dict[tuple[str, str, str], _Rules] = {}
        for op in bundle.operations:
            plan = compile_operation(bundle.documents[op.family], op)
            caps = upload_caps(bundle.documents[op.family], op, max_form_bytes)
            self._rules[_operation_key(op)] = _Rules(plan, caps)

    async def validate(
        self,
        request: Request,
        headers: Mapping[str, str],
        operation: Operation,
        path_params: Mapping[str, str],
    ) -> ValidRequest:
        """The request's checked inputs; RequestRejected (400, 413 or 415) for a client mistake.
        `headers`: the request's, lower-case name to first value (the edge's `Call` has them).
        The caller closes the result (`ValidRequest.close`)."""
        rules = self._rules[_operation_key(operation)]
        query = self._parameters(rules.plan.params, request, path_params)
        media_type, body, form = await self._body(rules.plan.body, request, headers, rules.caps)
        return ValidRequest(operation, dict(path_params), query, media_type, body, form)

    def _parameters(
        self, params: Sequence[ParamPlan], request: Request, path_params: Mapping[str, str]
    ) -> dict[str, Any]:
        if not params:  # most operations: no query string or headers to parse
            return {}
        query: dict[str, Any] = {}
        details: list[Detail] = []
        summary = ""
        for param in params:
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
        self,
        plan: BodyPlan | None,
        request: Request,
        headers: Mapping[str, str],
        caps: UploadCaps,
    ) -> tuple[str | None, Any, FormData | None]:
        """(media type, body for the handler, the form to close when the body is one)."""
        if plan is None:
            # a body the operation does not declare is ignored, as servers do
            return None, None, None
        content_type = headers.get("content-type")
        media_type = media_type_of(content_type)
        media = plan.plan_for(media_type)
        if media_type == "multipart/form-data" and media is not None:
            form = await stream_multipart(request, headers, caps)
            if not form and plan.required:
                raise RequestRejected(400, f"Request body is required ({plan.accepted})")
            return media_type, await self._checked_form(form, media), form
        is_form = media_type in FORM_MEDIA_TYPES
        cap = self.max_form_bytes if is_form else self.max_json_bytes
        data = await read_body(request, headers, cap)
        if not data:
            if plan.required:
                raise RequestRejected(400, f"Request body is required ({plan.accepted})")
            return None, None, None
        if media is None:
            sent = f"Unsupported Content-Type {media_type}" if media_type else "No Content-Type"
            raise RequestRejected(415, f"{sent}: expected {plan.accepted}")
        if is_json(media_type):
            value = parse_json(data)
            _check_text(media, data, value)
            _check(media, value)
            return media_type, value, None
        if is_form:
            form = await parse_form(request.scope, content_type, data, cap)
            return media_type, await self._checked_form(form, media), form
        return media_type, data, None  # other media types reach the handler as raw bytes

    async def _checked_form(self, form: FormData, media: MediaPlan) -> dict[str, Any]:
        body, instance = media.form_values(form.multi_items())
        try:
            _check(media, instance)
        except RequestRejected:
            await form.close()  # the caller gets no form to close on rejection
            raise
        return body
