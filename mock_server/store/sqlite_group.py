"""The SQLite store's group commit: inserts asked for by the tasks of one event-loop turn go
to the file in one transaction.

A submit's own transaction (BEGIN, INSERT, COMMIT, SQLite writing the pages to its log, a
checkpoint every ~1,000 pages) was a large share of a SQLite submit's CPU, and N clients
submitting at once made N transactions in a row. Here an insert made from a
task waits for the end of the loop's turn: every insert asked for meanwhile is written in
one transaction, and each task gets its own outcome (its record, or its Conflict) only once
that transaction has committed, so an answer still never goes out before its write is in
the file. Nothing is batched across turns or loops: an insert waits for the tasks that
were ready with it, never for a timer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import NamedTuple

from mock_server.store.base import Record


class NewRecord(NamedTuple):
    kind: str
    tenant: str
    id: str
    text: str  # the doc, encoded


#: writes records in one transaction: each one's Record, or the exception it alone got
#: (Conflict); raises when the whole transaction failed
WriteAll = Callable[[Sequence[NewRecord]], list[Record | Exception]]


class GroupCommit:
    """Inserts of one event-loop turn, written together by `write_all` at the turn's end."""

    def __init__(self, write_all: WriteAll) -> None:
        self._write_all = write_all
        self._lock = threading.Lock()  # one store may serve several loops (threads)
        self._waiting: dict[asyncio.AbstractEventLoop, list[_Waiter]] = {}

    async def insert(self, new: NewRecord) -> Record:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Record] = loop.create_future()
        with self._lock:
            group = self._waiting.get(loop)
            if group is None:
                group = self._waiting[loop] = []
                # after every callback ready now: the tasks of this turn add theirs first
                loop.call_soon(self._commit, loop)
            group.append((new, future))
        return await future

    def _commit(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            group = self._waiting.pop(loop, [])
        try:
            outcomes = self._write_all([new for new, _ in group])
        except Exception as exc:  # nothing was written: each waiter gets the error
            outcomes = [exc] * len(group)
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if future.done():  # its task was cancelled (the client went away)
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


_Waiter = tuple[NewRecord, "asyncio.Future[Record]"]
