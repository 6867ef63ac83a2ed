"""Servers the harness cannot steer that are wrong in plausible ways must fail, each caught
by the check made for it: 500 to everything, status in lower case, a job jumping to its
final state, every key seeing every job, download URLs neither signed nor expiring. Also
the runner's own promises: unknown spec names and a crashing group."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from contracts import run_checks
from contracts.report import Report
from contracts.suites.presign import Presign
from mock_server.testing.live import LiveServer, start_server, stop_server
from tests.harness.test_observed_mode import Edit, Exchange, describe, hiding_proxy, observed
from tests.security.hosts import closed_port

_STATUS = re.compile(rb'"status"\s*:\s*"([A-Z_]+)"')


@pytest.fixture(scope="module")
def real_clock_mock() -> Iterator[LiveServer]:
    server = start_server("--clock", "real", "--timing", "fast")
    yield server
    stop_server(server)


@pytest.fixture
def always_500() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            body = b'{"error": "Internal server error"}'
            self.send_response(500)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def caught_by(report: Report, *checks: str) -> list[str]:
    return [f.check for f in report.failures if f.check in checks]


def test_a_server_answering_500_to_everything_fails(always_500: str) -> None:
    report = run_checks(always_500, max_examples=1, wait=5, poll=0.2)
    assert report.mode == "observed" and not report.ok
    positive = [f for f in report.failures if f.suite == "positive"]
    assert positive and all("500" in (f.message or "") for f in positive)


# --- plausible but wrong: the real-clock mock behind a proxy that changes one thing ------


def lower_case_status(exchange: Exchange) -> None:
    exchange.answer = _STATUS.sub(lambda m: b'"status": "' + m[1].lower() + b'"', exchange.answer)


def straight_to_final(exchange: Exchange) -> None:
    if exchange.path.startswith("/finetune/request/details"):
        exchange.answer = _STATUS.sub(b'"status": "AVAILABLE"', exchange.answer)


def one_tenant_for_all(exchange: Exchange) -> None:
    for name in list(exchange.headers):
        if name.lower() == "x-api-key":
            exchange.headers[name] = "the-one-tenant"


def unsigned_download(exchange: Exchange) -> None:
    if exchange.path.startswith("/finetune/request/file/download") and exchange.status == 200:
        exchange.answer = exchange.answer.split(b"?")[0]


WRONG: dict[str, tuple[Edit | None, Edit | None, tuple[str, ...]]] = {
    "lower-case status": (
        None,
        lower_case_status,
        ("lifecycle_first_status", "lifecycle_legal_edge", "body_conforms"),
    ),
    "straight to the final state": (
        None,
        straight_to_final,
        ("storage_url_exactly_when_trained",),
    ),
    "every key sees every job": (one_tenant_for_all, None, ("other_key_never_sees_job",)),
    "download URL unsigned": (None, unsigned_download, ("presigned_url_signed",)),
}


@pytest.mark.parametrize("wrong", sorted(WRONG))
def test_a_plausible_but_wrong_server_fails(real_clock_mock: LiveServer, wrong: str) -> None:
    before, after, checks = WRONG[wrong]
    with hiding_proxy(real_clock_mock.base_url, before, after) as url:
        # a fast-timing job ends in seconds: a smaller budget keeps a stuck one short
        report = observed(
            url, specs=["segmind-finetune", "segmind-inference"], max_examples=1, wait=20
        )
    assert report.mode == "observed" and not report.ok, wrong
    assert caught_by(report, *checks), f"{wrong}: none of {checks} in\n{describe(report)}"


def test_the_faithful_proxy_passes_the_same_reduced_run(real_clock_mock: LiveServer) -> None:
    with hiding_proxy(real_clock_mock.base_url) as url:
        report = observed(url, specs=["segmind-finetune", "segmind-inference"], max_examples=1)
    assert report.ok, describe(report)


# --- the runner's promises ---------------------------------------------------------------


def test_an_unknown_spec_name_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"segmind-finetun'.*known: segmind-finetune"):
        run_checks("http://127.0.0.1:9", specs=["segmind-finetun"])


def test_a_crashing_group_is_recorded_and_the_run_goes_on(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(self: Presign) -> None:
        raise RuntimeError("boom " + json.dumps({"group": self.name}))

    monkeypatch.setattr(Presign, "run", crash)
    report = run_checks(live_server.base_url, specs=["segmind-finetune"], max_examples=1)
    errors = [f for f in report.failures if f.check == "harness_error"]
    assert [(f.suite, f.operation) for f in errors] == [("presign", "presign")]
    assert "RuntimeError: boom" in (errors[0].message or "")
    ran = {o.suite for o in report.outcomes if o.passed}
    assert {"lifecycle", "tenancy", "webhooks", "positive", "machine"} <= ran


def stuck_requested(exchange: Exchange) -> None:
    if exchange.path.startswith("/finetune/request/details"):
        exchange.answer = _STATUS.sub(b'"status": "REQUESTED"', exchange.answer)


def test_a_job_stuck_past_the_budget_fails_naming_its_state_and_how_long(
    real_clock_mock: LiveServer,
) -> None:
    with hiding_proxy(real_clock_mock.base_url, after=stuck_requested) as url:
        report = observed(url, specs=["segmind-finetune"], max_examples=1, wait=6, poll=0.5)
    stuck = [f for f in report.failures if f.check == "lifecycle_reaches_terminal"]
    assert stuck, describe(report)
    assert stuck[0].operation == "finetune lifecycle"
    assert re.search(r"still REQUESTED after \d+\.\d s in that state", stuck[0].message or "")
    assert "within 6 s" in (stuck[0].message or "")


def test_a_handed_out_url_nothing_answers_fails_naming_it_without_its_signature(
    real_clock_mock: LiveServer,
) -> None:
    dead = closed_port()

    def dead_upload_url(exchange: Exchange) -> None:
        if exchange.path.startswith("/finetune/request/upload/pre-signed-url"):
            exchange.answer = re.sub(
                rb'"presigned_url"\s*:\s*"http://[^/]+',
                f'"presigned_url": "http://127.0.0.1:{dead}'.encode(),
                exchange.answer,
            )

    with hiding_proxy(real_clock_mock.base_url, after=dead_upload_url) as url:
        report = observed(url, specs=["segmind-finetune"], max_examples=1)
    silent = [f for f in report.failures if f.check == "url_answers"]
    assert silent, describe(report)  # one per group that uploads (each its own key's URL)
    for failure in silent:
        assert failure.operation.startswith(f"PUT http://127.0.0.1:{dead}/")
        assert "?" not in failure.operation  # the signature stays out of the report
        assert "ConnectError" in (failure.message or "")
    assert not [f for f in report.failures if f.check == "harness_error"], describe(report)
