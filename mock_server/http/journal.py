"""The request journal of the edge: every request (method, path, status, tenant, latency,
fault, and a bounded, masked copy of headers and bodies) in the store's bounded journal."""

from __future__ import annotations

import time

from mock_server.http.call import Call
from mock_server.http.capture import Exchange, JournalEntry, mask_secret
from mock_server.store import Store

_UNJOURNALED = ("/_mock/requests", "/_mock/ui")
#: the first fields of an entry (then `at`, `request`, `response`), named once for all
_FIELDS = ("method", "path", "status", "tenant", "latency_ms", "fault")


def _path(call: Call) -> str:
    """The path as journaled: a key in it (`/_mock/credits/{api_key}`) masked."""
    params = call.found[1] if call.found is not None else None
    key = params.get("api_key") if params else None
    if not key:
        return call.path
    head, _, tail = call.path.rpartition(key)
    return f"{head}{mask_secret(key)}{tail}"


class RequestJournal:
    """Outermost concern of the edge, so it sees the status the client finally got. The
    journal's own reads and the dashboard's pages (/_mock/ui) stay out of it."""

    def __init__(self, store: Store, keep: int) -> None:
        self.store = store
        self.keep = keep

    def skips(self, path: str) -> bool:
        # journal_size 0 turns the journal off: an entry is made, kept for `keep` requests
        # and freed for every request, a cost a CI run that reads none need not pay
        return self.keep <= 0 or path.startswith(_UNJOURNALED)

    def record(self, call: Call, exchange: Exchange, started: float) -> None:
        """Keep the finished exchange (formatted only if someone reads it)."""
        tenant = call.tenant
        status = exchange.status
        if tenant is None and status != 401 and not call.path.startswith("/_mock"):
            # refused before auth ran (a fault, a rate limit, a 403): who asked
            tenant = call.api_key.strip() or None
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        # the tenant is its key: kept masked, as every key the journal holds
        tenant = mask_secret(tenant) if tenant else tenant
        values = (call.method, _path(call), status, tenant, latency_ms, call.fault)
        self.store.append_journal(JournalEntry(_FIELDS, values, exchange), keep=self.keep)
