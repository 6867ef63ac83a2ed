"""Journal entries that travel to a file unformatted: packed as atoms, formatted when read.

Every request writes a journal entry and few are ever read. The memory store keeps the
entry object and formats it on reading; the SQLite store has to put it in the file, and
formatting plus JSON-encoding each one there was ~40 µs of a ~85 µs request (issue 13).
An entry that can say what it is made of (`Packable.packed()`: a codec name and atoms)
goes to the file as `marshal` bytes instead (~1 µs); the codec registered under that name
turns the atoms back into an entry when the journal is read, in any process of the server.

marshal, not pickle: loading it runs no code, and `unpack` checks what it got. It is
written and read by the same tunemock (a state file is this machine's own); a row that
does not load is skipped with a warning, never an error for the reader.
"""

from __future__ import annotations

import json
import logging
import marshal
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from mock_server.store.base import encode

log = logging.getLogger("tunemock")

Unpacker = Callable[[Any], Mapping[str, Any]]
_CODECS: dict[str, Unpacker] = {}


class Packable(Protocol):
    def packed(self) -> tuple[str, Any]:
        """(codec name, the entry as atoms: str, bytes, numbers, None, tuples of them)."""
        ...


def register(name: str, unpack: Unpacker) -> None:
    """Make entries packed under `name` readable: `unpack(atoms)` rebuilds one (and raises
    ValueError/TypeError on atoms it cannot take)."""
    _CODECS[name] = unpack


def pack(entry: Mapping[str, Any]) -> bytes | str:
    """The entry as the file keeps it: marshal bytes if it can be packed, else JSON text."""
    packed = getattr(entry, "packed", None)  # not isinstance: a Protocol check costs µs
    if packed is not None:
        try:
            return marshal.dumps(packed())
        except ValueError:  # an atom marshal does not take: keep the entry as JSON
            pass
    return encode(entry)


def unpack(stored: bytes | str) -> dict[str, Any] | None:
    """The entry `pack` stored, as a plain JSON object (the reader's own); None, with a
    warning, if it cannot be read back."""
    try:
        if isinstance(stored, bytes):
            name, atoms = marshal.loads(stored)
            stored = encode(_CODECS[name](atoms))
        value = json.loads(stored)
    except (ValueError, TypeError, EOFError, KeyError) as exc:
        log.warning("request journal: skipped an entry that cannot be read (%r)", exc)
        return None
    if not isinstance(value, dict):
        log.warning("request journal: skipped an entry that is not an object")
        return None
    return value
