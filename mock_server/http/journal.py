"""The request journal of the edge: every request (method, path, status, tenant, latency,
fault, and a bounded, masked copy of headers and bodies) in the store's bounded journal."""

from __future__ import annotations

import time
from typing import Any

from mock_server.http.call import Call
from mock_server.http.capture import Exchange, JournalEntry
from mock_server.store import Store
from mock_server.tenancy import TenantIds, mask_secret

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

    def __init__(self, store: Store, tenants: TenantIds, keep: int) -> None:
        self.store = store
        self.tenants = tenants
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
            key = call.api_key.strip()
            tenant = self.tenants.of(key) if key else None
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        values: tuple[Any, ...] = (
            call.method,
            _path(call),
            status,
            tenant,
            latency_ms,
            call.fault,
        )
        names: tuple[str, ...] = _FIELDS
        if call.replay is not None:  # `--replay`: who answered, the recording or the mock
            names, values = (*_FIELDS, "replay"), (*values, call.replay)
        self.store.append_journal(JournalEntry(names, values, exchange), keep=self.keep)
