"""Durable deliveries: one record per (webhook, job, event), attempts, retries, the logs.

A delivery's id is deterministic, so finding the same event twice (two workers, a restart)
enqueues it once. Deliveries of one job go out in event order: the next one waits until
the one before it is delivered or given up.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mock_server.clock import iso, parse_iso, utc_now
from mock_server.errors import Conflict
from mock_server.outbound import NOT_ALLOWED
from mock_server.store import Record, Store

KIND = "delivery"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
#: An attempt whose error starts with NOT_ALLOWED was refused by the outbound policy (the
#: mock's own address, or outside webhook_targets): nothing was sent, and it is not retried.


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 1.0  # first retry after ~1 s, then 2, 4, 8 ... (mock clock)
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        """Seconds before the retry after failed `attempt` (1-based), with jitter."""
        spread = random.uniform(1 - self.jitter, 1 + self.jitter)
        return float(self.base_seconds * 2 ** (attempt - 1) * spread)


def retryable(status: int | None) -> bool:
    """Connection errors and timeouts (no status), 5xx, 408 and 429 are worth a retry."""
    return status is None or status >= 500 or status in (408, 429)


class Deliveries:
    def __init__(self, store: Store, policy: RetryPolicy) -> None:
        self._store = store
        self.policy = policy

    def enqueue(
        self,
        tenant: str,
        webhook: Mapping[str, Any],
        job_id: str | None,
        event: str,
        order: int,
        payload: Mapping[str, Any],
        due: datetime,
        delivery_id: str | None = None,
        lease: float | None = None,
    ) -> Mapping[str, Any] | None:
        """Add a pending delivery (optionally already leased to the caller); None if this
        (webhook, job, event) is already there."""
        delivery_id = delivery_id or f"{webhook['webhook_id']}:{job_id}:{event}"
        doc = {
            "delivery_id": delivery_id,
            "webhook_id": webhook["webhook_id"],
            "url": webhook["webhook_url"],
            "signing_secret": webhook.get("signing_secret"),
            "job_id": job_id,
            "event": event,
            "order": order,
            "payload": dict(payload),
            "state": PENDING,
            "attempts": [],
            "next_attempt_at": iso(due),
            "lease_until": iso(utc_now() + timedelta(seconds=lease)) if lease else None,
            "created_at": iso(due),
        }
        try:
            return self._store.insert(KIND, tenant, delivery_id, doc).doc
        except Conflict:
            return None

    def due(self, now: datetime) -> list[Record]:
        """Pending deliveries whose time has come, first-in-order per (webhook, job)."""
        pending = [r for r in self._store.list(KIND, None) if r.doc["state"] == PENDING]
        heads: dict[tuple[str, str | None], Record] = {}
        for record in pending:
            key = (record.doc["webhook_id"], record.doc["job_id"] or record.id)
            held = heads.get(key)
            if held is None or record.doc["order"] < held.doc["order"]:
                heads[key] = record
        return [r for r in heads.values() if parse_iso(r.doc["next_attempt_at"]) <= now]

    def claim(self, record: Record, lease_seconds: float) -> Record | None:
        """Take the delivery for one attempt (across workers); None if someone else has it."""

        class Taken(Exception):
            pass

        wall = utc_now()

        def take(doc: Mapping[str, Any]) -> Mapping[str, Any]:
            lease = doc.get("lease_until")
            if doc["state"] != PENDING or (lease and parse_iso(lease) > wall):
                raise Taken
            return {**doc, "lease_until": iso(wall + timedelta(seconds=lease_seconds))}

        try:
            return self._store.update(KIND, record.id, None, take)
        except Taken:
            return None

    def record_attempt(
        self,
        delivery_id: str,
        now: datetime,
        status: int | None,
        latency_ms: float,
        error: str | None,
        response_body: str | None,
        retry: bool = True,
    ) -> Mapping[str, Any] | None:
        """Log one attempt; schedule the retry, or close the delivery."""

        def change(doc: Mapping[str, Any]) -> Mapping[str, Any]:
            attempts = [*doc["attempts"]]
            attempt = {
                "attempt": len(attempts) + 1,
                "at": iso(now),
                "status_code": status,
                "latency_ms": round(latency_ms, 3),
                "error": error,
                "response_body": response_body,
            }
            attempts.append(attempt)
            success = status is not None and 200 <= status < 300
            state, next_at = DELIVERED if success else FAILED, None
            refused = bool(error) and str(error).startswith(NOT_ALLOWED)
            worth_retrying = retry and retryable(status) and not refused
            if not success and worth_retrying and len(attempts) < self.policy.max_attempts:
                state = PENDING
                next_at = iso(now + timedelta(seconds=self.policy.delay(len(attempts))))
            return {
                **doc,
                "attempts": attempts,
                "state": state,
                "lease_until": None,
                "next_attempt_at": next_at or doc["next_attempt_at"],
                "next_retry_at": next_at,
            }

        record = self._store.update(KIND, delivery_id, None, change)
        return record.doc if record else None

    def get(self, delivery_id: str) -> Record | None:
        return self._store.get(KIND, delivery_id, None)

    def of_webhook(self, tenant: str, webhook_id: str) -> Sequence[Mapping[str, Any]]:
        return [r.doc for r in self._store.list(KIND, tenant) if r.doc["webhook_id"] == webhook_id]

    def all(self, tenant: str | None = None) -> Sequence[Record]:
        return self._store.list(KIND, tenant)


def sdk_log_entries(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A delivery as /webhook/dispatch-logs shows it: one entry per attempt, newest first."""
    return [
        {
            "delivery_id": doc["delivery_id"],
            "event": doc["event"],
            "attempt": a["attempt"],
            "status_code": a["status_code"],
            "success": a["status_code"] is not None and 200 <= a["status_code"] < 300,
            "delivered_at": a["at"],
            "latency_ms": a["latency_ms"],
            "request_payload": doc["payload"],
            # never the target's body: handing it to the tenant would make every webhook an
            # SSRF read of whatever the URL points at (the admin API keeps its first 2 KB)
            "response_body": None,
        }
        for a in reversed(doc["attempts"])
    ]
