"""The random state machine (steered mode) reports a failure with the steps that led to it,
as curl command lines a user can replay."""

from __future__ import annotations

from contracts import run_checks
from mock_server.testing.live import LiveServer
from tests.harness.test_observed_mode import describe, hiding_proxy
from tests.harness.test_observed_wrong import lower_case_status


def test_a_state_machine_failure_lists_its_steps_as_curls(live_server: LiveServer) -> None:
    with hiding_proxy(live_server.base_url, after=lower_case_status, hide=False) as url:
        report = run_checks(url, specs=["segmind-finetune"], max_examples=2)
    assert report.mode == "steered"
    found = [f for f in report.failures if f.suite == "machine"]
    assert found, describe(report)
    steps = (found[0].curl or "").splitlines()
    assert len(steps) >= 2 and all(s.startswith("curl -X ") for s in steps), steps
    assert any("/finetune/request/submit" in s for s in steps)
    assert any("/finetune/request/details" in s for s in steps)
