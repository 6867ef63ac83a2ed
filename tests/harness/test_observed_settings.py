"""What a run needs and why a group does not run: skip reasons worded for the console, the
wait budget from the documented durations, the webhook group's reachability rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contracts import run_checks
from contracts.report import Report
from contracts.settings import (
    LOOPBACK_WAIT,
    RunSettings,
    default_poll,
    default_wait,
    documented_seconds,
    mutation_blocked,
    needs_steering,
)
from contracts.suites.webhooks import Webhooks
from contracts.target import Target
from mock_server.spec import load_specs
from tests.harness.stub import fixed_server

REMOTE = "https://api.segmind.example"


@pytest.fixture
def remote() -> Iterator[Target]:
    """A target off loopback that is never called (no request is made here)."""
    target = Target(REMOTE, "key", load_specs(), safe=True)
    yield target
    target.close()


def test_a_remote_target_in_safe_mode_says_what_flag_runs_the_mutating_groups(
    remote: Target,
) -> None:
    assert mutation_blocked(remote) == "needs --allow-spend on a non-loopback URL"
    remote.safe = False
    assert mutation_blocked(remote) is None
    assert needs_steering(remote) == "needs tunemock's admin API (the target has no /_mock)"
    remote.is_mock = True
    assert needs_steering(remote) is None


def test_safe_mode_asked_for_on_loopback_names_the_flag() -> None:
    target = Target("http://127.0.0.1:9", "key", load_specs(), safe=True)
    try:
        assert "--allow-spend" in str(mutation_blocked(target))
    finally:
        target.close()


def test_the_wait_budget_fits_the_documented_durations() -> None:
    # the vendor trains for minutes: its budget covers the documented fine-tune
    assert default_wait(REMOTE) > documented_seconds("finetune") > 600
    assert default_wait("http://127.0.0.1:8000") == LOOPBACK_WAIT
    assert default_poll(REMOTE) > default_poll("http://localhost:8000") > 0


def test_webhooks_need_a_reachable_url_off_loopback(remote: Target) -> None:
    remote.safe = False
    report = Report(base_url=REMOTE)
    hooks = Webhooks(remote, report, RunSettings(wait=1, poll=1))
    assert hooks.unreachable() == "needs --webhook-url (no reachable receiver)"
    hooks.run()  # records the skip, sends nothing
    assert [(o.suite, o.skipped) for o in report.outcomes] == [
        ("webhooks", "needs --webhook-url (no reachable receiver)")
    ]
    assert remote.requests == 0
    public = RunSettings(wait=1, poll=1, webhook_url="https://tunnel.example/hook")
    assert Webhooks(remote, report, public).unreachable() is None


def test_a_family_off_loopback_makes_the_whole_run_safe_by_default() -> None:
    with fixed_server(404, b'{"error": "not here"}') as local:
        # the trainer's host is never called: only the platform family runs
        away = run_checks(
            local, specs=["segmind-platform"], max_examples=1,
            family_urls={"lora-trainer": REMOTE},
        )  # fmt: skip
        home = run_checks(local, specs=["segmind-platform"], max_examples=1)
    assert (away.safe, home.safe) == (True, False)
