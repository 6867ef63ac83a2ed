"""A bounded copy of one exchange for the request journal: headers with secrets masked and
the first LIMIT bytes of each body (text only; binary bodies are summed up, not kept)."""

from __future__ import annotations

import re
from typing import Any

from starlette.types import Message, Receive, Scope

LIMIT = 4096
SECRET_HEADERS = frozenset(
    {"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"}
    | {"webhook-signature", "x-amz-security-token"}
)
_SECRET_FIELD = re.compile(
    r"""(["']?[\w-]*(?:secret|api_key|apikey|token|password|signature)[\w-]*["']?\s*[:=]\s*["']?)"""
    r"""([^"'&\s,}]+)""",
    re.IGNORECASE,
)
_KEYWORDS = ("secret", "api_key", "apikey", "token", "password", "signature")
_TEXT = ("json", "text/", "x-www-form-urlencoded", "xml", "yaml", "event-stream")


def mask_secret(secret: str) -> str:
    """Enough of a key to tell keys apart, not to use one."""
    if len(secret) <= 6:
        return secret[:1] + "•" * max(len(secret) - 1, 0)
    return f"{secret[:4]}…{secret[-2:]}"


def _headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    out = []
    for name_b, value_b in raw:
        name, value = name_b.decode("latin-1").lower(), value_b.decode("latin-1")
        out.append((name, mask_secret(value) if name in SECRET_HEADERS else value))
    return out


def _body(data: bytes, total: int, headers: list[tuple[str, str]]) -> str:
    if not total:
        return ""
    kind = next((v for k, v in headers if k == "content-type"), "")
    if not any(t in kind for t in _TEXT):
        return f"({total} bytes of {kind or 'unknown type'})"
    text = data.decode("utf-8", "replace")
    lowered = text.lower()
    if any(word in lowered for word in _KEYWORDS):  # the regex backtracks: run it when it can hit
        text = _SECRET_FIELD.sub(lambda m: m.group(1) + mask_secret(m.group(2)), text)
    return text if total <= len(data) else f"{text}\n… ({total} bytes in all)"


class Exchange:
    """Fed by the journal middleware as messages pass; `entry()` is what the journal keeps."""

    def __init__(self, scope: Scope) -> None:
        self._request_headers = list(scope.get("headers") or [])
        self._response_headers: list[tuple[bytes, bytes]] = []
        self._bodies = (bytearray(), bytearray())
        self._totals = [0, 0]

    def _keep(self, side: int, chunk: bytes) -> None:
        self._totals[side] += len(chunk)
        room = LIMIT - len(self._bodies[side])
        if room > 0 and chunk:
            self._bodies[side].extend(chunk[:room])

    def receiving(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self._keep(0, message.get("body", b""))
            return message

        return wrapped

    def sent(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._response_headers = list(message.get("headers") or [])
        elif message["type"] == "http.response.body":
            self._keep(1, message.get("body", b""))

    def entry(self) -> dict[str, Any]:
        sides = {}
        for side, (name, raw) in enumerate(
            (("request", self._request_headers), ("response", self._response_headers))
        ):
            headers = _headers(raw)
            body = _body(bytes(self._bodies[side]), self._totals[side], headers)
            sides[name] = {"headers": headers, "body": body}
        return sides
