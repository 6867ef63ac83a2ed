"""A bounded copy of one exchange for the request journal: headers with secrets masked and
the first LIMIT bytes of each body (text only; binary bodies are summed up, not kept).

Secrets are masked as the exchange is captured, before the entry reaches any store: a
`--state` file holds the journal, and must hold no usable key (header, body or path)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from mock_server.clock import iso
from mock_server.store import packing
from mock_server.tenancy import mask_secret

LIMIT = 4096
SECRET_HEADERS = frozenset(
    {"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"}
    | {"webhook-signature", "x-amz-security-token"}
)
_SECRET_FIELD = re.compile(
    r"""(["']?[\w-]*(?:secret|api_key|apikey|token|password|signature|tenant)[\w-]*["']?\s*[:=]\s*["']?)"""
    r"""([^"'&\s,}]+)""",
    re.IGNORECASE,
)
#: what _SECRET_FIELD needs in a body to match at all (a `tenant` field holds a key too:
#: the admin API's job and webhook lists); most bodies have none, and skip the regex
_WORDS = ("secret", "api_key", "apikey", "token", "password", "signature", "tenant")
_WORD_BYTES = tuple(word.encode() for word in _WORDS)
_SECRET_HEADER_NAMES = frozenset(name.encode("latin-1") for name in SECRET_HEADERS)
_TEXT = ("json", "text/", "x-www-form-urlencoded", "xml", "yaml", "event-stream")


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    out = []
    for name_b, value_b in raw:
        name = name_b.decode("latin-1").lower()
        if name in SECRET_HEADERS:  # masked at capture, as UTF-8 (masking again changes nothing)
            out.append((name, mask_secret(value_b.decode("utf-8", "replace"))))
        else:
            out.append((name, value_b.decode("latin-1")))
    return out


def _masked_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[bytes, bytes], ...]:
    """The headers as captured: a secret one's value masked (the rest kept by reference)."""
    return tuple(
        (name, mask_secret(value.decode("latin-1")).encode("utf-8"))
        if name.lower() in _SECRET_HEADER_NAMES
        else (name, value)
        for name, value in raw
    )


def _masked_body(data: bytes) -> bytes:
    """A body's start as captured: `"api_key": "..."`-like fields' values masked."""
    lowered = data.lower()  # then `in`: a scan in C per word, faster than one regex
    if not any(word in lowered for word in _WORD_BYTES):  # the regex only where it can hit
        return data
    text = data.decode("utf-8", "replace")
    return _SECRET_FIELD.sub(lambda m: m.group(1) + mask_secret(m.group(2)), text).encode()


def _body(data: bytes, total: int, headers: list[tuple[str, str]]) -> str:
    if not total:
        return ""
    kind = next((v for k, v in headers if k == "content-type"), "")
    if not any(t in kind for t in _TEXT):
        return f"({total} bytes of {kind or 'unknown type'})"
    text = data.decode("utf-8", "replace")
    lowered = text.lower()
    if any(word in lowered for word in _WORDS):  # the regex backtracks: run it when it can hit
        text = _SECRET_FIELD.sub(lambda m: m.group(1) + mask_secret(m.group(2)), text)
    return text if total <= len(data) else f"{text}\n… ({total} bytes in all)"


class Exchange:
    """One request and its answer as they pass the journal: `receive` and `send` wrap the
    server's, noting the status, the headers and the first LIMIT bytes of each body (chunks
    are kept by reference, and joined once the exchange is over); `sides()` is what the
    journal keeps of them."""

    __slots__ = (
        "_chunks",
        "_receive",
        "_request_headers",
        "_response_headers",
        "_send",
        "_sizes",
        "answered",
        "status",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._request_headers = scope.get("headers") or ()  # servers never change the list
        self._response_headers: Sequence[tuple[bytes, bytes]] = ()
        self._chunks: tuple[list[bytes], list[bytes]] = ([], [])
        self._sizes = [0, 0]
        self._receive = receive
        self._send = send
        self.status = 500  # what a client sees if the app dies before answering
        self.answered = False  # the answer has started

    def _keep(self, side: int, chunk: bytes) -> None:
        size = self._sizes[side]
        if chunk and size < LIMIT:
            self._chunks[side].append(chunk)
        self._sizes[side] = size + len(chunk)

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._keep(0, message.get("body", b""))
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = int(message["status"])
            self.answered = True
            self._response_headers = message.get("headers") or ()
        elif kind == "http.response.body":
            self._keep(1, message.get("body", b""))
        await self._send(message)

    def sides(self) -> _Sides:
        """What the journal keeps of the exchange, as atoms in tuples, which the garbage
        collector stops tracking: a busy journal holds a thousand of them."""
        sizes = self._sizes
        return (
            _masked_headers(self._request_headers),
            _masked_body(b"".join(self._chunks[0])[:LIMIT]),
            sizes[0],
            _masked_headers(self._response_headers),
            _masked_body(b"".join(self._chunks[1])[:LIMIT]),
            sizes[1],
        )


#: (request headers, body start, body size, response headers, body start, body size)
_Sides = tuple[
    tuple[tuple[bytes, bytes], ...], bytes, int, tuple[tuple[bytes, bytes], ...], bytes, int
]


def _side(raw: Iterable[tuple[bytes, bytes]], data: bytes, total: int) -> dict[str, Any]:
    headers = _headers(raw)
    return {"headers": headers, "body": _body(data, total, headers)}


#: (field names, their values, time.time() of the entry, the exchange's sides)
_Raw = tuple[tuple[str, ...], tuple[Any, ...], float, _Sides]
_CODEC = "journal-entry/1"


def _is_headers(value: Any) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(pair, tuple | list)
        and len(pair) == 2
        and isinstance(pair[0], bytes)
        and isinstance(pair[1], bytes)
        for pair in value
    )


class JournalEntry(Mapping[str, Any]):
    """One journal line: the fields `names` = `values`, then `at`, `request` and `response`,
    masked and decoded only when first read. Most lines of a busy mock are never read, and
    formatting them as they were written cost a large share of a request. The exchange
    must be over (the answer sent) when the entry is made; the entry keeps only atoms of it."""

    __slots__ = ("_full", "_raw")

    def __init__(self, names: tuple[str, ...], values: tuple[Any, ...], exchange: Exchange) -> None:
        self._raw: _Raw = (names, values, time.time(), exchange.sides())
        self._full: dict[str, Any] | None = None

    def packed(self) -> tuple[str, _Raw]:
        """What the entry is made of, for a store that writes it to a file (store.packing)."""
        return _CODEC, self._raw

    @classmethod
    def unpacked(cls, raw: Any) -> JournalEntry:
        """The entry `packed` gave, from a file: its shape checked, since the file may be
        another version's or damaged (TypeError/ValueError if it is not an entry's)."""
        names, values, at, sides = raw
        req_h, req_b, req_n, resp_h, resp_b, resp_n = sides
        if not (
            isinstance(names, tuple)
            and all(isinstance(name, str) for name in names)
            and isinstance(values, tuple)
            and len(values) == len(names)
            and isinstance(at, float)
            and all(_is_headers(h) for h in (req_h, resp_h))
            and all(isinstance(b, bytes) for b in (req_b, resp_b))
            and all(isinstance(n, int) for n in (req_n, resp_n))
        ):
            raise TypeError("not a packed journal entry")
        entry = cls.__new__(cls)
        entry._raw = (names, values, at, sides)
        entry._full = None
        return entry

    def _resolved(self) -> dict[str, Any]:
        full = self._full
        if full is None:  # two threads may both get here: they build equal dicts
            names, values, at, (req_h, req_b, req_n, resp_h, resp_b, resp_n) = self._raw
            full = self._full = {
                **dict(zip(names, values, strict=True)),
                "at": iso(datetime.fromtimestamp(at, UTC)),
                "request": _side(req_h, req_b, req_n),
                "response": _side(resp_h, resp_b, resp_n),
            }
        return full

    def __getitem__(self, key: str) -> Any:
        return self._resolved()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())


def register_codec() -> None:
    """Make the entries this module packs readable back from a store's file (store.packing).
    Called where the app builds its store, before any journal is read."""
    packing.register(_CODEC, JournalEntry.unpacked)
