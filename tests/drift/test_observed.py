"""The harness's self-test, observed: the proxy hides `/_mock` (404, as the vendor would) in
front of `tunemock serve --clock real --timing fast`, so the harness cannot steer the target and
polls it in real time. The faithful proxy passes with the lifecycle, tenancy, presign and
positive groups run (through the CLI, as a user would); each drift of the catalog is caught,
by the check the catalog names."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts import Report, run_checks
from mock_server.testing.live import LiveServer, start_server, stop_server
from tests.drift.catalog import CATALOG, caught_by, describe
from tests.drift.proxy import running_proxy

#: Fast timing finishes a fine-tune in about 5 s and an inference in about 1 s; the budget
#: leaves room for a busy machine yet keeps a "stuck" drift's run short.
WAIT = 20.0
POLL = 0.25
OTHER_KEY = "drift-observed-other-key"
#: Groups an observed run against a loopback target must run, not skip.
MUST_RUN = ("schema", "lifecycle", "tenancy", "presign", "positive")


@pytest.fixture(scope="module")
def real_mock() -> Iterator[LiveServer]:
    """The mock on a real clock with fast timing (datasets accepted unread: no test reaches
    past 127.0.0.1); one per module (per xdist worker), reset before each test."""
    server = start_server("--clock", "real", "--timing", "fast", "--datasets", "skip")
    yield server
    stop_server(server)


@pytest.fixture
def hidden(real_mock: LiveServer) -> Iterator[str]:
    real_mock.reset()
    yield real_mock.base_url


def observe(url: str) -> Report:
    return run_checks(url, max_examples=2, seed=0, wait=WAIT, poll=POLL, other_api_key=OTHER_KEY)


def test_the_faithful_proxy_passes_observed_with_every_group_run(
    hidden: str, tmp_path: Path
) -> None:
    with running_proxy(hidden, None, hide_admin=True) as url:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mock_server",
                "check",
                "--base-url",
                url,
                "--allow-spend",
                "--other-api-key",
                "K2",
                "--wait",
                "60",
                "--max-examples",
                "2",
                "--report",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    data = json.loads((tmp_path / "tunemock-check.json").read_text())
    failures = [o for o in data["outcomes"] if not o["passed"] and not o["skipped"]]
    assert done.returncode == 0, json.dumps(failures, indent=1) + done.stdout[-3000:]
    assert data["mode"] == "observed" and data["ok"] is True
    for group in MUST_RUN:
        counts = data["groups"][group]
        assert counts["passed"] > 0 and counts["failed"] == 0, (group, counts)
    assert " s" in done.stdout.splitlines()[-1] and "observed" in done.stdout
    # the failure answer is seen without the admin API, through the spec's failing example
    provoked = [o for o in data["outcomes"] if o["check"] == "failed_is_422_with_error"]
    assert provoked and all(o["passed"] and not o["skipped"] for o in provoked), provoked


@pytest.mark.parametrize("mutation", sorted(CATALOG))
def test_each_drift_is_caught_observed(hidden: str, mutation: str) -> None:
    with running_proxy(hidden, mutation, hide_admin=True) as url:
        report = observe(url)
    assert report.mode == "observed"
    assert not report.ok, f"{mutation} went unnoticed when observed"
    names = CATALOG[mutation].observed
    assert caught_by(report, names), (
        f"{mutation}: no failure of {names}:\n{describe(report.failures)}"
    )
