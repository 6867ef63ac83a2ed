"""`tunemock check` against the mock: passes, reports in CI formats, and stays safe when
the target is treated as remote."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contracts import assert_contract, run_checks
from contracts.settings import GROUPS
from mock_server.testing.live import LiveServer


def test_check_passes_against_the_mock_with_junit_and_json(
    live_server: LiveServer, tmp_path: Path
) -> None:
    junit, folder = tmp_path / "check.xml", tmp_path / "report"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mock_server",
            "check",
            "--base-url",
            live_server.base_url,
            "--junit",
            str(junit),
            "--report",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout
    root = ET.parse(junit).getroot()
    cases = root.findall("./testsuite/testcase")
    report = json.loads((folder / "tunemock-check.json").read_text())
    assert report["ok"] is True and len(cases) == len(report["outcomes"]) > 50
    assert {s.get("name") for s in root.findall("testsuite")} == set(GROUPS)  # all ran
    assert report["mode"] == "steered" and report["skipped_groups"] == {}
    assert all(report["groups"][group]["passed"] > 0 for group in GROUPS)
    pairs = {(c.get("classname"), c.get("name")) for c in cases}
    assert len(pairs) == len(cases)  # one case per (operation, check)
    assert ("finetune lifecycle", "lifecycle_legal_edge") in pairs
    assert ("webhooks finetune", "webhook_events_in_order") in pairs


def test_assert_contract_is_the_pytest_entry_point(live_server: LiveServer) -> None:
    report = assert_contract(live_server.base_url, specs=["segmind-inference"], max_examples=2)
    assert report.ok and report.outcomes


# --- safe mode against a recording server ------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]]

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.seen.append((self.command, self.path.split("?")[0]))
        self.send_response(404)
        self.send_header("content-type", "application/json")
        body = b'{"error": "not here"}'
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    handler = type("Handler", (Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    server.shutdown()
    server.server_close()
    thread.join()


#: What costs credits or creates billable jobs (the oracle, written from the docs).
SPENDING = {
    ("POST", "/finetune/request/submit"),
    ("POST", "/v1/flux-dev-finetuned"),
    ("POST", "/v2/flux-dev-finetuned"),
    ("POST", "/lora-trainer/finetune"),
}


def test_safe_mode_never_calls_an_operation_that_spends(recording_server) -> None:
    url, seen = recording_server
    report = run_checks(url, safe=True, max_examples=2)
    assert seen, "safe mode still checks the operations that cannot spend"
    assert not SPENDING & set(seen), sorted(SPENDING & set(seen))
    skipped = {o.operation for o in report.outcomes if o.skipped}
    assert {f"{m} {p}" for m, p in SPENDING} <= skipped
    assert report.safe and report.requests == len(seen)
    assert not [p for _, p in seen if p.startswith("/_mock/") and p != "/_mock/health"]
