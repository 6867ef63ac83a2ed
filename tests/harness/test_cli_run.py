"""`tunemock check`'s verdict and reports: --strict, a run with no checks, a run that crashes
(the reports are still written), the console's skip lines; a rate-limited answer retried
after its Retry-After; binary bodies reproduced as `--data-binary @file`."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from contracts import cli, run_checks, target
from contracts.report import Outcome, Report, write_json, write_junit
from contracts.target import RateLimited, Target
from mock_server.spec import load_specs
from mock_server.testing.live import start_server, stop_server
from tests.harness.stub import fixed_server

SKIP_REASON = "needs --allow-spend on a non-loopback URL"


@pytest.fixture
def reachable() -> Iterator[str]:
    """A base URL that passes the preflight (the runner itself is replaced in these tests)."""
    with fixed_server(404, b'{"error": "not here"}') as url:
        yield url


def fake_run(*outcomes: Outcome, then: BaseException | None = None) -> Callable[..., Report]:
    """A run_checks that records `outcomes` into its report, then raises `then` (if any)."""

    def run(base_url: str, *args: Any, **kw: Any) -> Report:
        report = Report(base_url=base_url, mode="observed")
        for outcome in outcomes:
            report.add(outcome)
        if then is not None:
            raise then
        return report.finish()

    return run


def invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli.check, ["--base-url", url, *args], terminal_width=400)


PASSED = Outcome("schema", "status_code_documented", "GET /finetune/request/list", True)
SKIPPED = Outcome("lifecycle", "lifecycle", "finetune lifecycle", False, skipped=SKIP_REASON)
FAILED = Outcome("positive", "positive_2xx", "GET /webhook/get", False, "Received: 500")


def test_a_skipped_group_is_named_with_its_reason_and_fails_under_strict(
    reachable: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cli, "run_checks", fake_run(PASSED, SKIPPED))
    lenient = invoke(reachable, "--report", str(tmp_path / "lenient"))
    strict = invoke(reachable, "--strict", "--report", str(tmp_path / "strict"))
    assert lenient.exit_code == 0, lenient.output
    assert strict.exit_code == 1, strict.output
    for result in (lenient, strict):
        assert f"lifecycle: skipped, {SKIP_REASON}" in result.output
        assert "all checks passed" not in result.output
        assert "observed" in result.output  # the mode is printed with the time
    data = json.loads((tmp_path / "strict" / "tunemock-check.json").read_text())
    assert data["ok"] is False and data["mode"] == "observed"
    assert data["skipped_groups"] == {"lifecycle": [SKIP_REASON]}
    assert data["groups"]["schema"] == {
        "passed": 1,
        "failed": 0,
        "skipped": 0,
        "ran": True,
        "skip_reasons": [],
    }
    assert json.loads((tmp_path / "lenient" / "tunemock-check.json").read_text())["ok"] is True


def test_a_run_in_which_no_check_ran_fails(reachable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "run_checks", fake_run(SKIPPED))
    result = invoke(reachable)
    assert result.exit_code == 1, result.output
    assert "no check ran" in result.output and "all checks passed" not in result.output


def test_every_group_passing_says_so(reachable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "run_checks", fake_run(PASSED))
    result = invoke(reachable, "--strict")
    assert result.exit_code == 0 and "all checks passed" in result.output


@pytest.mark.parametrize(
    ("error", "code"), [(RuntimeError("harness bug"), 1), (KeyboardInterrupt(), 130)]
)
def test_a_crash_still_writes_both_reports_with_what_ran(
    reachable: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    error: BaseException,
    code: int,
) -> None:
    monkeypatch.setattr(cli, "run_checks", fake_run(PASSED, FAILED, then=error))
    junit, folder = tmp_path / "check.xml", tmp_path / "out"
    result = invoke(reachable, "--junit", str(junit), "--report", str(folder))
    assert result.exit_code == code, result.output
    data = json.loads((folder / "tunemock-check.json").read_text())
    checks = {o["check"]: o for o in data["outcomes"]}
    assert {"status_code_documented", "positive_2xx", "harness_error"} == set(checks)
    assert data["ok"] is False
    stopped = "interrupted" if code == 130 else "harness bug"
    assert stopped in checks["harness_error"]["message"]
    root = ET.parse(junit).getroot()
    assert {s.get("name") for s in root.findall("testsuite")} == {"schema", "positive", "harness"}
    assert root.find("./testsuite[@name='harness']/testcase/error") is not None
    assert root.find("./testsuite[@name='positive']/testcase/failure") is not None


def test_calls_that_never_answer_end_in_a_report_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # every call but the preflight's hangs longer than the (here shortened) client timeout
    monkeypatch.setattr(target, "TIMEOUT", httpx.Timeout(0.5))
    with fixed_server(200, b"{}", delay=3.0) as url:
        result = invoke(
            url, "--spec", "segmind-platform", "--max-examples", "1", "--report", str(tmp_path)
        )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    data = json.loads((tmp_path / "tunemock-check.json").read_text())
    assert data["ok"] is False
    assert any("timed out" in (o["message"] or "").lower() for o in data["outcomes"])


SEGMIND = (
    "--spec",
    "segmind-finetune",
    "--spec",
    "segmind-inference",
    "--spec",
    "segmind-platform",
)


def test_a_server_answering_500_to_everything_fails(tmp_path: Path) -> None:
    # Segmind's families only: every 500 there has the documented {"error": ...} body, so
    # only "a valid request must succeed" can catch it (lora-trainer's body differs)
    with fixed_server(500, b'{"error": "Internal Server Error"}') as url:
        command = [sys.executable, "-m", "mock_server", "check", "--base-url", url, *SEGMIND]
        done = subprocess.run(
            [*command, "--report", str(tmp_path), "--max-examples", "1"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads((tmp_path / "tunemock-check.json").read_text())
    failed = {o["check"] for o in data["outcomes"] if not o["passed"] and not o["skipped"]}
    assert data["ok"] is False and "valid_request_succeeds" in failed, failed


# --- the client: rate limits, binary bodies ------------------------------------------------


def scripted_target(answers: list[httpx.Response], sent: list[httpx.Request]) -> Target:
    """A Target whose client answers from `answers` in turn (the last one repeats)."""

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers[min(len(sent), len(answers)) - 1]

    made = Target("http://api.test", "k", load_specs(), safe=False)
    made.client.close()
    made.client = httpx.Client(base_url=made.base_url, transport=httpx.MockTransport(answer))
    return made


def test_a_429_is_retried_after_its_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(target.time, "sleep", slept.append)
    sent: list[httpx.Request] = []
    limited = httpx.Response(429, headers={"retry-after": "2"}, json={"error": "Rate limit"})
    made = scripted_target([limited, limited, httpx.Response(200, json=[])], sent)
    answer = made.request("GET", "/finetune/request/list")
    assert answer.status_code == 200
    assert slept == [2.0, 2.0] and len(sent) == made.requests == 3


def test_a_429_beyond_the_harness_patience_stops_the_run_not_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(target.time, "sleep", slept.append)
    sent: list[httpx.Request] = []
    made = scripted_target([httpx.Response(429, headers={"retry-after": "1"})], sent)
    with pytest.raises(RateLimited, match="still rate-limited"):
        made.request("GET", "/finetune/request/list")
    assert len(slept) == target.MAX_RETRIES and len(sent) == target.MAX_RETRIES + 1
    too_long = scripted_target([httpx.Response(429, headers={"retry-after": "3600"})], [])
    with pytest.raises(RateLimited):
        too_long.request("GET", "/finetune/request/list")
    assert len(slept) == target.MAX_RETRIES  # no hour-long wait


def test_a_binary_body_is_reproduced_from_a_file_next_to_the_report(tmp_path: Path) -> None:
    body = b"PK\x03\x04\x00\xff\xfe binary \x00"
    request = httpx.Request("PUT", "http://api.test/storage/x", content=body)
    curl = target.curl_of(request)
    assert "--data-binary @body-" in curl and "\\x" not in curl and "\ufffd" not in curl
    name = curl.split("--data-binary @")[1].split()[0]
    report = Report(base_url="http://api.test")
    report.add(Outcome("presign", "upload_accepted", "PUT /storage", False, "Received: 403", curl))
    write_json(report, tmp_path / "json")
    write_junit(report, tmp_path / "junit" / "check.xml")
    assert (tmp_path / "json" / name).read_bytes() == body
    assert (tmp_path / "junit" / name).read_bytes() == body
    text = target.curl_of(httpx.Request("POST", "http://api.test/x", json={"a": "é"}))
    assert "--data-raw" in text and "é" in text


def test_a_rate_limited_mock_passes_with_the_429s_waited_out(tmp_path: Path) -> None:
    config = tmp_path / "tunemock.yaml"
    config.write_text(
        "rate_limits:\n  segmind-platform: {per_second: 4, burst: 2}\n", encoding="utf-8"
    )
    server = start_server("--config", str(config), "--clock", "virtual", "--datasets", "skip")
    try:
        report = run_checks(server.base_url, specs=["segmind-platform"], max_examples=2)
        journal = httpx.get(f"{server.base_url}/_mock/requests", params={"limit": 1000}).json()
    finally:
        stop_server(server)
    assert 429 in {entry["status"] for entry in journal}  # the limits did bite
    assert report.ok, [(f.check, f.message) for f in report.failures]
    assert not [o for o in report.outcomes if "429" in (o.message or "")]
