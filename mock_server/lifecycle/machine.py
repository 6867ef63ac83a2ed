"""A lifecycle (states, legal edges) read from a spec schema's `x-lifecycle`, and the pure
functions that plan a job's transitions and tell its state at any instant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from mock_server.errors import IllegalTransition, SpecError


@dataclass(frozen=True)
class Transition:
    """The job entered `state` at `at` (`detail`: e.g. the error message of FAILED)."""

    state: str
    at: datetime
    detail: str | None = None


@dataclass(frozen=True)
class Lifecycle:
    name: str
    states: tuple[str, ...]
    initial: str
    terminal: frozenset[str]
    edges: Mapping[str, tuple[str, ...]]
    webhook_events: tuple[str, ...] = ()
    milestones: Mapping[str, str] = field(default_factory=dict)  # e.g. trained -> state

    @classmethod
    def from_schema(cls, name: str, schema: Mapping[str, Any]) -> Lifecycle:
        """Build from an enum schema carrying `x-lifecycle` (see openapi/CONVENTIONS.md)."""
        try:
            life = schema["x-lifecycle"]
            return cls(
                name=name,
                states=tuple(schema["enum"]),
                initial=life["initial"],
                terminal=frozenset(life["terminal"]),
                edges={k: tuple(v) for k, v in life["edges"].items()},
                webhook_events=tuple(life.get("webhook_events", ())),
                milestones=dict(life.get("milestones", {})),
            )
        except (KeyError, TypeError) as exc:
            raise SpecError(f"lifecycle {name}: malformed x-lifecycle ({exc})") from exc

    def happy_path(self) -> tuple[str, ...]:
        """The states a job passes when nothing fails: first edge of each state, by convention
        of the specs (the failure edge is listed last)."""
        return self._happy_path

    @cached_property
    def _happy_path(self) -> tuple[str, ...]:  # worked out once: status reads ask per request
        path = [self.initial]
        while path[-1] not in self.terminal:
            path.append(self.edges[path[-1]][0])
        return tuple(path)

    @cached_property
    def failure(self) -> str:
        """The terminal state off the happy path (FAILED, failed)."""
        (state,) = self.terminal - set(self.happy_path())
        return state

    def is_legal(self, source: str, target: str) -> bool:
        return target in self.edges.get(source, ())


def plan(
    lifecycle: Lifecycle, start: datetime, durations: Mapping[str, float]
) -> tuple[Transition, ...]:
    """The happy path laid out in time: each state lasts `durations[state]` seconds."""
    moments = []
    at = start
    for state in lifecycle.happy_path():
        moments.append(Transition(state, at))
        at = at + timedelta(seconds=float(durations.get(state, 0.0)))
    return tuple(moments)


def plan_failure(
    lifecycle: Lifecycle,
    start: datetime,
    durations: Mapping[str, float],
    detail: str,
    after: str | None = None,
) -> tuple[Transition, ...]:
    """A job that follows its happy path up to `after` (default: its first state) and
    fails when it would leave it (a refused dataset, a blocked prompt)."""
    after = after or lifecycle.initial
    path = lifecycle.happy_path()
    kept = plan(lifecycle, start, durations)[: path.index(after) + 1]
    failed_at = kept[-1].at + timedelta(seconds=float(durations.get(after, 0.0)))
    return (*kept, Transition(lifecycle.failure, failed_at, detail))


def plan_reached(
    lifecycle: Lifecycle,
    state: str,
    at: datetime,
    durations: Mapping[str, float],
    detail: str | None = None,
    failed_after: str | None = None,
) -> tuple[Transition, ...]:
    """A plan in which the job entered `state` at `at`, as if it had been submitted earlier
    (scenarios preload jobs in any state). The rest of a happy-path plan stays ahead of it;
    the failure state is reached from `failed_after` (default: the initial state)."""
    path = lifecycle.happy_path()
    if failed_after is not None and failed_after not in path[:-1]:
        raise IllegalTransition(
            f"failed_after must be a state a job can fail from ({', '.join(path[:-1])})"
        )
    if state == lifecycle.failure:
        planned = plan_failure(
            lifecycle, at, durations, detail or "Failed (scenario)", after=failed_after
        )
        index = len(planned) - 1
    elif state in path:
        planned = plan(lifecycle, at, durations)
        index = path.index(state)
    else:
        known = ", ".join(lifecycle.states)
        raise IllegalTransition(f"{state!r} is not a state of {lifecycle.name} ({known})")
    shift = planned[index].at - at
    return tuple(Transition(t.state, t.at - shift, t.detail) for t in planned)


def current(transitions: Sequence[Transition], now: datetime) -> Transition:
    """The last transition that has happened by `now` (the first one if none has yet)."""
    reached = transitions[0]
    for transition in transitions:
        if transition.at <= now:
            reached = transition
    return reached


def history(transitions: Sequence[Transition], now: datetime) -> tuple[Transition, ...]:
    """The transitions that have happened by `now`, in order."""
    return tuple(t for t in transitions if t.at <= now) or (transitions[0],)


def force(
    lifecycle: Lifecycle,
    transitions: Sequence[Transition],
    now: datetime,
    state: str | None = None,
    detail: str | None = None,
) -> tuple[Transition, ...]:
    """Move the job now. Without `state`: its next planned transition happens now, and the
    rest of its plan keeps its spacing (a job planned to fail fails). With `state`: only
    along a legal edge; planned transitions that had not happened are dropped, except the
    rest of the happy path after `state`."""
    past = history(transitions, now)
    source = past[-1].state
    later = [t for t in transitions if t.at > now]
    if state is None:
        if not later:
            raise IllegalTransition(f"{source} is terminal: the job has no next state")
        shift = later[0].at - now
        return (*past, *(Transition(t.state, t.at - shift, t.detail) for t in later))
    if not lifecycle.is_legal(source, state):
        legal = ", ".join(lifecycle.edges.get(source, ())) or "none (terminal)"
        raise IllegalTransition(f"Cannot move from {source} to {state}; legal next: {legal}")
    moved = (*past, Transition(state, now, detail))
    if state in lifecycle.terminal:
        return moved
    # keep the rest of the happy path going from here, with the original spacing
    path = lifecycle.happy_path()
    remaining = path[path.index(state) + 1 :] if state in path else ()
    return (*moved, *(t for t in later if t.state in remaining))
