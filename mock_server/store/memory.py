"""The default store: process-local dicts behind one lock, gone when the process ends."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from mock_server.errors import Conflict
from mock_server.store.base import DocChange, Record, decode, encode, encode_doc
from mock_server.store.due_heap import DueHeap

#: A stored record: (tenant, doc as canonical JSON text, version, seq). A plain tuple of str
#: and int on purpose: the garbage collector stops tracking such tuples (not dataclasses, not
#: NamedTuples), so 100k stored jobs add nothing to each full collection, which otherwise
#: walks them all and puts a tail on every request of a big store.
_Row = tuple[str, str, int, int]


def _record(kind: str, id: str, row: _Row) -> Record:
    tenant, text, version, seq = row
    # the doc is decoded when read, a fresh copy nobody else holds
    return Record(kind, id, tenant, text, version, seq)


class MemoryStore:
    """`Store` in dicts; safe across the threads of one process, invisible to other ones."""

    writes_may_wait = False  # a lock of this process only, held for a dict update

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._rows: dict[str, dict[str, _Row]] = {}
        # the same rows by kind and tenant: one tenant's list or count never walks the others'
        # (dicts keep insertion order, which is seq order, so newest first needs no sort)
        self._by_tenant: dict[str, dict[str, dict[str, _Row]]] = {}
        self._meta: dict[str, str] = {}
        self._journal: deque[Mapping[str, Any]] = deque()
        self._seq = 0
        self._due = DueHeap()
        self._writes = 0  # moves with every write of records or meta: changes()

    def _visible(self, kind: str, id: str, tenant: str | None) -> _Row | None:
        row = self._rows.get(kind, {}).get(id)
        if row is None or (tenant is not None and row[0] != tenant):
            return None
        return row

    def insert(
        self,
        kind: str,
        tenant: str,
        id: str,
        doc: Mapping[str, Any],
        due: Mapping[str, float] | None = None,
    ) -> Record:
        text = encode_doc(doc)
        with self._lock:
            rows = self._rows.setdefault(kind, {})
            if id in rows:
                raise Conflict(f"{kind} {id!r} exists already")
            if due:
                self._due.schedule(due)
            self._seq += 1
            self._writes += 1
            row = rows[id] = (tenant, text, 1, self._seq)
            self._by_tenant.setdefault(kind, {}).setdefault(tenant, {})[id] = row
            return _record(kind, id, row)

    def get(self, kind: str, id: str, tenant: str | None) -> Record | None:
        with self._lock:
            row = self._visible(kind, id, tenant)
            return None if row is None else _record(kind, id, row)

    def list(self, kind: str, tenant: str | None, limit: int | None = None) -> Sequence[Record]:
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        with self._lock:
            rows = self._rows_of(kind, tenant)
            # the newest `limit` rows (immutable tuples) under the lock; decoded outside it
            newest = list(itertools.islice(reversed(rows.items()), limit))
        return [_record(kind, id, row) for id, row in newest]

    def _rows_of(self, kind: str, tenant: str | None) -> dict[str, _Row]:
        if tenant is None:
            return self._rows.get(kind, {})
        return self._by_tenant.get(kind, {}).get(tenant, {})

    def update(self, kind: str, id: str, tenant: str | None, change: DocChange) -> Record | None:
        with self._lock:
            row = self._visible(kind, id, tenant)
            if row is None:
                return None
            # change gets its own copy, so a change that edits it in place and then raises
            # leaves nothing behind; the row is touched only after change and encode succeed.
            owner, doc, version, seq = row
            new = (owner, encode_doc(change(decode(doc))), version + 1, seq)
            self._writes += 1
            self._rows[kind][id] = self._by_tenant[kind][owner][id] = new
            return _record(kind, id, new)

    def delete(self, kind: str, id: str, tenant: str | None) -> bool:
        with self._lock:
            if self._visible(kind, id, tenant) is None:
                return False
            self._writes += 1
            row = self._rows[kind].pop(id)
            owned = self._by_tenant[kind][row[0]]
            del owned[id]
            if not owned:  # tenants come and go in tests: keep no empty maps behind
                del self._by_tenant[kind][row[0]]
            return True

    def count(self, kind: str, tenant: str | None) -> int:
        with self._lock:
            return len(self._rows_of(kind, tenant))

    def get_meta(self, key: str) -> Any | None:
        with self._lock:
            text = self._meta.get(key)
        return None if text is None else decode(text)

    def set_meta(self, key: str, value: Any) -> None:
        text = encode_doc(value)
        with self._lock:
            self._meta[key] = text
            self._writes += 1

    def delete_meta(self, key: str) -> None:
        with self._lock:
            if self._meta.pop(key, None) is not None:
                self._writes += 1

    def update_meta(self, key: str, change: Callable[[Any | None], Any]) -> Any:
        with self._lock:
            text = self._meta.get(key)
            encoded = encode_doc(change(None if text is None else decode(text)))
            self._meta[key] = encoded
            self._writes += 1
        return decode(encoded)

    def append_journal(self, entry: Mapping[str, Any], keep: int) -> None:
        # kept as given and encoded when read: a lazy entry (http.capture.JournalEntry) is
        # formatted only if someone reads it, which most never are
        with self._lock:
            if self._journal.maxlen != max(keep, 0):  # keep is the same on every call
                self._journal = deque(self._journal, maxlen=max(keep, 0))
            self._journal.append(entry)  # the oldest falls out

    def journal(self, limit: int) -> Sequence[Mapping[str, Any]]:
        with self._lock:
            newest = list(itertools.islice(reversed(self._journal), max(limit, 0)))
        return [decode(encode(entry)) for entry in newest]

    def reset(self) -> None:
        with self._lock:
            self._rows.clear()
            self._by_tenant.clear()
            self._meta.clear()
            self._journal.clear()
            self._due.clear()
            self._writes += 1
            # seqs restart like a fresh store's (as SqliteStore's AUTOINCREMENT counter does)
            self._seq = 0

    def schedule(self, entries: Mapping[str, float]) -> None:
        with self._lock:
            self._due.schedule(entries)
            self._writes += 1

    def unschedule(self, keys: Sequence[str]) -> None:
        with self._lock:
            self._due.unschedule(keys)

    def due(self, now: float, limit: int) -> Sequence[str]:
        with self._lock:
            return self._due.due(now, limit)

    def next_due(self) -> float | None:
        with self._lock:
            return self._due.next_due()

    def records_after(self, kind: str, seq: int, limit: int) -> Sequence[Record]:
        found: list[tuple[str, _Row]] = []
        with self._lock:
            # newest first until the first one already seen: reads only what is new
            for id, row in reversed(self._rows.get(kind, {}).items()):
                if row[3] <= seq:
                    break
                found.append((id, row))
        found.reverse()
        return [_record(kind, id, row) for id, row in found[:limit]]

    def changes(self) -> Hashable:
        return self._writes

    def view(self) -> AbstractContextManager[None]:
        return nullcontext()  # every read is of the dicts themselves

    def close(self) -> None:
        """Nothing to release; the state stays readable until the object is dropped."""
