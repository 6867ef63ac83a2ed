"""Server-Sent Events for the dashboard: one short message whenever what the pages show may
have changed, so each page refetches only its live part (never a full reload).

The stream polls a cheap fingerprint: the store's change mark (it moves with every write of
records or meta, in any worker: a delivery's attempt, a forced move, a clock advance), the
newest journal entry (every API call, the dashboard's own actions included), the clock and
how many records of each kind exist. None of it reads every delivery or job, so an idle
open tab costs a few cheap reads a poll, whatever is stored. A real clock moves statuses
without any write, so its time is part of the fingerprint too (to the second). Between
polls the stream wakes at once when the change mark moves (with PostgreSQL, on another
instance's LISTEN/NOTIFY too).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread

from mock_server.clock import iso
from mock_server.ui.views import Pages

#: How often the stream looks for a change at the latest (sooner after a write), and how
#: long one connection lasts (the browser reconnects by itself; a bounded stream never holds
#: a server's shutdown up).
POLL_SECONDS = 0.4
WAKE_SECONDS = 0.05  # how often the change mark is looked at in between
STREAM_SECONDS = 25.0
RETRY_MS = 500


def fingerprint(s: Pages) -> str:
    store = s.rt.store
    now = s.now
    moment = iso(now.replace(microsecond=0)) if s.rt.clock.kind == "real" else iso(now)
    parts = {
        "journal": list(store.journal(1)),
        "now": moment,
        "jobs": {name: store.count(name, None) for name in s.kinds},
        "webhooks": store.count("webhook", None),
        "faults": store.count("fault", None),
        # every write of records or meta (a delivery's attempt, a job's move) moves the
        # store's change mark: one cheap read instead of reading every delivery
        "changes": store.changes(),
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def stream(s: Pages, once: bool = False) -> AsyncIterator[str]:
    """`retry`, then a `data:` line with the fingerprint whenever it changes (and at once)."""
    yield f"retry: {RETRY_MS}\n\n"
    last = None
    with anyio.move_on_after(STREAM_SECONDS):
        while True:
            mark = await anyio.to_thread.run_sync(fingerprint, s)
            if mark != last:
                last = mark
                yield f"event: change\ndata: {mark}\n\n"
                if once:
                    return
            await _until_written(s, POLL_SECONDS)


async def _until_written(s: Pages, at_most: float) -> None:
    """Wait until the store's change mark moves (a write by this process or, through the
    store, by any other: SQLite's WAL header, PostgreSQL's LISTEN/NOTIFY; reading the mark
    costs no query), or `at_most` seconds: the journal and a real clock move without one."""
    store = s.rt.store
    seen = store.changes()
    with anyio.move_on_after(at_most):
        while store.changes() == seen:
            await anyio.sleep(WAKE_SECONDS)
