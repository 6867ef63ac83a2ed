"""`--webhook-forward URL`: the upstream's webhook deliveries come through the proxy. A
`webhook_url` a client registers (a JSON request body's top-level field) goes upstream as
the proxy's own receiver; each delivery to it is checked against the spec's `webhooks:`,
journaled and recorded (signature redacted), and forwarded, body and signature headers as
they came, to URL: the app's real receiver. The receiver's answer goes back to the upstream,
so its retries follow the app's answers."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from python_multipart.multipart import parse_options_header

from mock_server.outbound import Guard, OwnListeners, TargetPolicy, call_errors, read_capped
from mock_server.outbound.calls import error_class
from mock_server.outbound.transport import async_client
from mock_server.proxy import redact
from mock_server.proxy.check import Violation
from mock_server.proxy.exchange import Books, media_of
from mock_server.spec import SpecBundle
from mock_server.spec.index import Webhook
from mock_server.spec.loader import SpecDocument
from mock_server.spec.schemas import schema_validator
from mock_server.spec.walk import escape

HOOK_PATH = "/_mock/hooks"
#: Headers of a delivery passed on to the app's receiver (its signature must still verify).
_PASSED = ("content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature")
_CHECK = "webhook_payloads_conform"
_WEBHOOK_PART = re.compile(rb'content-disposition:[^\r\n]*\bname="webhook_url"', re.IGNORECASE)


def registered_url(body: bytes, content_type: str, hook_url: str) -> bytes | None:
    """The body with its `webhook_url` (a JSON object's top-level field, or a multipart
    form's text field) pointed at `hook_url`; None when it has none: it then goes upstream
    as it came."""
    if content_type.lower().startswith("multipart/form-data"):
        return _in_form(body, content_type, hook_url)
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("webhook_url"), str):
        return None
    return json.dumps({**value, "webhook_url": hook_url}, separators=(",", ":")).encode()


def _in_form(body: bytes, content_type: str, hook_url: str) -> bytes | None:
    """The form with the value of its `webhook_url` part replaced, every other byte kept.
    By hand: the multipart libraries parse a form but write none back, and building it
    anew would re-encode the file parts (a dataset's images) for the sake of one field.
    A boundary never occurs inside a part (RFC 7578), so splitting on it is exact."""
    boundary = parse_options_header(content_type)[1].get(b"boundary")
    if not boundary:
        return None
    delimiter = b"--" + boundary
    parts = body.split(delimiter)
    for index, part in enumerate(parts):
        head, blank, value = part.partition(b"\r\n\r\n")
        if blank and _WEBHOOK_PART.search(head) and b"filename=" not in head.lower():
            if not value.endswith(b"\r\n"):
                return None
            parts[index] = head + blank + hook_url.encode() + b"\r\n"
            return delimiter.join(parts)
    return None


def hook_path(bundle: SpecBundle, family: str | None) -> str:
    """The receiver's path for a registration made through an operation of `family`: a
    family with one webhook gets that webhook's own path (its payload names no event);
    others are told apart by the payload's `event`."""
    hooks = [h for h in bundle.webhooks if h.family == family]
    return f"{HOOK_PATH}/{quote(hooks[0].name)}" if len(hooks) == 1 else HOOK_PATH


def _rule_at(doc: SpecDocument, schema: Any, path: Iterable[Any]) -> str:
    """Where in the spec document the broken rule sits: the validator's schema path
    followed from the payload schema, through each `$ref` on the way."""
    pointer, node = "", schema
    for step in path:
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and step != "$ref":
            pointer = str(node["$ref"])
            node = doc.resolve(pointer)
        if not pointer:
            return ""  # an inline schema: no place in the document to name
        pointer += f"/{escape(str(step))}"
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return pointer
    return pointer


def check_delivery(
    bundle: SpecBundle, body: bytes, named: str | None = None
) -> tuple[Webhook | None, str, list[Violation]]:
    """(the webhook of the spec the delivery is, its event, how it breaks it). `named`: the
    webhook its receiver path names; else the payload's `event` names it."""
    try:
        payload: Any = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    event = str(payload.get("event")) if isinstance(payload, dict) else ""
    event = named or event
    hook = next((h for h in bundle.webhooks if h.name == event), None)
    if hook is None:
        return None, event, [_violation("webhook", "", f"event {event!r}", "")]
    doc = bundle.documents[hook.family]
    schema = hook.raw["post"]["requestBody"]["content"]["application/json"]["schema"]
    op = str(hook.raw["post"].get("operationId") or hook.name)
    found = []
    try:
        errors = list(schema_validator(doc, schema).iter_errors(payload))
    except RecursionError:  # nested past what the validator can walk
        return hook, event, [_violation(op, "", "a payload nested too deeply", "")]
    for error in errors:
        pointer = "".join(f"/{escape(str(p))}" for p in error.absolute_path)
        if error.validator == "required":  # name the missing field itself
            missing = str(error.message).split("'")[1] if "'" in error.message else ""
            pointer += f"/{escape(missing)}" if missing else ""
        spec = _rule_at(doc, schema, error.absolute_schema_path)
        found.append(_violation(op, pointer, error.message, spec))
    return hook, event, found


def _violation(op: str, pointer: str, received: str, spec: str) -> Violation:
    documented = "a payload of the spec's webhooks: section"
    if op == "webhook":
        documented = "an event the spec's webhooks: section names"
    return Violation(
        "webhook", op, "POST", HOOK_PATH, None, _CHECK, pointer, received, documented, spec
    )


class HookForwarder:
    """The proxy's receiver: checks, writes down and passes on one delivery."""

    def __init__(self, bundle: SpecBundle, books: Books, target: str, own_port: int) -> None:
        self.bundle, self.books, self.target = bundle, books, target
        # the outbound policy: any address the operator named, never the proxy itself
        guard = Guard(TargetPolicy.parse("any"), OwnListeners(own_port), itself="the proxy")
        self.client = async_client(guard, httpx.Timeout(10.0))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def deliver(
        self, headers: list[tuple[str, str]], body: bytes, named: str | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Check, record and forward one delivery; the answer for the upstream."""
        started = time.perf_counter()
        hook, event, violations = check_delivery(self.bundle, body, named)
        passed = {k.lower(): v for k, v in headers if k.lower() in _PASSED}
        try:
            request = self.client.build_request("POST", self.target, content=body, headers=passed)
            answer = await self.client.send(request, stream=True)
            try:
                kept = await read_capped(answer)
            finally:
                await answer.aclose()
            status, error = answer.status_code, None
            out = [("content-type", answer.headers.get("content-type", "text/plain"))]
        except call_errors() as exc:
            status, error, kept = 502, error_class(exc), b""
            out = [("content-type", "application/json")]
            kept = json.dumps({"error": f"tunemock proxy: the receiver: {error}"}).encode()
        op = str(hook.raw["post"].get("operationId")) if hook else None
        self._write(op, event, headers, body, status, error, violations, started)
        return status, out, kept

    def _write(
        self,
        op: str | None,
        event: str,
        headers: list[tuple[str, str]],
        body: bytes,
        status: int,
        error: str | None,
        violations: list[Violation],
        started: float,
    ) -> None:
        latency = round((time.perf_counter() - started) * 1000, 3)
        found = [v.as_json() for v in violations]
        entry = {
            "method": "POST",
            "path": HOOK_PATH,
            "status": status,
            "tenant": None,
            "latency_ms": latency,
            "fault": None,
            "operation": op,
            "webhook": event,
            "flagged": bool(found),
            "violations": found,
        }
        self.books.ledger.add(entry, violations)
        for violation in violations:
            self.books.report(violation.line())
        if self.books.recorder is None:
            return
        content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
        self.books.recorder.append(
            {
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "kind": "webhook",
                "operation": op,
                "event": event,
                "upstream": self.books.upstream,
                "delivery": {
                    "headers": redact.headers(headers),
                    "body": redact.body(body, media_of(content_type)),
                },
                "forwarded": {"to": redact.text(self.target), "status": status, "error": error},
                "violations": found,
                "timing": {"elapsed_ms": latency},
            }
        )
