"""What the proxy saw, in memory and bounded: its request journal and its violations list,
both read newest first through its admin routes."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from mock_server.proxy.check import Violation


class Ledger:
    """The last `keep` journal entries and the last `keep` violations. A proxy in front of a
    real vendor runs for hours: older entries go, memory stays flat."""

    def __init__(self, keep: int = 1000) -> None:
        self._journal: deque[dict[str, Any]] = deque(maxlen=keep)
        self._violations: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any], violations: list[Violation]) -> None:
        with self._lock:
            self._journal.append(entry)
            self._violations.extend(v.as_json() for v in violations)

    def journal(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(reversed(self._journal))[:limit]

    def violations(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(reversed(self._violations))[:limit]

    def clear(self) -> None:
        with self._lock:
            self._journal.clear()
            self._violations.clear()
