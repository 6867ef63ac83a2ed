"""Observed mode: a server the harness cannot steer (no /_mock, as the vendor) is checked by
polling on real time. Here: `tunemock serve --clock real --timing fast` behind a tiny proxy
that hides /_mock; and servers that are plainly broken."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from contracts import run_checks
from contracts.report import Report
from mock_server.testing.live import LiveServer, start_server, stop_server
from tests.fixtures.threaded import serving

#: Groups the observed run must pass, not skip.
OBSERVED_GROUPS = {"lifecycle", "tenancy", "presign", "positive"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Exchange:
    """One forwarded request and its answer, which an `Edit` may change in place."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    answer_headers: dict[str, str] | None = None
    answer: bytes = b""


Edit = Callable[[Exchange], None]


@contextlib.contextmanager
def hiding_proxy(
    upstream: str, before: Edit | None = None, after: Edit | None = None, hide: bool = True
) -> Iterator[str]:
    """A proxy in front of `upstream` that answers /_mock with 404 (as the vendor would);
    `before` may edit a request, `after` an answer. URLs in answers stay the mock's own
    (as the vendor's storage URLs point at another host than its API). `hide=False`
    forwards /_mock too: the target stays steerable."""
    client = httpx.Client(base_url=upstream, timeout=30)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if hide and self.path.split("?")[0].startswith("/_mock"):
                self._send(404, {"content-type": "application/json"}, b'{"error": "Not found"}')
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            exchange = Exchange(self.command, self.path, headers, body)
            if before:
                before(exchange)
            answer = client.request(
                exchange.method, exchange.path, headers=exchange.headers, content=exchange.body
            )
            exchange.status = answer.status_code
            exchange.answer_headers = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-encoding"
            }
            exchange.answer = answer.content
            if after:
                after(exchange)
            self._send(exchange.status, exchange.answer_headers, exchange.answer)

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        def log_message(self, *args: Any) -> None:
            pass

    try:
        with serving(Handler) as url:
            yield url
    finally:
        client.close()


@pytest.fixture(scope="module")
def real_clock_mock() -> Iterator[LiveServer]:
    """`tunemock serve --clock real --timing fast`: jobs move on their own in seconds."""
    server = start_server("--clock", "real", "--timing", "fast")
    yield server
    stop_server(server)


def groups(report: Report) -> dict[str, set[str]]:
    """Per group: which verdicts its outcomes had (passed / failed / skipped)."""
    found: dict[str, set[str]] = {}
    for o in report.outcomes:
        verdict = "skipped" if o.skipped else ("passed" if o.passed else "failed")
        found.setdefault(o.suite, set()).add(verdict)
    return found


def describe(report: Report) -> str:
    return "\n".join(f"- [{f.suite}/{f.check}] {f.operation}: {f.message}" for f in report.failures)


def observed(url: str, **options: Any) -> Report:
    options = {"safe": False, "other_api_key": "K2", "wait": 60, "max_examples": 2, **options}
    return run_checks(url, **options)


def test_observed_mode_passes_the_real_clock_mock_behind_a_proxy_hiding_the_admin_api(
    real_clock_mock: LiveServer,
) -> None:
    with hiding_proxy(real_clock_mock.base_url) as url:
        assert httpx.get(f"{url}/_mock/health").status_code == 404
        report = observed(url)
    assert report.mode == "observed"
    assert report.ok, describe(report)
    seen = groups(report)
    for group in OBSERVED_GROUPS:
        assert "passed" in seen.get(group, set()), (group, seen.get(group))
    # what does not run here is the few checks that need the clock, each saying why
    skipped = {(o.suite, o.check): o.skipped for o in report.outcomes if o.skipped}
    assert set(skipped) <= {
        ("lifecycle", "failed_is_422_with_error"),
        ("lifecycle", "expired_results_404"),
        ("presign", "presigned_url_expires"),
        ("machine", "lifecycle_machine"),
        ("links", "link_workflows"),
    }, skipped
    assert all(skipped.values())
    checks = {(o.suite, o.check) for o in report.outcomes if o.passed and not o.skipped}
    assert {
        ("lifecycle", "lifecycle_reaches_terminal"),
        ("lifecycle", "storage_url_exactly_when_trained"),
        ("tenancy", "other_key_never_sees_job"),
        ("tenancy", "other_key_never_downloads"),
        ("presign", "presigned_url_tamper_refused"),
        ("presign", "presigned_url_lifetime"),
        ("positive", "valid_request_succeeds"),
        ("webhooks", "webhook_events_in_order"),
    } <= checks


def test_a_family_on_a_host_of_its_own_is_checked_there(real_clock_mock: LiveServer) -> None:
    def segmind_only(exchange: Exchange) -> None:  # the trainer is not Segmind's
        if exchange.path.startswith("/lora-trainer"):
            exchange.path = "/not-here" + exchange.path

    # the trainer served at the root of a host of its own, as its provider serves it
    with (
        hiding_proxy(f"{real_clock_mock.base_url}/lora-trainer") as trainer,
        hiding_proxy(real_clock_mock.base_url, before=segmind_only) as segmind,
    ):
        there = observed(
            segmind, specs=["lora-trainer"], family_urls={"lora-trainer": trainer}, max_examples=1
        )
        mounted = observed(segmind, specs=["lora-trainer"], max_examples=1)
    assert there.ok, describe(there)
    assert len([o for o in there.outcomes if o.suite == "positive" and o.passed]) == 2
    # without it, the trainer is looked for at tunemock's mount on the base URL: not there
    assert not mounted.ok
