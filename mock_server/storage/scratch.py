"""The memory mode's blob folder: a temp folder named after the process that owns it,
removed when that process stops, and swept at the next start when it could not be (kill -9).

Without this, every in-memory run left its `tunemock-storage-*` folder behind (uploads,
artifacts: up to hundreds of MB each), even after Ctrl-C."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "tunemock-storage-"


def _owner(folder: Path) -> int | None:
    """The pid in `tunemock-storage-<pid>-<random>`; None for another naming (an older
    version's folder: not ours to judge)."""
    pid, _, rest = folder.name[len(PREFIX) :].partition("-")
    return int(pid) if pid.isdigit() and rest else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def sweep(parent: Path | None = None) -> list[Path]:
    """Remove the scratch folders whose owning process is gone; the ones removed."""
    base = Path(parent or tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for folder in base.glob(PREFIX + "*"):
            owner = _owner(folder)
            if owner is not None and owner != os.getpid() and not _alive(owner):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


def owned(folder: Path) -> bool:
    """Whether `folder` is a scratch folder of this process."""
    return folder.name.startswith(PREFIX) and _owner(folder) == os.getpid()


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def make() -> Path:
    """A new scratch folder of this process (stale ones swept first), removed at exit
    unless `remove` comes first (the app's shutdown)."""
    sweep()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    atexit.register(remove, folder)
    return folder
