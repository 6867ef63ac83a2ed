"""The API under test: its base URL and key, whether it is our mock (then the admin API
can move its clock), safe mode, and a counted, bounded HTTP client."""

from __future__ import annotations

import contextlib
import ipaddress
import shlex
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from mock_server.spec import Operation, SpecBundle

_LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def spends(op: Operation) -> bool:
    """Operations that can cost credits or create billable jobs: those documenting an
    insufficient-credits answer (Segmind's 406, seed 004's 402), from the spec."""
    return bool({"402", "406"} & {str(code) for code in op.raw.get("responses", {})})


def curl_of(request: httpx.Request) -> str:
    """The request as a curl command line, the key masked."""
    parts = ["curl", "-X", request.method, shlex.quote(str(request.url))]
    for name, value in request.headers.items():
        if name.lower() in (
            "host",
            "content-length",
            "accept-encoding",
            "connection",
            "user-agent",
            "accept",
        ):
            continue
        shown = "***" if name.lower() == "x-api-key" else value
        parts += ["-H", shlex.quote(f"{name}: {shown}")]
    try:
        body = request.content
    except httpx.RequestNotRead:  # a streamed (multipart) body: not shown
        body = b""
    if body:
        text = body[:2000].decode("utf-8", "replace")
        parts += ["--data-raw", shlex.quote(text)]
    return " ".join(parts)


class BudgetExhausted(Exception):
    """Safe mode's request budget is used up."""


@dataclass
class Target:
    base_url: str
    api_key: str
    spec: SpecBundle
    safe: bool
    max_requests: int | None = None  # safe mode bounds the run
    min_interval: float = 0.0  # seconds between requests (safe mode's rate)
    requests: int = 0
    is_mock: bool = False
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    client: httpx.Client = field(init=False)
    _last: float = 0.0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.client = httpx.Client(base_url=self.base_url, timeout=30.0)

    def close(self) -> None:
        self.client.close()

    def request(
        self, method: str, path: str, *, key: str | None = None, auth: bool = True, **kw: Any
    ) -> httpx.Response:
        if self.max_requests is not None and self.requests >= self.max_requests:
            raise BudgetExhausted(f"safe mode stops after {self.max_requests} requests")
        wait = self._last + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        headers = dict(kw.pop("headers", {}) or {})
        if auth:
            headers.setdefault("x-api-key", key or self.api_key)
        self.requests += 1
        self._last = time.monotonic()
        response = self.client.request(method, path, headers=headers, **kw)
        with contextlib.suppress(httpx.StreamError):  # keep the sent body for reports/checks
            response.request.read()
        return response

    def tenant(self, role: str) -> str:
        """A key of its own for one scenario, fresh for every run: on the mock any key is a
        tenant, so runs and scenarios never see each other's jobs or webhooks."""
        return f"{self.api_key}-{role}-{self.run_id}"

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The mock's /_mock API (only when `is_mock`). A POST/PUT/PATCH always carries a
        JSON body (`{}` when there is nothing to say): the mock refuses a body a web page
        could send unasked (none, text, a form)."""
        if method.upper() in ("POST", "PUT", "PATCH") and not {"json", "content", "data"} & set(kw):
            kw["json"] = {}
        return self.request(method, f"/_mock{path}", auth=False, **kw)

    def detect_mock(self) -> bool:
        self.requests += 1
        try:
            response = self.client.get("/_mock/health", timeout=5.0)
            self.is_mock = response.status_code == 200 and "apis" in response.json()
        except (httpx.HTTPError, ValueError):
            self.is_mock = False
        return self.is_mock
