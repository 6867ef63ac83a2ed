"""The due work of fine-tunes and seed-004 trainer jobs: a look at each webhook event's
moment enqueues the deliveries of what happened, then waits for the next event."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from mock_server.errors import NotFound
from mock_server.finetune.domain import KIND as FINETUNE_KIND
from mock_server.finetune.domain import FinetuneService
from mock_server.lifecycle.due import Watch, event_first, first_at
from mock_server.store import Record
from mock_server.trainer.domain import KIND as TRAINER_KIND
from mock_server.trainer.domain import TrainerService


class Enqueuer(Protocol):
    def enqueue_finetune(self, job_id: str, now: datetime) -> int: ...

    def enqueue_trainer(self, job_id: str, now: datetime) -> int: ...


def finetune_watch(enqueuer: Enqueuer, finetune: FinetuneService) -> Watch:
    events = finetune.lifecycle.webhook_events

    def look(job_id: str, now: datetime) -> float | None:
        try:
            enqueuer.enqueue_finetune(job_id, now)
            job = finetune.get(None, job_id)
        except NotFound:  # deleted (a reset, a scenario): nothing more to do
            return None
        return first_at(job.transitions, events, now.timestamp())

    return Watch(FINETUNE_KIND, event_first(events), look)


def trainer_watch(enqueuer: Enqueuer, trainer: TrainerService) -> Watch:
    events = trainer.lifecycle.webhook_events
    any_event = event_first(events)

    def first(record: Record) -> float | None:
        # only a job with its own webhook_url has anything to deliver
        return any_event(record) if record.doc.get("args", {}).get("webhook_url") else None

    def look(job_id: str, now: datetime) -> float | None:
        try:
            enqueuer.enqueue_trainer(job_id, now)
            job = trainer.get(None, job_id)
        except NotFound:
            return None
        return first_at(job.transitions, events, now.timestamp())

    return Watch(TRAINER_KIND, first, look)
