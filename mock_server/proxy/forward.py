"""Forward one request to the upstream and its answer back, unchanged but for absolute URLs
that name the upstream; the request is checked on the way out, the answer on the way back.

Bodies stream in bounded memory: up to `buffer_bytes` of each is kept to check, rewrite and
record; a larger body (a dataset upload, a model download) streams through, checked for
everything but its schema."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from starlette.types import Receive, Scope, Send

from mock_server.http.validation import RequestValidator
from mock_server.proxy.check import request_violations
from mock_server.proxy.exchange import Books, Exchange, media_of
from mock_server.proxy.hooks import hook_path, registered_url
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
_CREDENTIAL_HEADERS = ("x-api-key", "authorization")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ProxySettings:
    upstream: str  # scheme://host[:port] of the vendor (or of a mock)
    public: str  # scheme://host[:port] clients use to reach the proxy
    bundle: SpecBundle
    record: Path | None = None
    timeout: float = 120.0  # seconds an upstream may take to answer (v1 inference is slow)
    buffer_bytes: int = 1024 * 1024
    keep: int = 1000  # journal entries and violations kept in memory
    # `--webhook-forward URL`: the app's receiver, and the proxy's own receiver as the
    # upstream reaches it (None: where clients reach the proxy)
    webhook_forward: str | None = None
    hook_base: str | None = None
    report: Callable[[str], None] = field(default=_stderr)


class _Body:
    """A request body read up to the buffer size; `stream()` also sends what did not fit."""

    def __init__(self, head: bytes, complete: bool, receive: Receive) -> None:
        self.head, self.complete, self._receive = head, complete, receive

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
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = bool(message.get("more_body", False))
        if not more or size > cap:
            return _Body(b"".join(chunks), not more, receive)


async def _read_answer(chunks: AsyncIterator[bytes], cap: int) -> tuple[bytes, bool]:
    """The answer's first `cap`-odd bytes, and whether that is all of it."""
    kept: list[bytes] = []
    size = 0
    async for chunk in chunks:
        kept.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(kept), False
    return b"".join(kept), True


def _text_pairs(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in raw
        if k.decode("latin-1").lower() not in HOP_BY_HOP
    ]


async def _start(send: Send, status: int, headers: list[tuple[str, str]]) -> None:
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": encoded})


class Forwarder:
    """The proxy's handler for every vendor path (pure ASGI: headers and bytes pass as they
    are, which Starlette's Response classes would normalise)."""

    def __init__(self, settings: ProxySettings, client: httpx.AsyncClient, books: Books) -> None:
        self.settings, self.client, self.books = settings, client, books
        self.rewriter = UrlRewriter(settings.upstream, settings.public)
        self.validator = RequestValidator(settings.bundle)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        target = (scope.get("raw_path") or path.encode()).decode("latin-1")
        target += f"?{query}" if query else ""
        headers = [
            (k, v)
            for k, v in _text_pairs(scope["headers"])
            if k.lower() not in ("host", "accept-encoding")
        ]
        # identity: the proxy reads, checks and rewrites the answer's bytes, which it cannot
        # do to a compressed body without recompressing it (and so changing the bytes)
        headers.append(("accept-encoding", "identity"))
        secrets = [v for k, v in headers if k.lower() in _CREDENTIAL_HEADERS]
        secrets += [v.split(None, 1)[-1] for k, v in headers if k.lower() == "authorization"]
        matched = self.settings.bundle.match(method, path)
        key = next((v for k, v in headers if k.lower() == "x-api-key"), "")
        exchange = Exchange(
            self.books,
            matched[0] if matched else None,
            method,
            path,
            target,
            secrets,
            self.books.tenant(key),
        )
        body = await _read_body(receive, self.settings.buffer_bytes)
        if body is None:
            return
        exchange.request(headers, body.head, body.complete)
        if matched is not None and body.complete:
            exchange.violations += await request_violations(
                self.validator, matched[0], matched[1], scope, body.head
            )
        if self.settings.webhook_forward and body.complete:
            base = (self.settings.hook_base or self.settings.public).rstrip("/")
            family = matched[0].family if matched else None
            hook = base + hook_path(self.settings.bundle, family)
            kind = next((v for k, v in headers if k.lower() == "content-type"), "")
            changed = registered_url(body.head, kind, hook)
            if changed is not None:  # the upstream delivers to the proxy, which passes it on
                body.head = changed
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                headers.append(("content-length", str(len(changed))))
        content: bytes | AsyncIterator[bytes] | None = None
        if body.head or any(k.lower() == "content-length" for k, _ in headers):
            content = body.head if body.complete else body.stream()
        request = self.client.build_request(
            method, self.settings.upstream + target, headers=headers, content=content
        )
        try:
            answer = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await self._unreachable(send, exchange, type(exc).__name__)
            return
        try:
            exchange.answered()
            await self._answer(send, answer, exchange)
        finally:
            await answer.aclose()

    async def _answer(self, send: Send, answer: httpx.Response, exchange: Exchange) -> None:
        media = media_of(answer.headers.get("content-type"))
        textual = media is not None and media.startswith(_TEXTUAL)
        out = [
            (k, self.rewriter.header(v) if k.lower() == "location" else v)
            for k, v in _text_pairs(answer.headers.raw)
        ]
        chunks = answer.aiter_raw()
        try:
            head, complete = await _read_answer(chunks, self.settings.buffer_bytes)
        except httpx.HTTPError as exc:  # it broke off before the client heard anything
            await self._unreachable(send, exchange, f"{type(exc).__name__} in its body")
            return
        if complete:
            sent = self.rewriter.body(head) if textual else head
            if sent != head:
                out = [(k, str(len(sent)) if k.lower() == "content-length" else v) for k, v in out]
            exchange.finish(answer, head, True, len(head))
            await _start(send, answer.status_code, out)
            await send({"type": "http.response.body", "body": sent, "more_body": False})
            return
        if textual and not self.rewriter.keeps_length:
            # rewritten on the fly: its length is known only at the end, so it goes chunked
            out = [(k, v) for k, v in out if k.lower() != "content-length"]
        await _start(send, answer.status_code, out)
        stream = self.rewriter.stream() if textual else None
        held, size = head, len(head)
        async for chunk in chunks:
            piece = stream.feed(held) if stream else held
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            held, size = chunk, size + len(chunk)
        # written down before the last bytes go out: a client holding the whole answer can
        # read its journal entry and violations at once
        exchange.finish(answer, b"", False, size)
        tail = stream.feed(held) + stream.close() if stream else held
        await send({"type": "http.response.body", "body": tail, "more_body": False})

    async def _unreachable(self, send: Send, exchange: Exchange, reason: str) -> None:
        """502 in the vendor's error shape: the upstream refused, timed out or broke off."""
        message = f"tunemock proxy: the upstream did not answer ({reason})"
        exchange.unreachable(message)
        await _start(send, 502, [("content-type", "application/json")])
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.body", "body": body, "more_body": False})
