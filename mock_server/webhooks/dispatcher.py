"""The dispatcher: finds events that have happened (status is a function of the clock, so
events are found, not pushed), enqueues them durably, and delivers what is due — off the
request path, in a background task of the app."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio

from mock_server.clock import iso, parse_iso
from mock_server.errors import NotFound
from mock_server.finetune.domain import FinetuneJob, FinetuneService
from mock_server.outbound import TenantSlots
from mock_server.runtime import Runtime
from mock_server.store import Record
from mock_server.trainer.domain import FAMILY as TRAINER_FAMILY
from mock_server.trainer.domain import TrainerService
from mock_server.trainer.render import envelope
from mock_server.webhooks.deliveries import Deliveries
from mock_server.webhooks.payloads import TEST_EVENT, PayloadBreaksContract, Payloads
from mock_server.webhooks.registry import ACTIVE, WebhookRegistry
from mock_server.webhooks.sender import Sender

log = logging.getLogger("tunemock.webhooks")

#: The seed-004 spec's one webhook (the per-request webhook_url callback).
TRAINER_HOOK = "lora_trainer_finetune_finished"


@dataclass(frozen=True)
class TickReport:
    enqueued: int
    attempted: int


class Dispatcher:
    def __init__(
        self,
        rt: Runtime,
        finetune: FinetuneService,
        registry: WebhookRegistry,
        deliveries: Deliveries,
        payloads: Payloads,
        sender: Sender,
        timeout: float,
        trainer: TrainerService | None = None,
        concurrency: int = 16,
        per_tenant: int = 2,
    ) -> None:
        self._rt = rt
        self._finetune = finetune
        self._trainer = trainer
        self.registry = registry
        self.deliveries = deliveries
        self.payloads = payloads
        self.sender = sender
        self._lease = timeout + 5
        # attempts at once: a few per tenant (one tenant's slow targets fill only its own
        # slots), `concurrency` in all
        self._slots = TenantSlots(per_tenant, concurrency)
        self._tick_lock = anyio.Lock()
        # the background loop's attempts not yet ended, by delivery id
        self._in_flight: dict[str, anyio.Event] = {}

    def scan(self) -> int:
        """Enqueue a delivery for every webhook event that has happened and has none yet."""
        now = self._rt.clock.now()
        events = self._finetune.lifecycle.webhook_events
        hooks: dict[str, Mapping[str, Any] | None] = {}
        enqueued = 0
        for job in self._jobs_with_a_webhook():
            if job.tenant not in hooks:
                hooks[job.tenant] = self.registry.finetune_webhook(job.tenant)
            hook = hooks[job.tenant]
            if hook is None:
                continue
            since = parse_iso(hook["since"])
            for transition in job.history_at(now):
                if transition.state not in events or transition.at < since:
                    continue
                try:
                    payload = self.payloads.finetune_event(job, transition)
                except PayloadBreaksContract:
                    log.exception("not sending a payload that breaks the contract")
                    continue
                added = self.deliveries.enqueue(
                    job.tenant,
                    hook,
                    job.id,
                    transition.state,
                    events.index(transition.state),
                    payload,
                    transition.at,
                )
                enqueued += added is not None
        return enqueued + self._scan_trainer(now)

    def _jobs_with_a_webhook(self) -> Sequence[FinetuneJob]:
        """Fine-tunes of the tenants that have a fine-tune webhook (every tenant when the
        server has a default webhook URL): a pass reads no other tenant's jobs."""
        if self.registry.has_default:
            return self._finetune.list(None)
        event = self.registry.limit.event_type
        tenants = {t for t, hook in self.registry.all_active() if event in hook["event"]["types"]}
        return [job for tenant in sorted(tenants) for job in self._finetune.list(tenant)]

    def _scan_trainer(self, now: datetime) -> int:
        """Seed 004: each job's own `webhook_url` hears its terminal state."""
        if self._trainer is None:
            return 0
        events = self._trainer.lifecycle.webhook_events
        enqueued = 0
        for job in self._trainer.list(None):
            url = job.args.get("webhook_url")
            state = job.state_at(now)
            if not url or state.state not in events:
                continue
            try:
                payload = self.payloads.check(
                    TRAINER_HOOK, envelope(job, self._trainer.lifecycle, now), TRAINER_FAMILY
                )
            except PayloadBreaksContract:
                log.exception("not sending a payload that breaks the contract")
                continue
            hook = {"webhook_id": f"job:{job.id}", "webhook_url": url}
            added = self.deliveries.enqueue(
                job.tenant, hook, job.id, state.state, events.index(state.state), payload, state.at
            )
            enqueued += added is not None
        return enqueued

    async def attempt(self, record: Record, retry: bool = True) -> Mapping[str, Any] | None:
        # the slot first, then the lease: a wait in the tenant's queue never eats the lease
        async with self._slots.hold(record.tenant):
            claimed = self.deliveries.claim(record, self._lease)
            if claimed is None:
                return None
            return await self._send(claimed.doc, retry)

    async def _send(self, doc: Mapping[str, Any], retry: bool) -> Mapping[str, Any] | None:
        """One attempt; the caller holds one of the tenant's slots."""
        outcome = await self.sender.post(
            doc["url"], doc["payload"], doc.get("signing_secret"), doc["delivery_id"]
        )
        return self.deliveries.record_attempt(
            doc["delivery_id"],
            self._rt.clock.now(),
            outcome.status,
            outcome.latency_ms,
            outcome.error,
            outcome.body,
            retry=retry,
        )

    async def tick(self) -> TickReport:
        """One pass: find new events, deliver everything due (concurrently, bounded), and
        return once those and the background loop's attempts in flight have ended (the
        admin's flush: the deliveries' states are final for the clock's time)."""
        async with self._tick_lock:
            enqueued = await anyio.to_thread.run_sync(self.scan)
            due = self.deliveries.due(self._rt.clock.now())
            async with anyio.create_task_group() as group:
                for record in due:
                    group.start_soon(self.attempt, record)
        for ended in list(self._in_flight.values()):
            await ended.wait()
        return TickReport(enqueued=enqueued, attempted=len(due))

    async def run(self, interval: float) -> None:
        """Pass forever (the app's lifespan cancels it); a failing pass never stops it.
        Attempts start and the loop moves on: a target that takes its whole timeout
        delays nobody else's deliveries (a pass that waited for every attempt would hold
        every other tenant's events until the slowest target gave up)."""
        async with anyio.create_task_group() as attempts:
            while True:
                try:
                    async with self._tick_lock:
                        await anyio.to_thread.run_sync(self.scan)
                        for record in self.deliveries.due(self._rt.clock.now()):
                            if record.id not in self._in_flight:
                                self._in_flight[record.id] = anyio.Event()
                                attempts.start_soon(self._attempt_in_background, record)
                except Exception:
                    log.exception("webhook dispatch pass failed")
                await anyio.sleep(interval)

    async def _attempt_in_background(self, record: Record) -> None:
        try:
            await self.attempt(record)
        except Exception:
            log.exception("webhook delivery attempt failed")
        finally:
            self._in_flight.pop(record.id).set()

    async def send_test(self, tenant: str, webhook_id: str) -> Mapping[str, Any]:
        """Deliver a sample payload now (one attempt, no retries) and return the delivery."""
        hook = self.registry.get(tenant, webhook_id)
        if hook["status"] != ACTIVE:
            raise NotFound(f"Webhook {webhook_id} not found")
        now = self._rt.clock.now()
        jobs = list(self._finetune.list(tenant))[:1]
        payload = self.payloads.test_event(jobs, iso(now))
        delivery_id = f"{webhook_id}:test:{uuid.uuid4().hex[:12]}"
        async with self._slots.hold(tenant):  # the slot before the lease, as in `attempt`
            # enqueued already leased to us: the background pass must not send it too
            doc = self.deliveries.enqueue(
                tenant, hook, None, TEST_EVENT, 0, payload, now, delivery_id, lease=self._lease
            )
            done = await self._send(doc, retry=False) if doc else None
        if done is None:
            raise NotFound(f"Webhook {webhook_id} not found")
        return done
