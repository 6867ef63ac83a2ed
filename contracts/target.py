"""The API under test: its base URL and key, whether it is our mock (then the admin API
can move its clock), safe mode, and a counted, bounded HTTP client."""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.errors import Unreachable
from contracts.repro import curl_of
from mock_server.spec import Operation, SpecBundle

__all__ = ["BudgetExhausted", "RateLimited", "Target", "curl_of", "is_loopback", "spends"]

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


#: A rate-limited (429) answer is retried after its Retry-After, within bounds: a target that
#: asks for longer, or keeps refusing, ends the run with a note instead of stalling it.
MAX_RETRIES = 3  # per request
MAX_RETRY_AFTER = 10.0  # seconds, one wait
RATE_LIMIT_PATIENCE = 60.0  # seconds, all waits of a run
#: No single call may hold the run for longer than this (a flush behind a slow webhook host).
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class BudgetExhausted(Exception):
    """Safe mode's request budget is used up."""


class RateLimited(BudgetExhausted):
    """The target still answers 429 once the harness's patience is spent: the run stops
    there (a note, not a contract failure: rate limits are the target's right)."""


def shown_url(base_url: str, path: str) -> str:
    """A URL as a report shows it: without its query, which may hold a signature."""
    full = path if path.startswith(("http://", "https://")) else base_url + path
    return str(httpx.URL(full).copy_with(query=None))


def retry_after(response: httpx.Response) -> float:
    """Seconds a 429 asks to wait: Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3);
    1 when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, when.timestamp() - time.time())


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
    rate_limited_seconds: float = 0.0  # waited on 429s so far (bounded by RATE_LIMIT_PATIENCE)
    #: families served elsewhere than base_url plus tunemock's mount (the spec's server path)
    family_urls: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.client = httpx.Client(base_url=self.base_url, timeout=TIMEOUT)

    def close(self) -> None:
        self.client.close()

    def at(self, op: Operation, path: str | None = None) -> str:
        """Where `op` is called: `path` (the spec's, placeholders filled; by default its
        template) under its family's URL when one is given, else under the base URL at the
        family's mount on tunemock. A URL the target handed out is called as it is."""
        path = op.path if path is None else path
        if path.startswith(("http://", "https://")):
            return path
        elsewhere = self.family_urls.get(op.family)
        return f"{elsewhere.rstrip('/')}{path}" if elsewhere else f"{op.prefix}{path}"

    def request(
        self, method: str, path: str, *, key: str | None = None, auth: bool = True, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if auth:
            headers.setdefault("x-api-key", key or self.api_key)
        for attempt in range(MAX_RETRIES + 1):
            response = self._send(method, path, headers, kw)
            if response.status_code != 429:
                return response
            wait = retry_after(response)
            if (
                attempt == MAX_RETRIES
                or wait > MAX_RETRY_AFTER
                or self.rate_limited_seconds + wait > RATE_LIMIT_PATIENCE
            ):
                raise RateLimited(
                    f"{method} {path}: still rate-limited (429, Retry-After "
                    f"{response.headers.get('retry-after', '-')}) after {attempt} retries and "
                    f"{self.rate_limited_seconds:.0f} s of waiting; the run stops here"
                )
            self.rate_limited_seconds += wait
            time.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def _send(
        self, method: str, path: str, headers: dict[str, str], kw: dict[str, Any]
    ) -> httpx.Response:
        if self.max_requests is not None and self.requests >= self.max_requests:
            raise BudgetExhausted(f"safe mode stops after {self.max_requests} requests")
        wait = self._last + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.requests += 1
        self._last = time.monotonic()
        try:
            response = self.client.request(method, path, headers=headers, **kw)
        except httpx.TransportError as exc:
            reason = " ".join(str(exc).split()) or "no detail"
            called = f"{method} {shown_url(self.base_url, path)}"
            raise Unreachable(called, f"{type(exc).__name__}: {reason}") from exc
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
