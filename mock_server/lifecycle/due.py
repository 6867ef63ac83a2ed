"""Names of the work a store's due queue holds (Store.schedule): `<what> <kind> <id>`, so one
queue serves every kind of due work and a key says what to do when it comes up."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from mock_server.lifecycle import serial
from mock_server.lifecycle.machine import Transition
from mock_server.store.base import Record

#: a stored job to look at again (its next transition, or its moments changed)
JOB = "job"
#: a webhook delivery whose next attempt is due
DELIVERY = "delivery"
#: a record to delete when kept long enough (retention)
PRUNE = "prune"


class DueKey(NamedTuple):
    what: str
    kind: str
    id: str


def key(what: str, kind: str, id: str) -> str:
    return f"{what} {kind} {id}"  # the id last: it may hold spaces


def parse(text: str) -> DueKey | None:
    """The parts of a key; None for a key of no known shape (never raised on: a bad key in
    a shared file must not stop the dispatcher)."""
    parts = text.split(" ", 2)
    if len(parts) != 3:
        return None
    return DueKey(*parts)


def first_at(
    transitions: Sequence[Transition], states: Sequence[str], after: float
) -> float | None:
    """When the first transition into one of `states` later than `after` happens, or None."""
    for transition in transitions:
        at = transition.at.timestamp()
        if transition.state in states and at > after:
            return at
    return None


@dataclass(frozen=True)
class Watch:
    """One job kind's due work: `first(record)` is when a new job of the kind first needs a
    look (None: never); `look(job_id, now)` does what is due and answers when to look again
    (None: never again)."""

    kind: str
    first: Callable[[Record], float | None]
    look: Callable[[str, datetime], float | None]


def event_first(states: Sequence[str]) -> Callable[[Record], float | None]:
    """A job first needs a look at its first transition into a webhook event."""

    def first(record: Record) -> float | None:
        return first_at(serial.load(record.doc["transitions"]), states, float("-inf"))

    return first
