"""Transitions to and from the JSON a store keeps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mock_server.clock import iso, parse_iso
from mock_server.lifecycle.machine import Transition


def dump(transitions: Iterable[Transition]) -> list[dict[str, Any]]:
    return [{"state": t.state, "at": iso(t.at), "detail": t.detail} for t in transitions]


def load(raw: Sequence[Mapping[str, Any]]) -> tuple[Transition, ...]:
    return tuple(Transition(r["state"], parse_iso(r["at"]), r.get("detail")) for r in raw)
