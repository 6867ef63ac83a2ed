"""`--record FILE`: every exchange appended as one JSON line the moment it ends, flushed, so
the file stays readable whenever the proxy stops (Ctrl-C included); secrets redacted first."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, Any


class Recorder:
    """Appends one JSON object a line. A line is written whole, under a lock, and flushed:
    an interrupted run loses at most the exchange still in flight, never a line half."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def append(self, exchange: dict[str, Any]) -> None:
        line = json.dumps(exchange, ensure_ascii=False, separators=(",", ":"), default=str)
        with self._lock:
            if self._file.closed:
                return
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
