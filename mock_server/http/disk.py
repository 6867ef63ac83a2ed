"""A full disk, told apart from a bug: the answer is 507 Insufficient Storage in the vendor's
error shape (not a 500 "a tunemock bug"), and /_mock/health says what filled up and when."""

from __future__ import annotations

import errno
import sqlite3
import threading
from datetime import datetime

from mock_server.clock import iso

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def full_disk(exc: BaseException) -> str | None:
    """Why `exc` is a full disk (OSError ENOSPC/EDQUOT, SQLite's SQLITE_FULL), or None."""
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or 'no space left on device'}{where}"
    if isinstance(exc, sqlite3.Error) and (
        getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    ):
        return f"the state file's disk is full ({exc})"
    return None


class DiskWatch:
    """The last full-disk error the app met, for health to report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problem: str | None = None

    def saw(self, why: str, now: datetime) -> None:
        with self._lock:
            self._problem = f"disk full at {iso(now)}: {why}; writes answer 507 until freed"

    def problems(self) -> list[str]:
        with self._lock:
            return [self._problem] if self._problem else []
