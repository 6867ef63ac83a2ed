"""The files a `--state` leaves, read as bytes, for the tests that look for keys in them."""

from __future__ import annotations

from pathlib import Path


def state_args(tmp_path: Path) -> tuple[Path, Path, tuple[str, ...]]:
    """A folder of its own for the state, the SQLite file in it, and `serve`'s arguments."""
    folder = tmp_path / "state"
    folder.mkdir()
    state = folder / "mock.db"
    return folder, state, ("--state", str(state), "--clock", "virtual", "--datasets", "skip")


def state_bytes(folder: Path) -> dict[str, bytes]:
    """Every file the state left (the SQLite file, its -wal/-shm, any side folder)."""
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def assert_no_key(folder: Path, state: Path, keys: tuple[str, ...]) -> None:
    """No file of the state holds any of `keys`, whole or most of it."""
    files = state_bytes(folder)
    assert str(state) in files
    for secret in keys:
        for name, data in files.items():
            assert secret.encode() not in data, f"{secret} is in {name}"
            assert secret[8:-4].encode() not in data, f"most of {secret} is in {name}"
