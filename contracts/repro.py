"""Reproductions: a request as a curl command line, and the binary bodies those command lines
name (`--data-binary @body-<hash>.bin`), written next to the report that shows them.

A binary body (a dataset zip, an image) pasted into a command line is mojibake that no shell
can send back; the bytes are kept here, bounded, until a report writer saves them.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import httpx

#: Headers a reader does not need to reproduce a request (curl sets its own).
_UNSHOWN = frozenset(
    {"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"}
)
#: A text body longer than this is cut in the command line (it is a repro, not an archive).
MAX_TEXT_CHARS = 2000
#: Binary bodies kept for the writers: at most this many, each at most MAX_BODY_BYTES (a
#: longer one is kept cut and named `...-truncated.bin`, so nobody mistakes it for the original).
MAX_BODIES = 64
MAX_BODY_BYTES = 8 * 1024 * 1024
_BODY_NAME = re.compile(r"@(body-[0-9a-f]{16}(?:-truncated)?\.bin)")

_bodies: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def _is_text(body: bytes) -> bool:
    """UTF-8 without control characters other than whitespace: safe in a command line."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch >= " " or ch in "\t\n\r" for ch in text)


def keep_body(body: bytes) -> str:
    """Keep `body` for the report writers and return the file name a curl names it by."""
    digest = hashlib.sha256(body).hexdigest()[:16]
    truncated = len(body) > MAX_BODY_BYTES
    name = f"body-{digest}{'-truncated' if truncated else ''}.bin"
    with _lock:
        _bodies[name] = body[:MAX_BODY_BYTES]
        _bodies.move_to_end(name)
        while len(_bodies) > MAX_BODIES:
            _bodies.popitem(last=False)
    return name


def curl_of(request: httpx.Request) -> str:
    """The request as a curl command line, the key masked; a binary body as
    `--data-binary @file`, the file written next to the report (see `write_bodies`)."""
    parts = ["curl", "-X", request.method, shlex.quote(str(request.url))]
    for name, value in request.headers.items():
        if name.lower() in _UNSHOWN:
            continue
        shown = "***" if name.lower() == "x-api-key" else value
        parts += ["-H", shlex.quote(f"{name}: {shown}")]
    try:
        body = request.content
    except httpx.RequestNotRead:  # a streamed (multipart) body: not shown
        body = b""
    if body and _is_text(body):
        parts += ["--data-raw", shlex.quote(body.decode("utf-8")[:MAX_TEXT_CHARS])]
    elif body:
        parts += ["--data-binary", f"@{keep_body(body)}"]
    return " ".join(parts)


def write_bodies(curls: Iterable[str | None], folder: Path) -> list[Path]:
    """Write the kept bodies that these command lines name into `folder`; a body no longer
    kept (more than MAX_BODIES since) is skipped."""
    names = {m for curl in curls if curl for m in _BODY_NAME.findall(curl)}
    written: list[Path] = []
    with _lock:
        found = {name: _bodies[name] for name in names if name in _bodies}
    for name, body in sorted(found.items()):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(body)
        written.append(path)
    return written
