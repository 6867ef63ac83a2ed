"""Forced transitions on stored jobs: one atomic read-modify-write, whatever the job kind."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from mock_server.errors import NotFound
from mock_server.lifecycle import due, serial
from mock_server.lifecycle.machine import Lifecycle, force
from mock_server.store import Record, Store


def force_stored(
    store: Store,
    kind: str,
    job_id: str,
    lifecycle: Lifecycle,
    now: datetime,
    state: str | None,
    detail: str | None,
) -> Record | None:
    """Move a stored job now (see `force`); None if there is no such job. The job is put in
    the due queue at `now`: what waits on its moments (webhooks, retention) looks again."""

    def change(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        moved = force(lifecycle, serial.load(doc["transitions"]), now, state, detail)
        return {**doc, "transitions": serial.dump(moved)}

    record = store.update(kind, job_id, None, change)
    if record is not None:
        store.schedule({due.key(due.JOB, kind, job_id): now.timestamp()})
    return record


J = TypeVar("J")

#: how a job kind makes its job of a stored doc: (id, tenant, doc) -> job
Decode = Callable[[str, str, Mapping[str, Any]], J]


class DecodedJobs(Generic[J]):
    """The job `decode` made of each recently read record, reused while its stored doc is the
    same.

    Decoding a job (timestamps parsed, transitions built) is most of reading one, and every
    status poll and list reads jobs that have not changed since the last read. A hit is
    checked by value (the stored doc equals the one decoded), not by version: a reset, or
    another worker deleting and re-inserting an id, restarts versions and seqs, and a value
    check cannot be fooled by that. The check compares the records' JSON text, so a hit
    never decodes the doc at all. Jobs are immutable, so one can be shared by every reader.
    Bounded, least recently used out."""

    def __init__(self, decode: Decode[J], size: int = 4096) -> None:
        self._decode = decode
        self._size = size
        self._lock = threading.Lock()  # submit and scenarios run in worker threads
        self._jobs: OrderedDict[tuple[str, str], tuple[Record, J]] = OrderedDict()

    def job(self, record: Record, doc: Mapping[str, Any] | None = None) -> J:
        """The job of `record`. `doc`, when given, is the record's doc as its writer built it
        (equal to its text decoded): the job is made of it, and the text is never decoded."""
        key = (record.kind, record.id)
        with self._lock:
            hit = self._jobs.get(key)
            if hit is not None and hit[0].tenant == record.tenant and hit[0].text == record.text:
                self._jobs.move_to_end(key)
                return hit[1]
        job = self._decode(record.id, record.tenant, record.doc if doc is None else doc)
        with self._lock:
            self._jobs[key] = (record, job)
            self._jobs.move_to_end(key)
            while len(self._jobs) > self._size:
                self._jobs.popitem(last=False)
        return job


@dataclass(frozen=True)
class StoredJobs(Generic[J]):
    """What every job kind does the same way over the store: read one, list a tenant's (or
    everyone's), force a move. `load` turns a stored doc into the kind's job (reused through
    `DecodedJobs` while the record is unchanged: `job`); `missing` words an unknown id as
    that kind's vendor does."""

    store: Store
    kind: str
    lifecycle: Lifecycle
    now: Callable[[], datetime]
    load: Decode[J]
    missing: Callable[[str], str]
    _decoded: DecodedJobs[J] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_decoded", DecodedJobs(self.load))

    def job(self, record: Record) -> J:
        """The job of a record of this kind (one just stored, or read)."""
        return self._decoded.job(record)

    def insert(self, tenant: str, job_id: str, doc: Mapping[str, Any]) -> J:
        """Store a new job and give it back. `doc` must be what reading it back gives
        (dicts, lists, str keys: JSON-shaped, as each service builds it): the job is made
        from it instead of from the stored text, which saves decoding it again on every
        submit."""
        return self._decoded.job(self.store.insert(self.kind, tenant, job_id, doc), doc)

    def get(self, tenant: str | None, job_id: str) -> J:
        record = self.store.get(self.kind, job_id, tenant)
        if record is None:
            raise NotFound(self.missing(job_id))
        return self.job(record)

    def list(self, tenant: str | None) -> Sequence[J]:
        return [self.job(r) for r in self.store.list(self.kind, tenant)]

    def force(self, job_id: str, state: str | None, detail: str | None) -> J:
        """Admin: move a job now along a legal edge (default: its next planned state)."""
        record = force_stored(
            self.store, self.kind, job_id, self.lifecycle, self.now(), state, detail
        )
        if record is None:
            raise NotFound(self.missing(job_id))
        return self.job(record)
