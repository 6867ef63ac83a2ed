"""One exchange's bookkeeping once its answer is known: the contract checks, the journal
entry and violations, the printed lines, the recorded (redacted) JSON line."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from mock_server.proxy import redact
from mock_server.proxy.check import ResponseChecker, Violation
from mock_server.proxy.ledger import Ledger
from mock_server.proxy.record import Recorder
from mock_server.spec import Operation


def media_of(content_type: str | None) -> str | None:
    return (content_type or "").split(";")[0].strip().lower() or None


class Books:
    """Where every exchange ends: the ledger, the recording, the console."""

    def __init__(
        self,
        ledger: Ledger,
        recorder: Recorder | None,
        checker: ResponseChecker,
        report: Callable[[str], None],
        upstream: str = "",
    ) -> None:
        self.ledger, self.recorder, self.checker, self.report = ledger, recorder, checker, report
        self.upstream = upstream
        # keys as tenant names for the recording: `tenant-1`, `tenant-2` in the order first
        # seen. Only a hash salted with bytes that never leave this process is held, so
        # neither the recording nor the proxy's memory can give a key back
        self._salt = os.urandom(16)
        self._tenants: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def tenant(self, key: str) -> str | None:
        if not key:
            return None
        digest = hashlib.sha256(self._salt + key.encode("utf-8", "replace")).digest()
        with self._lock:
            return self._tenants.setdefault(digest, f"tenant-{len(self._tenants) + 1}")


class Exchange:
    """What the proxy knows of one request on its way through, and how it is written down.
    `secrets` are the literal credentials the client sent: redacted wherever they appear."""

    def __init__(
        self,
        books: Books,
        operation: Operation | None,
        method: str,
        path: str,
        target: str,
        secrets: list[str],
        tenant: str | None = None,
    ) -> None:
        self.books, self.operation, self.secrets = books, operation, secrets
        self.method, self.path = method, path
        self.started = time.perf_counter()
        self.violations: list[Violation] = []
        self.record: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "operation": operation.operation_id if operation else None,
            "upstream": books.upstream,
            "tenant": tenant,
            "request": {"method": method, "url": redact.text(target, secrets)},
        }
        self.upstream_ms: float | None = None

    def request(self, headers: list[tuple[str, str]], body: bytes, complete: bool) -> None:
        content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
        self.record["request"]["headers"] = redact.headers(headers, self.secrets)
        kept = self._kept(body, complete, content_type, len(body))
        if not complete:  # streamed on: only its first bytes were counted here
            kept = {"bytes_at_least": len(body), "streamed": True}
        self.record["request"]["body"] = kept

    def answered(self) -> None:
        self.upstream_ms = self._elapsed()

    def finish(self, answer: httpx.Response, body: bytes, complete: bool, size: int) -> None:
        """Check the answer (its schema only when the whole body was kept) and write it down."""
        if self.operation is not None:
            self.violations += self._checked(self.operation, answer, body, complete)
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.headers.raw]
        self.record["response"] = {
            "status": answer.status_code,
            "headers": redact.headers(pairs, self.secrets),
            "body": self._kept(body, complete, answer.headers.get("content-type"), size),
        }
        self._close(answer.status_code)

    def _checked(
        self, op: Operation, answer: httpx.Response, body: bytes, complete: bool
    ) -> list[Violation]:
        """The answer's violations. A body that does not decode as its Content-Encoding
        says is one itself, and the rest is checked without it: what the upstream sent
        still goes to the client as it came."""
        raw = answer.headers.raw
        if not complete:
            raw = [(k, v) for k, v in raw if k.lower() != b"content-encoding"]
        try:
            seen = httpx.Response(answer.status_code, headers=raw, content=body)
        except httpx.DecodingError as exc:
            encoding = answer.headers.get("content-encoding", "")
            plain = [(k, v) for k, v in raw if k.lower() != b"content-encoding"]
            seen = httpx.Response(answer.status_code, headers=plain)
            broken = Violation(
                "response",
                op.operation_id,
                op.method,
                self.path,
                answer.status_code,
                "content_encoding",
                "",
                f"a body that does not decode as {encoding} ({exc})",
                f"a body encoded as its Content-Encoding ({encoding}) says",
                f"{op.pointer}/responses",
            )
            return [broken, *self.books.checker.violations(op, self.path, seen, False)]
        return self.books.checker.violations(op, self.path, seen, complete)

    def unreachable(self, message: str) -> None:
        self.record["response"] = {"status": 502, "proxy_error": message}
        self._close(502)

    def _close(self, status: int) -> None:
        latency = self._elapsed()
        found = [v.as_json() for v in self.violations]
        entry = {
            "method": self.method,
            "path": self.path,
            "status": status,
            "tenant": None,  # the proxy keeps no key, not even as a tenant's name
            "latency_ms": latency,
            "fault": None,
            "operation": self.record["operation"],
            "flagged": bool(found),
            "violations": found,
        }
        self.books.ledger.add(entry, self.violations)
        for violation in self.violations:
            self.books.report(violation.line())
        if self.books.recorder is not None:
            self.record["violations"] = found
            self.record["timing"] = {"elapsed_ms": latency, "upstream_headers_ms": self.upstream_ms}
            self.books.recorder.append(self.record)

    def _kept(self, data: bytes, complete: bool, content_type: str | None, size: int) -> Any:
        if not complete:
            return {"bytes": size, "streamed": True}
        return redact.body(data, media_of(content_type), self.secrets)

    def _elapsed(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)
