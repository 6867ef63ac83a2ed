"""No false alarms on our own mock: twenty runs, each with its own seed (so the random
state machine and the generated cases differ), against one long-lived mock that keeps the
earlier runs' state. Each run is small; xdist spreads them."""

from __future__ import annotations

import pytest

from contracts import run_checks
from mock_server.testing.live import LiveServer

SEEDS = range(1, 21)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_run_on_our_own_mock_raises_no_false_alarm(
    live_server_session: LiveServer, seed: int
) -> None:
    # the session's mock, not reset: runs must not depend on a fresh one
    report = run_checks(live_server_session.base_url, max_examples=2, seed=seed)
    lines = [f"- [{f.suite}/{f.check}] {f.operation}: {f.message}" for f in report.failures]
    assert report.ok, f"seed {seed}:\n" + "\n".join(lines)
    ran = {o.suite for o in report.outcomes if o.passed and not o.skipped}
    assert {"schema", "lifecycle", "presign", "tenancy", "positive", "machine"} <= ran
