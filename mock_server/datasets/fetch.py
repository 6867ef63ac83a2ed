"""Download a public dataset URL the way the docs demand: HEAD and GET, with Content-Length."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from mock_server.datasets.inspect import DatasetProblem

#: Bounded outbound calls: a slow or silent host fails the job, never hangs the mock.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_REDIRECTS = 3
#: httpx's timeouts are per read: a host that trickles a byte now and then never trips
#: them. The body download stops at this many seconds in all (checked per chunk, so a
#: fetch ends within DEADLINE + one read timeout).
DEADLINE = 120.0


def _content_length(response: httpx.Response, verb: str, url: str) -> int:
    raw = response.headers.get("content-length")
    if raw is None or not raw.isdigit():
        raise DatasetProblem(
            f"data_source_path {url} answered {verb} without a Content-Length header; "
            "public dataset URLs must send it"
        )
    return int(raw)


def fetch_public(url: str, dest: Path, max_bytes: int | None, deadline: float = DEADLINE) -> int:
    """Save the ZIP at `url` to `dest` (streamed, capped); DatasetProblem on any failure."""
    ends = time.monotonic() + deadline
    try:
        with httpx.Client(
            timeout=TIMEOUT, follow_redirects=True, max_redirects=MAX_REDIRECTS
        ) as client:
            head = client.head(url)
            if head.status_code != 200:
                raise DatasetProblem(
                    f"data_source_path {url} answered HEAD with {head.status_code}; "
                    "public dataset URLs must answer HEAD and GET with 200"
                )
            size = _content_length(head, "HEAD", url)
            if max_bytes is not None and size > max_bytes:
                raise DatasetProblem(
                    f"Dataset ZIP is {size} bytes; it must be under {max_bytes} bytes"
                )
            with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise DatasetProblem(
                        f"data_source_path {url} answered GET with {response.status_code}"
                    )
                declared = _content_length(response, "GET", url)
                written = 0
                with dest.open("wb") as out:
                    for (
                        chunk
                    ) in response.iter_raw():  # as it arrives: the deadline is checked per read
                        if time.monotonic() > ends:
                            raise DatasetProblem(
                                f"data_source_path {url} took over {deadline:g} s to download"
                            )
                        written += len(chunk)
                        if written > declared or (max_bytes is not None and written > max_bytes):
                            raise DatasetProblem(
                                f"data_source_path {url} sent more bytes than it declared"
                            )
                        out.write(chunk)
                if written != declared:
                    raise DatasetProblem(
                        f"data_source_path {url} sent {written} of {declared} declared bytes"
                    )
                return written
    except httpx.TooManyRedirects as exc:
        raise DatasetProblem(f"data_source_path {url} redirects too often") from exc
    except httpx.TimeoutException as exc:
        raise DatasetProblem(f"data_source_path {url} timed out") from exc
    except httpx.HTTPError as exc:
        raise DatasetProblem(f"data_source_path {url} is unreachable: {exc}") from exc
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:  # not a URL httpx can use
        raise DatasetProblem(f"data_source_path {url!r} is not a usable URL: {exc}") from exc
