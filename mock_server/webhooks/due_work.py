"""Due work other than sending: new jobs put in the due queue, and each job looked at again
when its next webhook event (or, for v2 results, its expiry) comes.

A job's moments are planned when it is stored, so when it next needs looking at is known
then: the queue holds one key per job still waiting on a moment, and a pass reads only the
jobs whose moment has come, never every job stored. New jobs are found by the seq of the
last one seen (kept in the store, shared by the workers), not by reading the list again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from mock_server.lifecycle import due
from mock_server.lifecycle.due import Watch
from mock_server.store import Store

log = logging.getLogger("tunemock.webhooks")

#: How many new records (and due keys) one pass takes at most: a big backlog (a file of
#: 100k jobs opened for the first time) is worked off over several passes, none long.
BATCH = 500


class Feed:
    """Finds new jobs of each watched kind and queues their first look."""

    def __init__(self, store: Store, watches: Sequence[Watch]) -> None:
        self._store = store
        self._watches = {w.kind: w for w in watches}

    def _seen_key(self, kind: str) -> str:
        return f"webhooks.seen_seq.{kind}"

    def feed(self) -> int:
        """Queue the first look of up to BATCH new jobs per kind; how many were read."""
        found = 0
        for kind, watch in self._watches.items():
            seen = int(self._store.get_meta(self._seen_key(kind)) or 0)
            records = self._store.records_after(kind, seen, BATCH)
            if not records:
                continue
            entries: dict[str, float] = {}
            for record in records:
                try:
                    at = watch.first(record)
                except (KeyError, TypeError, ValueError):  # a doc of no known shape
                    log.exception("cannot plan the due work of %s %s", kind, record.id)
                    continue
                if at is not None:
                    entries[due.key(due.JOB, kind, record.id)] = at
            self._store.schedule(entries)
            self._store.update_meta(self._seen_key(kind), _at_least(records[-1].seq))
            found += len(records)
        return found

    def look(self, key: due.DueKey, now: datetime) -> None:
        """Do a job's due work and queue its next look (or take it out of the queue)."""
        watch = self._watches.get(key.kind)
        text = due.key(key.what, key.kind, key.id)
        if watch is None:
            self._store.unschedule([text])
            return
        try:
            again = watch.look(key.id, now)
        except Exception:  # a bug or a doc of no known shape: logged once, never retried
            log.exception("due work of %s failed", text)
            again = None
        if again is None:
            self._store.unschedule([text])
        else:
            self._store.schedule({text: again})


def _at_least(seq: int) -> Callable[[Any], int]:
    """A meta change keeping the larger seq (two workers may read the same new records)."""
    return lambda old: max(int(old or 0), seq)
