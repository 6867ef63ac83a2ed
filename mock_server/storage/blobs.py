"""Files on disk under one root, addressed by URL paths; nothing escapes the root."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

from mock_server.errors import InvalidInput


class TooLarge(Exception):
    """The upload exceeded the size cap."""


class Incomplete(Exception):
    """The upload's bytes did not match its declared Content-Length."""


def _limit(root: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(root, name))
    except (OSError, ValueError):  # not known on this platform or file system
        return default


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        # the file system's own limits, asked once: a longer name or path is the client's
        # mistake (400), never an OSError (ENAMETOOLONG) from the first call that meets it
        self._name_max = _limit(self.root, "PC_NAME_MAX", 255)
        self._path_max = _limit(self.root, "PC_PATH_MAX", 4096)

    def path_of(self, key: str) -> Path:
        """The file for a key like `uploads/abc/x.zip`; InvalidInput on traversal attempts
        and on names longer than the file system takes."""
        parts = PurePosixPath(key).parts
        if not parts or any(p in ("..", ".", "") or "\x00" in p for p in parts):
            raise InvalidInput(f"Invalid storage key {key!r}")
        sizes = [len(os.fsencode(p)) for p in parts]
        if (
            max(sizes) > self._name_max
            or len(os.fsencode(self.root)) + sum(sizes) + len(sizes) >= self._path_max
        ):
            raise InvalidInput(f"Storage key too long: each name may hold {self._name_max} bytes")
        target = self.root.joinpath(*parts).resolve()
        if not target.is_relative_to(self.root):
            raise InvalidInput(f"Invalid storage key {key!r}")
        return target

    def clear(self) -> None:
        """Delete every blob (the root itself stays)."""
        for child in self.root.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    async def write_stream(
        self, key: str, chunks: AsyncIterator[bytes], limit: int, expected: int
    ) -> int:
        """Stream chunks to the key's file (constant memory); atomic: a failed, oversized or
        short upload leaves any previous file untouched. Returns the bytes written."""
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    written += len(chunk)
                    if written > limit:
                        raise TooLarge(f"upload exceeds {limit} bytes")
                    out.write(chunk)
            if written != expected:
                raise Incomplete(f"got {written} bytes, Content-Length said {expected}")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return written

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
