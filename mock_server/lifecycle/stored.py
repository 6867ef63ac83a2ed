"""Forced transitions on stored jobs: one atomic read-modify-write, whatever the job kind."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mock_server.lifecycle import serial
from mock_server.lifecycle.machine import Lifecycle, force
from mock_server.store import Record, Store


def force_stored(
    store: Store,
    kind: str,
    job_id: str,
    lifecycle: Lifecycle,
    now: datetime,
    state: str | None,
    detail: str | None,
) -> Record | None:
    """Move a stored job now (see `force`); None if there is no such job."""

    def change(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        moved = force(lifecycle, serial.load(doc["transitions"]), now, state, detail)
        return {**doc, "transitions": serial.dump(moved)}

    return store.update(kind, job_id, None, change)
