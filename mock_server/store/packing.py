"""Journal entries that travel to a file unformatted: packed as atoms, formatted when read.

Every request writes a journal entry and few are ever read. The memory store keeps the
entry object and formats it on reading; the SQLite store has to put it in the file, and
formatting plus JSON-encoding each one there was about half of a small request's time.
An entry that can say what it is made of (a method `packed()` giving a codec name and
atoms: str, bytes, numbers, None, tuples of them) goes to the file as `marshal` bytes
instead, a whole batch of entries in one value; the codec registered under that
name turns the atoms back into an entry when the journal is read, in any process of the
server.

marshal, not pickle: loading it runs no code, and `unpack_batch` checks what it got. It is
written and read by the same tunemock (a state file is this machine's own); a row that
does not load is skipped with a warning, never an error for the reader.
"""

from __future__ import annotations

import itertools
import logging
import marshal
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from mock_server.store.base import decode, encode

log = logging.getLogger("tunemock")

Unpacker = Callable[[Any], Mapping[str, Any]]
_CODECS: dict[str, Unpacker] = {}


def register(name: str, unpack: Unpacker) -> None:
    """Make entries packed under `name` readable: `unpack(atoms)` rebuilds one (and raises
    ValueError/TypeError on atoms it cannot take)."""
    _CODECS[name] = unpack


_BATCH = "journal-batch/1"
_Item = tuple[str, Any] | str  # a packed entry (codec, atoms), or one kept as JSON text


def pack_batch(entries: Sequence[Mapping[str, Any]], keep: int) -> bytes:
    """Entries (oldest first) as one value for the file, with the journal's size when they
    were written: one row for a whole batch costs SQLite a fifth of a row per entry."""
    items = [_item(entry) for entry in entries]
    try:
        return marshal.dumps((_BATCH, keep, items))
    except ValueError:  # an entry has an atom marshal refuses: that one goes as JSON
        return marshal.dumps(
            (_BATCH, keep, [_checked(i, e) for i, e in zip(items, entries, strict=True)])
        )


def _item(entry: Mapping[str, Any]) -> _Item:
    packed = getattr(entry, "packed", None)  # not isinstance: a Protocol check costs µs
    return encode(entry) if packed is None else packed()


def _checked(item: _Item, entry: Mapping[str, Any]) -> _Item:
    try:
        marshal.dumps(item)
    except ValueError:
        return encode(entry)
    return item


def unpack_batch(stored: bytes | str) -> tuple[int | None, Iterator[dict[str, Any]]]:
    """What `pack_batch` stored: (the journal's size then, its entries newest first, each a
    plain JSON object of the reader's own, formatted as the iterator reaches it: a reader
    of the newest entry formats one, not the batch). A row from before batches (one entry's
    JSON text) has no size. What cannot be read back is skipped, with a warning."""
    if isinstance(stored, str):
        return None, _entries([stored])
    try:
        name, keep, items = marshal.loads(stored)
        if name != _BATCH or not isinstance(keep, int) or not isinstance(items, list):
            raise TypeError("not a batch of journal entries")
    except (ValueError, TypeError, EOFError) as exc:
        log.warning("request journal: skipped a batch that cannot be read (%r)", exc)
        return None, iter(())
    return keep, _entries(reversed(items))


def newest_entries(batches: Iterable[bytes | str], limit: int) -> list[dict[str, Any]]:
    """The newest `limit` entries of a journal's stored `batches` (newest batch first), newest
    first; batches are taken only until the entries are in hand (the iterable may be a
    cursor, read no further). The newest batch says how many entries the journal keeps.
    Batches are in the order they were committed, and two processes' batches overlap by up
    to their interval, so the entries are put in the order they were made."""
    found: list[dict[str, Any]] = []
    cap, first = max(limit, 0), True
    for stored in batches:
        if len(found) >= cap:
            break
        keep, entries = unpack_batch(stored)
        if keep is not None and first:
            cap = min(cap, keep)
        first = False
        found += itertools.islice(entries, cap - len(found))
    found.sort(key=_made_at, reverse=True)  # stable: equal times keep the stored order
    return found


def _made_at(entry: Mapping[str, Any]) -> str:
    at = entry.get("at")
    return at if isinstance(at, str) else ""  # ISO 8601 in UTC, as every entry has it


def _entries(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
    return (entry for entry in map(_entry, items) if entry is not None)


def _entry(item: Any) -> dict[str, Any] | None:
    try:
        if not isinstance(item, str):
            name, atoms = item
            item = encode(_CODECS[name](atoms))
        value = decode(item)
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("request journal: skipped an entry that cannot be read (%r)", exc)
        return None
    if not isinstance(value, dict):
        log.warning("request journal: skipped an entry that is not an object")
        return None
    return value
