"""Job lifecycles as data: states and edges from the spec's `x-lifecycle`, durations per
timing profile from `timing.yaml`, status as a pure function of timestamps and now."""

from mock_server.lifecycle.machine import (
    Lifecycle,
    Transition,
    current,
    force,
    plan,
    plan_failure,
    plan_reached,
)
from mock_server.lifecycle.timing import TimingProfile, load_timing

__all__ = [
    "Lifecycle",
    "TimingProfile",
    "Transition",
    "current",
    "force",
    "load_timing",
    "plan",
    "plan_failure",
    "plan_reached",
]
