"""The mock's notion of now: real or virtual, both movable by an offset kept in the store.

The offset (and the virtual clock's starting instant) live in the store, so every worker
process of one server sees the same time and a restart with --state keeps it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mock_server.errors import InvalidInput
from mock_server.store.base import Store

_OFFSET_KEY = "clock.offset_seconds"
_BASE_KEY = "clock.virtual_base"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, as the docs write timestamps (2025-01-01T00:00:00Z)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Clock:
    """`real`: wall time plus an offset; `virtual`: a fixed start plus an offset, so time
    moves only when advanced (POST /_mock/clock/advance)."""

    def __init__(self, store: Store, kind: str = "real") -> None:
        if kind not in ("real", "virtual"):
            raise ValueError(f"clock kind must be real or virtual, not {kind!r}")
        self.kind = kind
        self._store = store
        if kind == "virtual":
            store.update_meta(_BASE_KEY, lambda old: old or iso(utc_now()))

    def _base(self) -> datetime:
        if self.kind == "real":
            return utc_now()
        stored = self._store.get_meta(_BASE_KEY)
        if stored is None:  # a reset cleared it: the virtual clock restarts from now
            stored = self._store.update_meta(_BASE_KEY, lambda old: old or iso(utc_now()))
        return parse_iso(str(stored))

    def offset(self) -> float:
        return float(self._store.get_meta(_OFFSET_KEY) or 0.0)

    def now(self) -> datetime:
        return self._base() + timedelta(seconds=self.offset())

    def advance(self, seconds: float) -> datetime:
        """Move time forward (never backward: jobs would un-happen)."""
        if not seconds >= 0:  # also rejects NaN
            raise InvalidInput("The clock only moves forward: seconds must be >= 0")
        self._store.update_meta(_OFFSET_KEY, lambda old: float(old or 0.0) + float(seconds))
        return self.now()
