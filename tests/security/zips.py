"""ZIPs made of central-directory entries only: one record repeated, with a matching end
record (ZIP64 when the count needs it). Written to a file in chunks, never held whole."""

from __future__ import annotations

import struct
from pathlib import Path

NAME = b"aaa.png"
_LOCAL = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0x21, 0, 0, 0, len(NAME), 0)
_CENTRAL = struct.pack(
    "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, 0, 0, 0, len(NAME), 0, 0, 0, 0, 0, 0
)
RECORD_BYTES = len(_CENTRAL) + len(NAME)


def directory_only_zip(path: Path, entries: int) -> Path:
    """A ZIP whose `entries` central records all point at one empty local file."""
    record = _CENTRAL + NAME
    with path.open("wb") as out:
        out.write(_LOCAL + NAME)
        start = len(_LOCAL) + len(NAME)
        block = record * 10_000
        left = entries
        while left:
            n = min(left, 10_000)
            out.write(block if n == 10_000 else record * n)
            left -= n
        size = entries * len(record)
        end64_at = start + size
        if entries > 0xFFFF:
            out.write(
                struct.pack(
                    "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, start
                )
            )
            out.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end64_at, 1))
        count = min(entries, 0xFFFF)
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0))
    return path
