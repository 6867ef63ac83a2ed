"""Retention of v2 results: a request past the spec's `x-retention-seconds` after it ended
answers 404 (InferenceService.expired) and, once its time comes in the due queue, is
deleted from the store, on the mock's clock (virtual or real)."""

from __future__ import annotations

from datetime import datetime

from mock_server.errors import NotFound
from mock_server.inference.domain import KIND, InferenceJob, InferenceService
from mock_server.lifecycle.due import Watch
from mock_server.store import Record, Store


def expires_at(service: InferenceService, job: InferenceJob) -> float | None:
    """When a request's result stops being kept: its terminal moment plus the retention
    (None for a plan that never ends)."""
    ends = [t for t in job.transitions if t.state in service.lifecycle.terminal]
    if not ends:
        return None
    return (ends[-1].at + service.retention).timestamp()


def expiry_watch(store: Store, service: InferenceService) -> Watch:
    def first(record: Record) -> float | None:
        job = InferenceJob.from_doc(record.id, record.tenant, record.doc)
        return expires_at(service, job)

    def look(job_id: str, now: datetime) -> float | None:
        try:
            job = service.get(None, job_id, now)
        except NotFound:
            return None
        if service.expired(job, now):
            store.delete(KIND, job_id, None)
            return None
        return expires_at(service, job)

    return Watch(KIND, first, look)
