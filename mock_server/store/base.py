"""The one store interface every piece of state goes through (jobs, meta, journal, ...).

Records are JSON documents grouped by `kind` ("finetune", "inference", "lora-trainer",
"webhook", ...), each owned by one tenant. Tenancy is enforced here: a read with a tenant
never returns another tenant's record, so "another tenant's id" and "unknown id" are the
same answer by construction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from mock_server.errors import InvalidInput
from mock_server.texts import (
    describe,
    escape_unpaired,
    find_unpaired,
    may_hold_surrogates,
    visible,
)


def encode(value: Any) -> str:
    """A doc, meta value or journal entry as every store keeps it: compact JSON text, so what
    one store refuses (a set, a datetime) the other refuses too. Any Mapping is an object
    (json itself takes dicts only; a lazy journal entry is a Mapping)."""
    return json.dumps(value, separators=(",", ":"), default=_mapping)


def encode_doc(value: Any) -> str:
    """`encode` for what a record or meta value keeps: InvalidInput when it holds text no
    answer could carry (an unpaired surrogate), so nothing is stored that cannot be read
    back out over HTTP."""
    text = encode(value)
    if may_hold_surrogates(text):
        found = find_unpaired(value)
        if found is not None:
            where = visible(".".join(str(part) for part in found[0])) or "(value)"
            raise InvalidInput(f"{where}: holds {describe(found[1])}")
    return text


def decode(text: str) -> Any:
    """A stored JSON text's value; unpaired surrogates (stored before they were refused)
    read back escaped, as their six visible characters."""
    return json.loads(escape_unpaired(text))


def _mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


#: What `Store.update` does to a record: its doc (the caller's own copy) to the new doc.
DocChange = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Record:
    """One stored document, as its JSON `text`; `doc` decodes it on first use (a fresh copy
    of this record's own, a function of `text` alone, so caching it changes nothing a
    reader can see). Carrying the text lets a reader that has seen this exact doc before (a
    decoded-job cache) skip decoding it again. `seq` orders records of a store by insertion
    (newest = highest)."""

    kind: str
    id: str
    tenant: str
    text: str = field(repr=False)
    version: int = 1
    seq: int = 0

    @cached_property
    def doc(self) -> Mapping[str, Any]:
        decoded: Mapping[str, Any] = decode(self.text)
        return decoded

    @classmethod
    def of(
        cls, kind: str, id: str, tenant: str, doc: Mapping[str, Any], version: int = 1, seq: int = 0
    ) -> Record:
        """A record of `doc` (encoded as a store would)."""
        return cls(kind, id, tenant, encode_doc(doc), version, seq)


class Store(Protocol):
    """State of the mock. Implementations must be safe for concurrent use by the threads of
    one process, and (SqliteStore) by several processes sharing one file.

    Docs and meta values are JSON (dict/list/str/int/float/bool/None); anything else raises
    TypeError and stores nothing. Every doc returned is the caller's own copy: editing it
    never changes stored state."""

    #: Whether a write may wait for a lock another process holds (SQLite's write lock, a
    #: PostgreSQL row): code on the event loop then runs its writes in a worker thread.
    writes_may_wait: bool

    def insert(
        self,
        kind: str,
        tenant: str,
        id: str,
        doc: Mapping[str, Any],
        due: Mapping[str, float] | None = None,
    ) -> Record:
        """Add a record; raises mock_server.errors.Conflict if (kind, id) exists. `due`: keys
        put in the due queue (as `schedule` does) in the same write, so no reader, and no
        process killed between the two, ever sees the record without them."""
        ...

    def get(self, kind: str, id: str, tenant: str | None) -> Record | None:
        """The record, or None if absent or owned by another tenant (tenant None = any)."""
        ...

    def list(self, kind: str, tenant: str | None, limit: int | None = None) -> Sequence[Record]:
        """Records of a kind (one tenant's, or all with None), newest first; at most `limit`
        (>= 0, else ValueError) of them."""
        ...

    def update(self, kind: str, id: str, tenant: str | None, change: DocChange) -> Record | None:
        """Atomically replace a record's doc with change(doc) and bump its version (seq stays);
        None if absent/other tenant, without calling change. `change` gets its own copy and may
        raise; then nothing is written and the exception propagates. It runs while the store
        holds its write lock: keep it quick, and never call the store from inside it."""
        ...

    def delete(self, kind: str, id: str, tenant: str | None) -> bool:
        """Remove a record; False if absent/other tenant."""
        ...

    def count(self, kind: str, tenant: str | None) -> int:
        """How many records of a kind (one tenant's or all)."""
        ...

    def get_meta(self, key: str) -> Any | None:
        """A JSON value stored under key (clock offset, secrets, ...), or None if unset (so a
        stored None reads like an unset key)."""
        ...

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under key."""
        ...

    def delete_meta(self, key: str) -> None:
        """Forget a meta value, its name too (a name may say whose it was); none: nothing."""
        ...

    def update_meta(self, key: str, change: Callable[[Any | None], Any]) -> Any:
        """Atomically set key to change(current value or None) and return the new value;
        across processes too (read-modify-write of counters, create-if-absent secrets)."""
        ...

    def append_journal(self, entry: Mapping[str, Any], keep: int) -> None:
        """Add a request-journal entry, keeping only the newest `keep`. The entry is handed
        over (the caller never changes it again) and must be JSON when read; a store may keep
        the mapping as is and encode it only when someone reads the journal."""
        ...

    def journal(self, limit: int) -> Sequence[Mapping[str, Any]]:
        """The newest `limit` journal entries, newest first."""
        ...

    # --- due work: keys ordered by when they are due, shared by every worker -------------
    # The dispatcher finds what is due here (a heap in memory, an index in SQLite) instead
    # of reading every job: a pass costs what is due, not what is stored.

    def schedule(self, entries: Mapping[str, float]) -> None:
        """Put each key in the due queue at its time (POSIX seconds on the mock's clock),
        moving it if it is there already; all in one write."""
        ...

    def unschedule(self, keys: Sequence[str]) -> None:
        """Take keys out of the due queue (absent ones are ignored)."""
        ...

    def due(self, now: float, limit: int) -> Sequence[str]:
        """Keys due at `now` (time <= now), earliest first, at most `limit`; they stay
        queued until moved or taken out."""
        ...

    def next_due(self) -> float | None:
        """When the earliest queued key is due, or None with an empty queue."""
        ...

    def records_after(self, kind: str, seq: int, limit: int) -> Sequence[Record]:
        """Records of a kind inserted after `seq`, oldest first, at most `limit`: a reader
        that keeps the last seq it saw finds new records without reading old ones."""
        ...

    def changes(self) -> Hashable:
        """A mark that moves with every write of records or meta (by any process sharing the
        store): equal marks mean nothing was written between them. Cheap enough to poll."""
        ...

    def view(self) -> AbstractContextManager[None]:
        """One request's reads: inside, a store that asks whether its data changed before
        each cached read (SQLite's read cache) may ask once, so every read sees at least
        what was written before the view's first read. Stores that read fresh each time
        answer a context that does nothing."""
        ...

    def reset(self) -> None:
        """Forget every record, meta value, journal entry and due key; seqs start over from 1."""
        ...

    def close(self) -> None:
        """Release files/connections."""
        ...
