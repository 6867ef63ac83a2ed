"""Following one job to its end, in either mode: steered (tunemock's admin API moves the
job between reads) or observed (real time passes between reads, polls backing off). The
caller checks the states read; this module only moves, reads and times."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contracts.settings import BACKOFF, RunSettings
from contracts.target import Target
from mock_server.lifecycle import Lifecycle

#: One status read: (status or None when the read failed, the answer's JSON body).
Read = Callable[[], tuple[object, dict[str, Any]]]


@dataclass
class Followed:
    """What following a job saw."""

    states: list[object] = field(default_factory=list)  # every status read, in order
    bodies: list[dict[str, Any]] = field(default_factory=list)
    terminal: bool = False
    seconds: float = 0.0  # from the first read to the last
    stuck_for: float = 0.0  # how long the last state had been read unchanged

    @property
    def last(self) -> object:
        return self.states[-1] if self.states else None


class Mover:
    """Moves a job between two reads: one state on (steered), or waits (observed)."""

    def __init__(self, target: Target, settings: RunSettings) -> None:
        self.target = target
        self.settings = settings
        self.interval = settings.poll

    def reset(self) -> None:
        self.interval = self.settings.poll

    def between_reads(self, job_id: str, remaining: float) -> None:
        if self.target.is_mock:
            # one forced step: a job planned to fail fails, a terminal job stays (4xx)
            self.target.admin("POST", f"/jobs/{job_id}/status")
            return
        time.sleep(max(0.0, min(self.interval, remaining)))
        self.interval = min(self.interval * BACKOFF, self.settings.backoff_cap)

    def settle(self) -> None:
        """After a terminal state: let time pass, so a later read can show a regression."""
        if self.target.is_mock:
            self.target.admin("POST", "/clock/advance", json={"seconds": 3600})
        else:
            time.sleep(min(self.settings.poll, 2.0))


def follow(read: Read, life: Lifecycle, mover: Mover, job_id: str, wait: float) -> Followed:
    """Read the job's status until it is terminal or `wait` seconds have passed; in
    steered mode also stop after more reads than the lifecycle has states (the admin
    API moves a live job on at every read, so a job still not terminal is stuck)."""
    seen = Followed()
    mover.reset()
    started = time.monotonic()
    since = started
    max_reads = len(life.states) + 2 if mover.target.is_mock else None
    while True:
        status, body = read()
        now = time.monotonic()
        if status is None:
            break
        if not seen.states or status != seen.states[-1]:
            since = now
        seen.states.append(status)
        seen.bodies.append(body)
        seen.seconds, seen.stuck_for = now - started, now - since
        if status in life.terminal:
            seen.terminal = True
            break
        if now - started >= wait or (max_reads is not None and len(seen.states) >= max_reads):
            break
        mover.between_reads(job_id, wait - (now - started))
    return seen
