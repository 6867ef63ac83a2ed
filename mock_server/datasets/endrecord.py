"""A ZIP's end record (EOCD, and its ZIP64 form), read by hand before zipfile sees the file.

Why by hand: `zipfile.ZipFile(path)` reads the whole central directory and builds a
ZipInfo for every entry before anyone can count them (a ZIP of millions of tiny entries
holds a thread for many seconds and takes memory in proportion), and the standard library
has no public way to read the end record alone. The end record says how many entries
there are and how many bytes the central directory holds (the bytes zipfile will read and
parse), so both are checked first.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_EOCD = struct.Struct("<4s4H2LH")  # APPNOTE 4.3.16
_EOCD_SIG = b"PK\x05\x06"
_LOCATOR = struct.Struct("<4sLQL")  # 4.3.15, just before the EOCD
_LOCATOR_SIG = b"PK\x06\x07"
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # 4.3.14
_EOCD64_SIG = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF


class NoEndRecord(ValueError):
    """The file has no (readable) end record: it is not a ZIP, or a damaged one."""


@dataclass(frozen=True)
class EndRecord:
    entries: int  # entries the central directory declares
    directory_bytes: int  # size of the central directory


def read_end_record(path: Path) -> EndRecord:
    """The largest entry count and central-directory size that the end record zipfile
    may take declares, ZIP64 values where present (as zipfile reads them).

    zipfile takes the record that ends the file (no comment), else the last signature in
    the tail; a signature inside an archive comment makes the two differ, so both are
    checked and whichever zipfile picks is within the bounds. Signatures earlier in the
    tail (inside file data) are never taken."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        tail_start = max(0, size - _EOCD.size - _MAX_COMMENT)
        f.seek(tail_start)
        tail = f.read()
        places = {len(tail) - _EOCD.size} if tail[-_EOCD.size :].startswith(_EOCD_SIG) else set()
        last = tail.rfind(_EOCD_SIG)
        if last >= 0 and last + _EOCD.size <= len(tail):
            places.add(last)
        found = [_candidate(f, tail, at, tail_start + at) for at in sorted(places)]
    if not found:
        raise NoEndRecord("no end of central directory record")
    return EndRecord(
        entries=max(r.entries for r in found),
        directory_bytes=max(r.directory_bytes for r in found),
    )


def _candidate(f: BinaryIO, tail: bytes, at: int, eocd_at: int) -> EndRecord:
    fields = _EOCD.unpack_from(tail, at)
    entries, directory_bytes = fields[4], fields[5]
    # like zipfile: a ZIP64 locator just before the record, and the ZIP64 record just
    # before the locator (whatever the locator's offset says); else the 32-bit values stand
    if eocd_at < _LOCATOR.size + _EOCD64.size:
        return EndRecord(entries, directory_bytes)
    f.seek(eocd_at - _LOCATOR.size - _EOCD64.size)
    record = f.read(_EOCD64.size)
    locator = f.read(_LOCATOR.size)
    if not locator.startswith(_LOCATOR_SIG) or not record.startswith(_EOCD64_SIG):
        return EndRecord(entries, directory_bytes)
    zip64 = _EOCD64.unpack(record)
    return EndRecord(entries=zip64[7], directory_bytes=zip64[8])
