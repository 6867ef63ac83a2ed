"""The recorded answers of a `--record` file, queued by what a request asks for: its method,
its path, and the body or query fields that name a job. `take` hands out each queue's
answers in recorded order, once each; a request none is left for is the mock's to answer.

No HTTP types here: the edge (mock_server/http/replay.py) reads the request and sends the
answer."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from mock_server.replay.recording import body_bytes

#: Fields of a request (JSON body or query) that name the job it is about: the SDK's
#: details sends `{"request_id": ...}` on a GET to one path for every job, so the path
#: alone would hand one job's answer to another's request.
JOB_KEYS = ("finetune_id", "request_id", "webhook_id", "id")
#: Headers of the recorded answer that are about its framing or connection (recomputed or
#: meaningless on another connection) or were redacted.
_DROPPED = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"}
)
_REDACTED = "[redacted]"

Identity = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Recorded:
    """One recorded answer; `body` None when the recording kept only its size (binary or
    streamed), so the mock answers that request instead."""

    operation: str | None
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    def given_back(self, upstream: str, here: str) -> tuple[list[tuple[str, str]], bytes]:
        """Headers and body as sent again: absolute URLs that named the recorded upstream
        point at this server (as the proxy pointed them at itself), the rest unchanged."""
        assert self.body is not None
        body = _pointed(self.body, upstream, here)
        headers = [
            (k, _pointed(v.encode("latin-1"), upstream, here).decode("latin-1"))
            for k, v in self.headers
        ]
        headers.append(("content-length", str(len(body))))
        return headers, body


def _pointed(data: bytes, upstream: str, here: str) -> bytes:
    if not upstream:
        return data
    # a match followed by a digit is another port (:80 inside :8080), left alone
    return re.sub(re.escape(upstream.encode()) + rb"(?![0-9])", here.encode(), data)


def identity(body: bytes | None, query: str) -> Identity:
    """The JOB_KEYS fields a request names, from its JSON object body and its query."""
    found: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in JOB_KEYS:
            found[name] = value
    if body:
        try:
            parsed: Any = json.loads(body)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, Mapping):
            for name in JOB_KEYS:
                if isinstance(parsed.get(name), str | int):
                    found[name] = str(parsed[name])
    return tuple(sorted(found.items()))


def _answer(record: Mapping[str, Any]) -> Recorded | None:
    response = record.get("response")
    if not isinstance(response, Mapping) or not isinstance(response.get("status"), int):
        return None
    body = None if response.get("proxy_error") else body_bytes(response.get("body"))
    headers = tuple(
        (str(pair[0]), str(pair[1]))
        for pair in response.get("headers") or ()
        if isinstance(pair, list | tuple)
        and len(pair) == 2
        and str(pair[0]).lower() not in _DROPPED
        and pair[1] != _REDACTED
    )
    operation = record.get("operation")
    return Recorded(str(operation) if operation else None, response["status"], headers, body)


class ReplayBook:
    """Queues of recorded answers by (method, path, identity). Thread-safe: the server may
    take from several requests at once."""

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._queues: dict[tuple[str, str, Identity], deque[Recorded]] = {}
        self._paths: set[tuple[str, str]] = set()  # every recorded (method, path)
        self._by_body: set[tuple[str, str]] = set()  # those told apart by a body field
        self.upstream = ""
        self._lock = threading.Lock()
        self.size = 0
        for record in records:
            self._add(record)

    def _add(self, record: Mapping[str, Any]) -> None:
        request = record.get("request")
        answer = _answer(record)
        if not isinstance(request, Mapping) or answer is None or "url" not in request:
            return  # a webhook delivery, or a line of another kind: nothing a client asks
        self.upstream = str(record.get("upstream") or self.upstream)
        url = urlsplit(str(request["url"]))
        method, path = str(request.get("method", "GET")).upper(), unquote(url.path)
        from_body = identity(body_bytes(request.get("body")), "")
        self._paths.add((method, path))
        if from_body:
            self._by_body.add((method, path))
        key = (method, path, identity(body_bytes(request.get("body")), url.query))
        self._queues.setdefault(key, deque()).append(answer)
        self.size += 1

    def reads_body(self, method: str, path: str) -> bool:
        """Must the request's body be read to find its queue?"""
        return (method, path) in self._by_body

    def knows(self, method: str, path: str) -> bool:
        return (method, path) in self._paths

    def take(self, method: str, path: str, query: str, body: bytes | None) -> Recorded | None:
        """The next recorded answer for this request, or None when none is left."""
        key = (method.upper(), path, identity(body, query))
        with self._lock:
            queue = self._queues.get(key)
            return queue.popleft() if queue else None
