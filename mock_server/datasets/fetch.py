"""Download a public URL the way the docs demand: HEAD and GET, with Content-Length;
through the outbound policy (fetch_targets, never the mock itself), within a total deadline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from mock_server.datasets.inspect import DatasetProblem
from mock_server.outbound import (
    CANNOT_CONNECT,
    Guard,
    OwnListeners,
    TargetPolicy,
    call_errors,
    error_class,
)

if TYPE_CHECKING:
    import httpx

#: Bounded outbound calls: a slow or silent host fails the job, never hangs the mock
#: (seconds: the whole read, and the connect).
TIMEOUT = (10.0, 5.0)
MAX_REDIRECTS = 3
#: httpx's timeouts are per read: a host that trickles a byte now and then never trips
#: them. Every read and write of a fetch ends by this many seconds after its start.
DEADLINE = 120.0
#: Used when a caller gives no guard: every target but the mock's own listeners.
_ANY = Guard(TargetPolicy(), OwnListeners())


def _content_length(response: httpx.Response, verb: str, url: str, field: str) -> int:
    raw = response.headers.get("content-length")
    if raw is None or not raw.isdigit():
        raise DatasetProblem(
            f"{field} {url} answered {verb} without a Content-Length header; "
            "public URLs must send it"
        )
    return int(raw)


def fetch_public(
    url: str,
    dest: Path,
    max_bytes: int | None,
    deadline: float = DEADLINE,
    guard: Guard | None = None,
    field: str = "data_source_path",
) -> int:
    """Save the file at `url` to `dest` (streamed, capped); DatasetProblem on any failure,
    its text a status or an error class, never the peer's words, and `field` (the request
    field the URL came in) naming what failed."""
    # imported at the first fetch, not at start (see outbound.call_errors)
    import httpx

    from mock_server.outbound.transport import sync_client

    started = time.monotonic()
    timeout = httpx.Timeout(TIMEOUT[0], connect=TIMEOUT[1])
    try:
        with sync_client(guard or _ANY, timeout, deadline, MAX_REDIRECTS) as client:
            head = client.head(url)
            if head.status_code != 200:
                raise DatasetProblem(
                    f"{field} {url} answered HEAD with {head.status_code}; "
                    "public URLs must answer HEAD and GET with 200"
                )
            size = _content_length(head, "HEAD", url, field)
            if max_bytes is not None and size > max_bytes:
                raise DatasetProblem(
                    f"{field} {url} is {size} bytes; it must be under {max_bytes} bytes"
                )
            with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise DatasetProblem(f"{field} {url} answered GET with {response.status_code}")
                declared = _content_length(response, "GET", url, field)
                return _save(response, dest, declared, max_bytes, f"{field} {url}")
    except httpx.ConnectTimeout as exc:  # the class of every failed connect, as below
        raise DatasetProblem(f"{field} {url} is unreachable: {CANNOT_CONNECT}") from exc
    except httpx.TimeoutException as exc:
        if time.monotonic() - started >= deadline:
            raise DatasetProblem(f"{field} {url} took over {deadline:g} s") from exc
        raise DatasetProblem(f"{field} {url} timed out") from exc
    except call_errors() as exc:
        raise DatasetProblem(f"{field} {url} is unreachable: {error_class(exc)}") from exc


def _save(
    response: httpx.Response, dest: Path, declared: int, max_bytes: int | None, what: str
) -> int:
    written = 0
    with dest.open("wb") as out:
        for chunk in response.iter_raw():  # as it arrives: never the whole body in memory
            written += len(chunk)
            if written > declared or (max_bytes is not None and written > max_bytes):
                raise DatasetProblem(f"{what} sent more bytes than it declared")
            out.write(chunk)
    if written != declared:
        raise DatasetProblem(f"{what} sent {written} of {declared} declared bytes")
    return written
