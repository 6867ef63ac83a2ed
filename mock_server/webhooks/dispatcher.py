"""The dispatcher: finds the webhook events that have happened and delivers them, off the
request path, in a background task of the app; and deletes v2 results past their retention.

Nothing is found by reading every job. A job's moments are planned when it is stored, so the
store's due queue (webhooks.due_work) holds when each job next needs a look, and each
pending delivery's next attempt. The loop sleeps until the earliest of those, or until the
store changes (a write or a clock move, by any worker): an idle server costs the same with
100k jobs stored as with none. Attempts go out in tasks of their own, each waiting for a
send slot of its tenant and target (webhooks.slots) before it claims its delivery, so a
hanging receiver holds its own slots and no pass waits for it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread

from mock_server.clock import iso, parse_iso
from mock_server.errors import NotFound
from mock_server.finetune.domain import FinetuneService
from mock_server.inference.domain import InferenceService
from mock_server.inference.retention import expiry_watch
from mock_server.lifecycle import due
from mock_server.lifecycle.due import Watch
from mock_server.runtime import Runtime
from mock_server.store import Record
from mock_server.trainer.domain import FAMILY as TRAINER_FAMILY
from mock_server.trainer.domain import TrainerService
from mock_server.trainer.render import envelope
from mock_server.webhooks.deliveries import KIND as DELIVERY_KIND
from mock_server.webhooks.deliveries import Deliveries
from mock_server.webhooks.due_work import BATCH, Feed
from mock_server.webhooks.payloads import TEST_EVENT, PayloadBreaksContract, Payloads
from mock_server.webhooks.registry import ACTIVE, WebhookRegistry
from mock_server.webhooks.sender import Sender
from mock_server.webhooks.slots import SendSlots
from mock_server.webhooks.watches import finetune_watch, trainer_watch

log = logging.getLogger("tunemock.webhooks")

#: The seed-004 spec's one webhook (the per-request webhook_url callback).
TRAINER_HOOK = "lora_trainer_finetune_finished"
#: Passes one flush makes at most: a closed delivery makes the next one of its job due.
FLUSH_ROUNDS = 16


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
        concurrency: int = 8,
        inference: InferenceService | None = None,
        total_slots: int = 64,
    ) -> None:
        self._rt = rt
        self._finetune = finetune
        self._trainer = trainer
        self.registry = registry
        self.deliveries = deliveries
        self.payloads = payloads
        self.sender = sender
        # the lease outlives the whole attempt (the sender's deadline, the target check
        # before it, the result's write), so no other worker takes it while it is in flight
        self._lease = 2 * timeout + 10
        self.slots = SendSlots(concurrency, total_slots)
        watches: list[Watch] = [finetune_watch(self, finetune)]
        if trainer is not None:
            watches.append(trainer_watch(self, trainer))
        if inference is not None:
            watches.append(expiry_watch(rt.store, inference))
        self.feed = Feed(rt.store, watches)
        self._busy: set[str] = set()  # due keys this process is working on now
        self._finished = 0  # attempts of this process ended so far (a flush's round counter)
        self._tick_lock = anyio.Lock()

    @property
    def lease(self) -> float:
        """Seconds a claim holds a delivery: longer than any one attempt takes."""
        return self._lease

    def clock_now(self) -> datetime:
        return self._rt.clock.now()

    def recover(self) -> int:
        """At a start: what a stopped process parked goes out now (Deliveries.recover)."""
        return self.deliveries.recover(self._lease, self._rt.clock.now())

    # --- enqueueing, called by the watches ------------------------------------------------

    def enqueue_finetune(self, job_id: str, now: datetime) -> int:
        """Deliveries of a fine-tune's events that happened (idempotent); how many are new."""
        job = self._finetune.get(None, job_id)
        hook = self.registry.finetune_webhook(job.tenant)
        if hook is None:
            return 0
        events = self._finetune.lifecycle.webhook_events
        since = parse_iso(hook["since"])
        added = 0
        for transition in job.history_at(now):
            if transition.state not in events or transition.at < since:
                continue
            try:
                payload = self.payloads.finetune_event(job, transition)
            except PayloadBreaksContract:
                log.exception("not sending a payload that breaks the contract")
                continue
            doc = self.deliveries.enqueue(
                job.tenant,
                hook,
                job.id,
                transition.state,
                events.index(transition.state),
                payload,
                transition.at,
                chain=events,
            )
            added += doc is not None
        return added

    def enqueue_trainer(self, job_id: str, now: datetime) -> int:
        """Seed 004: each job's own `webhook_url` hears its terminal state."""
        assert self._trainer is not None
        job = self._trainer.get(None, job_id)
        events = self._trainer.lifecycle.webhook_events
        url = job.args.get("webhook_url")
        state = job.state_at(now)
        if not url or state.state not in events:
            return 0
        try:
            payload = self.payloads.check(
                TRAINER_HOOK, envelope(job, self._trainer.lifecycle, now), TRAINER_FAMILY
            )
        except PayloadBreaksContract:
            log.exception("not sending a payload that breaks the contract")
            return 0
        hook = {"webhook_id": f"job:{job.id}", "webhook_url": url}
        doc = self.deliveries.enqueue(
            job.tenant, hook, job.id, state.state, events.index(state.state), payload, state.at
        )
        return int(doc is not None)

    # --- one pass ---------------------------------------------------------------------------

    def _looks(self, keys: Sequence[due.DueKey], now: datetime) -> None:
        for key in keys:
            if key.what == due.PRUNE and key.kind == DELIVERY_KIND:
                self.deliveries.prune(key.id, now)
            else:
                self.feed.look(key, now)

    async def _pass(self, group: anyio.abc.TaskGroup) -> tuple[int, int]:
        """Queue new jobs, do what is due now; attempts start in `group`, unwaited.
        (new jobs read plus jobs looked at, attempts started)"""
        found = await anyio.to_thread.run_sync(self.feed.feed)
        now = self._rt.clock.now()
        keys = await anyio.to_thread.run_sync(self._rt.store.due, now.timestamp(), BATCH)
        looks: list[due.DueKey] = []
        sends: list[tuple[str, str]] = []
        unknown: list[str] = []
        # checked and marked busy with no await in between: a flush's pass and the background
        # loop's run at once on this loop, and both read the same due keys
        for text in keys:
            key = due.parse(text)
            if text in self._busy:
                continue
            if key is None:
                unknown.append(text)
            elif key.what == due.DELIVERY:
                self._busy.add(text)
                sends.append((text, key.id))
            else:
                looks.append(key)
        if unknown:
            await anyio.to_thread.run_sync(self._rt.store.unschedule, unknown)
        if sends:
            # parked past the lease while they wait for a slot here: deliveries queued behind
            # a hanging target never fill the due keys a pass reads (a sent or retried one
            # moves again; one whose worker dies comes up again after the lease)
            parked = {text: now.timestamp() + self._lease for text, _ in sends}
            await anyio.to_thread.run_sync(self._rt.store.schedule, parked)
            for text, delivery_id in sends:
                group.start_soon(self._deliver, text, delivery_id)
        if looks:
            await anyio.to_thread.run_sync(self._looks, looks, now)
        return found + len(looks), len(sends)

    async def _deliver(self, text: str, delivery_id: str) -> None:
        """One queued delivery: wait for a slot of its tenant and target, then claim and
        send it (nothing if another worker has it, or it waits on the one before it)."""
        try:
            record = await anyio.to_thread.run_sync(self.deliveries.get, delivery_id)
            if record is None:
                await anyio.to_thread.run_sync(self._rt.store.unschedule, [text])
                return
            async with self.slots.slot(record.tenant, record.doc["url"]):
                claimed = await anyio.to_thread.run_sync(
                    self.deliveries.take, delivery_id, self._lease, self._rt.clock.now()
                )
                if claimed is not None:
                    await self._send(claimed.doc, retry=True)
        except Exception:
            log.exception("delivery %s failed", delivery_id)
        finally:
            self._busy.discard(text)
            self._finished += 1

    async def _send(self, doc: Mapping[str, Any], retry: bool) -> Mapping[str, Any] | None:
        """Send a delivery this process holds the lease of (it is in a slot already)."""
        outcome = await self.sender.post(
            doc["url"], doc["payload"], doc.get("signing_secret"), doc["delivery_id"]
        )
        return await anyio.to_thread.run_sync(
            lambda: self.deliveries.record_attempt(
                doc["delivery_id"],
                self._rt.clock.now(),
                outcome.status,
                outcome.latency_ms,
                outcome.error,
                outcome.body,
                retry=retry,
            )
        )

    async def attempt(self, record: Record, retry: bool = True) -> Mapping[str, Any] | None:
        """One attempt of a delivery now (the admin's redeliver), in a slot of its target."""
        async with self.slots.slot(record.tenant, record.doc["url"]):
            claimed = self.deliveries.claim(record, self._lease)
            if claimed is None:
                return None
            return await self._send(claimed.doc, retry)

    async def tick(self) -> TickReport:
        """Deliver everything due now and wait for it (POST /_mock/webhooks/flush): passes
        until one finds nothing more to do, attempts in flight included."""
        enqueued = attempted = 0
        async with self._tick_lock:
            for _ in range(FLUSH_ROUNDS):
                finished = self._finished
                async with anyio.create_task_group() as group:
                    found, started = await self._pass(group)
                # the background loop's attempts too; one that ends queues the next event of
                # its chain, which only another round finds, so any attempt that ended since
                # this round began (even before its pass read the due keys) brings another
                while self._busy:
                    await anyio.sleep(0.01)
                enqueued += found
                attempted += started
                if not (found or started or self._finished != finished):
                    break
        return TickReport(enqueued=enqueued, attempted=attempted)

    async def run(self, interval: float) -> None:
        """Pass whenever the store changed or due work came due, else sleep `interval` and
        look again (the app's lifespan cancels it); a failing pass never stops it."""
        store = self._rt.store
        last: object = object()
        next_at: float | None = None
        async with anyio.create_task_group() as group:
            while True:
                try:
                    mark = store.changes()
                    if mark != last or (
                        next_at is not None and next_at <= self._rt.clock.now().timestamp()
                    ):
                        last = mark  # taken first: a write during the pass brings another
                        await self._pass(group)
                        next_at = await anyio.to_thread.run_sync(store.next_due)
                except Exception:
                    log.exception("webhook dispatch pass failed")
                await anyio.sleep(interval)

    async def send_test(self, tenant: str, webhook_id: str) -> Mapping[str, Any]:
        """Deliver a sample payload now (one attempt, no retries) and return the delivery."""
        hook = self.registry.get(tenant, webhook_id)
        if hook["status"] != ACTIVE:
            raise NotFound(f"Webhook {webhook_id} not found")
        now = self._rt.clock.now()
        jobs = list(self._finetune.list(tenant))[:1]
        payload = self.payloads.test_event(jobs, iso(now))
        delivery_id = f"{webhook_id}:test:{uuid.uuid4().hex[:12]}"
        # enqueued already leased to us: the background pass must not send it too
        doc = self.deliveries.enqueue(
            tenant, hook, None, TEST_EVENT, 0, payload, now, delivery_id, lease=self._lease
        )
        done = None
        if doc:
            async with self.slots.slot(tenant, doc["url"]):
                done = await self._send(doc, retry=False)
        if done is None:
            raise NotFound(f"Webhook {webhook_id} not found")
        return done
