"""How a run moves jobs and how long it waits: the check groups, the mode, and the
defaults of `wait` and `poll`, read from the documented durations."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.target import Target, is_loopback
from mock_server.lifecycle import load_timing

#: The check groups a report's outcomes belong to (`Outcome.suite`), in run order.
GROUPS: tuple[str, ...] = (
    "schema",
    "lifecycle",
    "tenancy",
    "presign",
    "webhooks",
    "positive",
    "links",
    "machine",
)

#: Safe mode's bounds: few requests, slowly (a real account must not be stormed).
SAFE_MAX_REQUESTS = 200
SAFE_MIN_INTERVAL = 0.2

#: A loopback target is a mock or a local build: its jobs finish in seconds.
LOOPBACK_WAIT = 60.0
LOOPBACK_POLL = 0.5
#: Elsewhere the budget is the documented duration with this much slack.
REMOTE_SLACK = 1.5
REMOTE_POLL = 10.0
#: Polls back off by this factor up to this many times the poll interval.
BACKOFF, BACKOFF_CAP = 1.5, 4.0


def documented_seconds(lifecycle: str) -> float:
    """How long a whole job of `lifecycle` takes on the vendor: the `realistic` timing
    profile, which holds the doc-like durations (minutes of training, seed 003's
    per-image latency)."""
    return sum(load_timing("realistic").for_lifecycle(lifecycle).values())


def default_wait(base_url: str) -> float:
    if is_loopback(base_url):
        return LOOPBACK_WAIT
    return REMOTE_SLACK * max(documented_seconds(name) for name in ("finetune", "inference"))


def default_poll(base_url: str) -> float:
    return LOOPBACK_POLL if is_loopback(base_url) else REMOTE_POLL


@dataclass(frozen=True)
class RunSettings:
    """What every group needs to know about the run besides the target."""

    wait: float  # seconds a job may take to reach a terminal state
    poll: float  # seconds between status reads in observed mode (backs off)
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 0
    webhook_url: str | None = None  # public URL forwarding to the receiver (observed mode)
    other_api_key: str | None = None
    max_examples: int = 5
    seed: int | None = 0

    @property
    def backoff_cap(self) -> float:
        return self.poll * BACKOFF_CAP


def steered(target: Target) -> bool:
    """Steered: the target has tunemock's admin API, so the harness moves its clock."""
    return target.is_mock


def mutation_blocked(target: Target) -> str | None:
    """Why mutating (credit-spending) checks cannot run here, or None when they can."""
    if not target.safe:
        return None
    if is_loopback(target.base_url):
        return "--safe was given (--allow-spend runs it)"
    return "needs --allow-spend on a non-loopback URL"


def needs_steering(target: Target) -> str | None:
    """Why a steered-only check cannot run here, or None when it can."""
    return None if target.is_mock else "needs tunemock's admin API (the target has no /_mock)"
