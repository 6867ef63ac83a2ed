"""What every outbound call shares: the error class a tenant may see, and a capped read of
a peer's answer."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from mock_server.outbound.guard import CANNOT_CONNECT, NOT_ALLOWED, TargetRefused, Unresolvable

TIMED_OUT = "timeout"
BROKEN = "connection error: no usable answer"
#: Refused like a forbidden target (never retried): no request can be made of it.
BAD_URL = f"{NOT_ALLOWED}: invalid URL"
#: Bytes of a peer's answer read and kept, at most.
MAX_ANSWER_BYTES = 2048

if TYPE_CHECKING:
    import httpx


@functools.cache
def call_errors() -> tuple[type[Exception], ...]:
    """What a failed call can raise: the policy's refusals, httpx's errors (InvalidURL is not
    an HTTPError), a deadline, and what URL parsing raises on garbage. A function, for
    `except call_errors()`: httpx is imported by the first call, not by a mock that makes
    none (its import, with the rich console its CLI pulls in, is a good part of a start)."""
    import httpx

    return (
        TargetRefused,
        Unresolvable,
        httpx.HTTPError,
        httpx.InvalidURL,
        TimeoutError,
        ValueError,
        UnicodeError,
    )


def error_class(exc: BaseException) -> str:
    """The one-line class of a failed call. Never the OS's words: "Connection refused"
    against a timeout would tell closed ports from filtered ones (a port scanner)."""
    import httpx

    if isinstance(exc, TargetRefused):
        return str(exc) or NOT_ALLOWED
    if isinstance(exc, Unresolvable | httpx.ConnectError | httpx.ConnectTimeout):
        return CANNOT_CONNECT
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return TIMED_OUT
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.HTTPError):
        return BROKEN
    return BAD_URL  # httpx.InvalidURL, ValueError, UnicodeError: not a URL httpx can use


async def read_capped(response: httpx.Response, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """At most `limit` bytes of a streamed answer, as sent (no decompression: a small
    gzip bomb stays small); the rest is never read."""
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk[: limit - len(kept)]
        if len(kept) >= limit:
            break
    return bytes(kept)
