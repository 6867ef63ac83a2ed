"""Forward one request to the upstream and its answer back, unchanged but for absolute URLs
that name the upstream; check both against the contract on the way; journal and record it.

Bodies stream in bounded memory: up to `buffer_bytes` of each is kept to validate, rewrite
and record; a larger body (a dataset upload, a model download) streams through, checked for
everything but its schema."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Message, Receive, Scope, Send

from mock_server.http.validation import RequestValidator
from mock_server.proxy import redact
from mock_server.proxy.check import ResponseChecker, Violation, request_violations
from mock_server.proxy.ledger import Ledger
from mock_server.proxy.record import Recorder
from mock_server.proxy.rewrite import UrlRewriter
from mock_server.spec import SpecBundle

# RFC 9110 §7.6.1 hop-by-hop headers: about one connection, never forwarded
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_TEXTUAL = ("application/json", "text/", "application/xml", "application/javascript")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ProxySettings:
    upstream: str  # scheme://host[:port] of the vendor (or a mock)
    public: str  # scheme://host[:port] clients use to reach the proxy
    bundle: SpecBundle
    record: Path | None = None
    timeout: float = 120.0  # seconds an upstream may take to answer (v1 inference is slow)
    buffer_bytes: int = 1024 * 1024
    keep: int = 1000  # journal entries and violations kept in memory
    report: Callable[[str], None] = field(default=_stderr)


def _media(headers: httpx.Headers) -> str | None:
    return headers.get("content-type", "").split(";")[0].strip().lower() or None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class _Body:
    """A request body read up to the buffer size; `rest` streams what did not fit."""

    def __init__(self, head: bytes, complete: bool, receive: Receive) -> None:
        self.head = head
        self.complete = complete
        self._receive = receive

    async def stream(self) -> AsyncIterator[bytes]:
        yield self.head
        while not self.complete:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                return
            yield message.get("body", b"")
            self.complete = not message.get("more_body", False)


async def _read_body(receive: Receive, cap: int) -> _Body | None:
    """The body, or its first `cap`-odd bytes; None when the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = bool(message.get("more_body", False))
        if not more or size > cap:
            return _Body(b"".join(chunks), not more, receive)


class Forwarder:
    """The proxy's handler for every vendor path (pure ASGI: headers and bytes pass as they
    are, which Starlette's Response classes would normalise)."""

    def __init__(
        self,
        settings: ProxySettings,
        client: httpx.AsyncClient,
        ledger: Ledger,
        recorder: Recorder | None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.ledger = ledger
        self.recorder = recorder
        self.rewriter = UrlRewriter(settings.upstream, settings.public)
        self.validator = RequestValidator(settings.bundle)
        self.checker = ResponseChecker(settings.bundle)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started, at = time.perf_counter(), _now()
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        target = (scope.get("raw_path") or path.encode()).decode("latin-1")
        target += f"?{query}" if query else ""
        body = await _read_body(receive, self.settings.buffer_bytes)
        if body is None:
            return
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in HOP_BY_HOP | {"host", "accept-encoding"}
        ]
        # identity: the proxy reads, checks and rewrites the answer's bytes, which it cannot
        # do to a compressed body without recompressing it (and changing the bytes)
        headers.append(("accept-encoding", "identity"))
        secrets = [v for k, v in headers if k.lower() in ("x-api-key", "authorization")]
        secrets += [v.split(None, 1)[-1] for k, v in headers if k.lower() == "authorization"]
        matched = self.settings.bundle.match(method, path)
        violations: list[Violation] = []
        if matched is not None and body.complete:
            violations += await request_violations(
                self.validator, matched[0], matched[1], scope, body.head
            )
        has_body = bool(body.head) or any(k.lower() == "content-length" for k, _ in headers)
        content: bytes | AsyncIterator[bytes] | None = None
        if has_body:
            content = body.head if body.complete else body.stream()
        request = self.client.build_request(
            method, self.settings.upstream + target, headers=headers, content=content
        )
        record: dict[str, Any] = {
            "at": at,
            "operation": matched[0].operation_id if matched else None,
            "request": {
                "method": method,
                "url": redact.text(target, secrets),
                "headers": redact.headers(headers, secrets),
                "body": self._kept(body.head, body.complete, _request_media(headers), secrets),
            },
        }
        try:
            answer = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await self._unreachable(send, record, violations, started, f"{type(exc).__name__}")
            return
        try:
            await self._answer(scope, send, answer, record, violations, started, secrets)
        finally:
            await answer.aclose()

    async def _answer(
        self,
        scope: Scope,
        send: Send,
        answer: httpx.Response,
        record: dict[str, Any],
        violations: list[Violation],
        started: float,
        secrets: list[str],
    ) -> None:
        upstream_ms = round((time.perf_counter() - started) * 1000, 3)
        media = _media(answer.headers)
        textual = media is not None and media.startswith(_TEXTUAL)
        raw = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in answer.headers.raw
            if k.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        out = [(k, self.rewriter.header(v) if k.lower() == "location" else v) for k, v in raw]
        chunks = answer.aiter_raw()
        head, complete = await _read_answer(chunks, self.settings.buffer_bytes)
        finish = _Finish(self, scope, answer, record, violations, started, secrets, upstream_ms)
        if complete:
            sent = self.rewriter.body(head) if textual else head
            if sent != head:
                out = [(k, str(len(sent)) if k.lower() == "content-length" else v) for k, v in out]
            finish(head, True)
            await _start(send, answer.status_code, out)
            await send({"type": "http.response.body", "body": sent, "more_body": False})
            return
        if textual:  # rewritten on the fly: its length is known only at the end
            out = [(k, v) for k, v in out if k.lower() != "content-length"]
        await _start(send, answer.status_code, out)
        stream = self.rewriter.stream() if textual else None
        held = head
        size = len(head)
        async for chunk in chunks:
            await send(
                {"type": "http.response.body", "body": _pass(stream, held), "more_body": True}
            )
            held = chunk
            size += len(chunk)
        # the journal and violations are written before the last bytes go out: a client that
        # has the whole answer can read them at once
        finish(b"", False, size)
        tail = _pass(stream, held) + (stream.close() if stream else b"")
        await send({"type": "http.response.body", "body": tail, "more_body": False})

    async def _unreachable(
        self,
        send: Send,
        record: dict[str, Any],
        violations: list[Violation],
        started: float,
        reason: str,
    ) -> None:
        message = f"tunemock proxy: the upstream did not answer ({reason})"
        body = json.dumps({"error": message}).encode()
        latency = round((time.perf_counter() - started) * 1000, 3)
        request = record["request"]
        self._journal(request["method"], request["url"], 502, latency, record, violations)
        record["response"] = {"status": 502, "proxy_error": message}
        self._record(record, latency, None)
        await _start(send, 502, [("content-type", "application/json")])
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _kept(self, data: bytes, complete: bool, media: str | None, secrets: list[str]) -> Any:
        if not complete:
            return {"bytes_at_least": len(data), "streamed": True}
        return redact.body(data, media, secrets)

    def _journal(
        self,
        method: str,
        path: str,
        status: int,
        latency: float,
        record: dict[str, Any],
        violations: list[Violation],
    ) -> None:
        entry = {
            "method": method,
            "path": path.split("?", 1)[0],
            "status": status,
            "tenant": None,  # the proxy keeps no key, not even as a tenant name
            "latency_ms": latency,
            "fault": None,
            "operation": record["operation"],
            "flagged": bool(violations),
            "violations": [v.as_json() for v in violations],
        }
        self.ledger.add(entry, violations)
        for violation in violations:
            self.settings.report(violation.line())

    def _record(self, record: dict[str, Any], latency: float, upstream_ms: float | None) -> None:
        if self.recorder is not None:
            record["timing"] = {"elapsed_ms": latency, "upstream_headers_ms": upstream_ms}
            self.recorder.append(record)


class _Finish:
    """What happens once an answer's bytes are known: checks, journal, record."""

    def __init__(
        self,
        forwarder: Forwarder,
        scope: Scope,
        answer: httpx.Response,
        record: dict[str, Any],
        violations: list[Violation],
        started: float,
        secrets: list[str],
        upstream_ms: float,
    ) -> None:
        self.forwarder, self.scope, self.answer = forwarder, scope, answer
        self.record, self.violations, self.started = record, violations, started
        self.secrets, self.upstream_ms = secrets, upstream_ms

    def __call__(self, body: bytes, complete: bool, size: int | None = None) -> None:
        fwd, answer = self.forwarder, self.answer
        matched = fwd.settings.bundle.match(self.scope["method"], self.scope["path"])
        if matched is not None:
            seen = httpx.Response(answer.status_code, headers=answer.headers.raw, content=body)
            self.violations += fwd.checker.violations(
                matched[0], self.scope["path"], seen, complete
            )
        latency = round((time.perf_counter() - self.started) * 1000, 3)
        request = self.record["request"]
        fwd._journal(
            request["method"],
            request["url"],
            answer.status_code,
            latency,
            self.record,
            self.violations,
        )
        kept = fwd._kept(body, complete, _media(answer.headers), self.secrets)
        if not complete:
            kept = {"bytes": size, "streamed": True}
        self.record["response"] = {
            "status": answer.status_code,
            "headers": redact.headers(
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.headers.raw],
                self.secrets,
            ),
            "body": kept,
        }
        self.record["violations"] = [v.as_json() for v in self.violations]
        fwd._record(self.record, latency, self.upstream_ms)


def _request_media(headers: list[tuple[str, str]]) -> str | None:
    for k, v in headers:
        if k.lower() == "content-type":
            return v.split(";")[0].strip().lower() or None
    return None


def _pass(stream: Any, chunk: bytes) -> bytes:
    return stream.feed(chunk) if stream is not None else chunk


async def _read_answer(chunks: AsyncIterator[bytes], cap: int) -> tuple[bytes, bool]:
    kept: list[bytes] = []
    size = 0
    async for chunk in chunks:
        kept.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(kept), False
    return b"".join(kept), True


async def _start(send: Send, status: int, headers: list[tuple[str, str]]) -> None:
    message: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }
    await send(message)
