"""Timing profiles: per lifecycle, how many seconds a job spends in each state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from mock_server.errors import ConfigError
from mock_server.spec.parsed import parse_yaml


@dataclass(frozen=True)
class TimingProfile:
    name: str
    durations: Mapping[str, Mapping[str, float]]  # lifecycle name -> state -> seconds
    scaling: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def for_lifecycle(self, lifecycle: str) -> Mapping[str, float]:
        return self.durations.get(lifecycle, {})


def load_timing(name: str) -> TimingProfile:
    """The named profile from the shipped `timing.yaml` (instant, fast, realistic)."""
    text = resources.files("mock_server.lifecycle").joinpath("timing.yaml").read_text("utf-8")
    profiles = parse_yaml(text)
    scaling = profiles.pop("scaling", {})
    if name not in profiles:
        raise ConfigError(f"unknown timing profile {name!r}; known: {', '.join(profiles)}")
    table = {
        life: {s: float(v) for s, v in states.items()} for life, states in profiles[name].items()
    }
    return TimingProfile(name=name, durations=table, scaling=scaling)
