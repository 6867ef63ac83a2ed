"""Durable deliveries: one record per (webhook, job, event), attempts, retries, the logs.

A delivery's id is deterministic, so finding the same event twice (two workers, a restart)
enqueues it once. Deliveries of one job go out in event order: the next one waits until
the one before it is delivered or given up (each carries its `chain`, the ids of every
event of its webhook and job in order). Each pending delivery sits in the store's due queue
at its next attempt; a closed one sits there until its retention ends, then is deleted.

A pending delivery is in the due queue from the write that stores it until the write after
the one that closes it, so a worker killed between any two writes leaves nothing lost: what
it held, or what waits on what it closed, comes up again at the latest a lease later.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mock_server.clock import iso, parse_iso, utc_now
from mock_server.errors import Conflict
from mock_server.lifecycle import due as due_keys
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


#: Set in a state once every pending delivery in it is known to have its due key.
KEPT_QUEUED_META = "webhooks.deliveries_kept_queued"
#: Due keys a start reads at most to send what a stopped process parked.
RECOVER_KEYS = 10_000

#: How long a closed delivery stays in the log (mock clock), unless configured otherwise.
RETENTION_SECONDS = 7 * 24 * 3600.0


def was_refused(error: str | None) -> bool:
    """Whether an attempt's error says the outbound policy refused its target."""
    return bool(error) and str(error).startswith(NOT_ALLOWED)


#: What a delivery came to, in the words a reader filters by: waiting for its first
#: attempt, waiting for a retry, done, given up, or never sent (its target refused).
OUTCOMES = ("pending", "retrying", "delivered", "failed", "refused")


def outcome(state: str, attempts: Sequence[Mapping[str, Any]]) -> str:
    """One of OUTCOMES for a delivery in `state` after `attempts`."""
    if state == PENDING:
        return "retrying" if attempts else "pending"
    if state == FAILED and attempts and was_refused(attempts[-1].get("error")):
        return "refused"
    return state


def due_key(delivery_id: str) -> str:
    return due_keys.key(due_keys.DELIVERY, KIND, delivery_id)


def delivery_id_of(webhook_id: str, job_id: str | None, event: str) -> str:
    return f"{webhook_id}:{job_id}:{event}"


class Deliveries:
    def __init__(
        self, store: Store, policy: RetryPolicy, retention_seconds: float = RETENTION_SECONDS
    ) -> None:
        self._store = store
        self.policy = policy
        self.retention = retention_seconds

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
        chain: Sequence[str] = (),
    ) -> Mapping[str, Any] | None:
        """Add a pending delivery (optionally already leased to the caller; else queued at
        `due`); None if this (webhook, job, event) is already there. `chain`: the events of
        this webhook and job in their order (the ones before this must close first)."""
        delivery_id = delivery_id or delivery_id_of(webhook["webhook_id"], job_id, event)
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
            "chain": [delivery_id_of(webhook["webhook_id"], job_id, e) for e in chain],
        }
        # one leased to the caller is queued after its lease: if the caller dies, it goes out
        queued = {due_key(delivery_id): due.timestamp() + (lease or 0)}
        try:
            return self._store.insert(KIND, tenant, delivery_id, doc, queued).doc
        except Conflict:
            return None

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

    def take(self, delivery_id: str, lease_seconds: float, now: datetime) -> Record | None:
        """Claim a queued delivery for one attempt, now that a send slot is free; None if it
        is not this caller's to send (another worker has it, it is closed or gone, or one
        before it in its chain is still pending). Its queue entry moves past the lease: if
        the sender dies mid-attempt, the delivery comes up again then."""
        own = due_key(delivery_id)
        record = self._store.get(KIND, delivery_id, None)
        if record is None:
            self._store.unschedule([own])
            return None
        if record.doc["state"] != PENDING:
            # closed by another worker, or by one killed before it queued what follows the
            # close: its retention's end is queued (again) before its own key goes
            prune = due_keys.key(due_keys.PRUNE, KIND, delivery_id)
            self._store.schedule({prune: now.timestamp() + self.retention})
            self._store.unschedule([own])
            return None
        next_at = parse_iso(record.doc["next_attempt_at"])
        if next_at > now:  # attempted meanwhile by another worker: due at its retry
            self._store.schedule({own: next_at.timestamp()})
            return None
        if self.waiting(record.doc):
            # the one before it queues it again when it closes (`record_attempt`); until then
            # it is parked a lease ahead, not taken out, so a closer killed before that
            # queueing delays it by a lease at most. A close between the look and the park
            # (another worker) would be overwritten by the park: so look again after it.
            self._store.schedule({own: now.timestamp() + lease_seconds})
            if not self.waiting(record.doc):
                self._store.schedule({own: next_at.timestamp()})
            return None
        claimed = self.claim(record, lease_seconds)
        if claimed is not None:
            at = now.timestamp() + lease_seconds
            self._store.schedule({due_key(delivery_id): at})
        return claimed

    def waiting(self, doc: Mapping[str, Any]) -> bool:
        """Whether a delivery before this one in its chain is still pending."""
        chain: list[str] = list(doc.get("chain") or [])
        if doc["delivery_id"] not in chain:
            return False
        for earlier in chain[: chain.index(doc["delivery_id"])]:
            record = self._store.get(KIND, earlier, None)
            if record is not None and record.doc["state"] == PENDING:
                return True
        return False

    def _after_attempt(self, doc: Mapping[str, Any], now: datetime) -> None:
        """Queue what an attempt's result makes due: the retry, or (closed) the deliveries
        waiting on this one and this one's deletion when its retention ends."""
        own = due_key(doc["delivery_id"])
        if doc["state"] == PENDING:
            self._store.schedule({own: parse_iso(doc["next_attempt_at"]).timestamp()})
            return
        prune = due_keys.key(due_keys.PRUNE, KIND, doc["delivery_id"])
        entries = {prune: now.timestamp() + self.retention}
        chain: list[str] = list(doc.get("chain") or [])
        if doc["delivery_id"] in chain:
            for later in chain[chain.index(doc["delivery_id"]) + 1 :]:
                record = self._store.get(KIND, later, None)
                if record is not None and record.doc["state"] == PENDING:
                    entries[due_key(later)] = parse_iso(record.doc["next_attempt_at"]).timestamp()
        # what follows is queued before its own key goes: a worker killed between the two
        # leaves the key, whose next take sees the close and queues its retention again
        self._store.schedule(entries)
        self._store.unschedule([own])

    def prune(self, delivery_id: str, now: datetime) -> bool:
        """Delete a closed delivery whose retention ended (a reopened one stays)."""
        record = self._store.get(KIND, delivery_id, None)
        key = due_keys.key(due_keys.PRUNE, KIND, delivery_id)
        self._store.unschedule([key])
        if record is None or record.doc["state"] == PENDING:
            return False
        return self._store.delete(KIND, delivery_id, None)

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
            worth_retrying = retry and retryable(status) and not was_refused(error)
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
        if record is None:
            return None
        self._after_attempt(record.doc, now)
        return record.doc

    def get(self, delivery_id: str) -> Record | None:
        return self._store.get(KIND, delivery_id, None)

    def of_webhook(self, tenant: str, webhook_id: str) -> Sequence[Mapping[str, Any]]:
        return [r.doc for r in self._store.list(KIND, tenant) if r.doc["webhook_id"] == webhook_id]

    def all(self, tenant: str | None = None) -> Sequence[Record]:
        return self._store.list(KIND, tenant)

    def recover(self, lease_seconds: float, now: datetime) -> int:
        """At a start: what a stopped or killed process parked a lease ahead (waiting for a
        send slot, or in flight) and no live lease holds goes out now, not a lease later;
        how many were queued again. Only keys due within a lease are read (at most
        RECOVER_KEYS: any beyond come up when their lease ends anyway), so a start costs
        what was in flight, not every delivery kept."""
        found = self._queue_unkept() if not self._store.get_meta(KEPT_QUEUED_META) else {}
        horizon = now.timestamp() + lease_seconds
        for text in self._store.due(horizon, RECOVER_KEYS):
            key = due_keys.parse(text)
            if key is None or key.what != due_keys.DELIVERY or key.kind != KIND:
                continue
            record = self._store.get(KIND, key.id, None)
            if record is not None and self._unheld(record.doc, utc_now()):
                found[text] = parse_iso(record.doc["next_attempt_at"]).timestamp()
        if found:
            self._store.schedule(found)
        return len(found)

    def _queue_unkept(self) -> dict[str, float]:
        """Once per state: every pending delivery no live lease holds, read in full. A state
        written before each pending delivery was kept in the due queue may hold some with no
        key at all; after this pass, and ever since, every one has its key."""
        wall = utc_now()
        found = {
            due_key(record.id): parse_iso(record.doc["next_attempt_at"]).timestamp()
            for record in self._store.list(KIND, None)
            if self._unheld(record.doc, wall)
        }
        self._store.set_meta(KEPT_QUEUED_META, True)
        return found

    @staticmethod
    def _unheld(doc: Mapping[str, Any], wall: datetime) -> bool:
        """Pending, and no live lease holds it (its claim guards a send in flight)."""
        lease = doc.get("lease_until")
        return bool(doc["state"] == PENDING and not (lease and parse_iso(lease) > wall))


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
