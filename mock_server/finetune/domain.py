"""Fine-tune jobs: submit, read, list, change access, force status. No HTTP here.

A job's status is never stored: it is read off its planned transitions at the clock's now
(mock_server.lifecycle), so advancing the clock moves every job at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mock_server.clock import iso, parse_iso
from mock_server.errors import NotFound
from mock_server.lifecycle import Lifecycle, Transition, current, force, plan, serial
from mock_server.lifecycle.machine import history
from mock_server.runtime import Runtime
from mock_server.spec.defaults import apply_defaults, branch_for
from mock_server.store import Record

KIND = "finetune"
FAMILY = "segmind-finetune"


@dataclass(frozen=True)
class FinetuneJob:
    """A stored fine-tune request as the domain sees it."""

    id: str
    tenant: str
    request: Mapping[str, Any] = field(repr=False)  # the submitted body, defaults applied
    id_keys: Mapping[str, str]  # spec x-id-keys of the job's model: {submit, record}
    source: str  # how the dataset came: "presigned" | "public_url"
    public: bool
    created_at: datetime
    transitions: tuple[Transition, ...]

    @classmethod
    def from_record(cls, record: Record) -> FinetuneJob:
        doc = record.doc
        return cls(
            id=record.id,
            tenant=record.tenant,
            request=doc["request"],
            id_keys=doc["id_keys"],
            source=doc["source"],
            public=bool(doc["public"]),
            created_at=parse_iso(doc["created_at"]),
            transitions=serial.load(doc["transitions"]),
        )

    def state_at(self, now: datetime) -> Transition:
        return current(self.transitions, now)

    def history_at(self, now: datetime) -> tuple[Transition, ...]:
        return history(self.transitions, now)

    def reached(self, state: str, now: datetime) -> bool:
        return any(t.state == state for t in self.history_at(now))


def _source_of(data_source_path: str) -> str:
    # The docs' presigned flow hands out s3_url values on S3 (or, on the mock, /storage/)
    if re.search(r"(\.amazonaws\.com/|/storage/)", data_source_path):
        return "presigned"
    return "public_url"


class FinetuneService:
    """The rules of the fine-tune API over the store, per tenant."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self.lifecycle: Lifecycle = rt.lifecycles["finetune"]
        op = rt.spec.operation("finetune_submit")
        self._doc = rt.spec.documents[op.family]
        self._submit_schema = op.raw["requestBody"]["content"]["application/json"]["schema"]

    def submit(self, tenant: str, body: Mapping[str, Any]) -> FinetuneJob:
        """Accept a validated submit body: apply the model's defaults, plan the lifecycle."""
        request = apply_defaults(self._doc, self._submit_schema, body)
        branch = branch_for(self._doc, self._submit_schema, body)
        now = self._rt.clock.now()
        durations = self._rt.timing.for_lifecycle(self.lifecycle.name)
        job_id = str(uuid.uuid4())
        doc = {
            "request": request,
            "id_keys": dict(branch["x-id-keys"]),
            "source": _source_of(str(request.get("data_source_path", ""))),
            "public": bool(request.get("segmind_public", False)),
            "created_at": iso(now),
            "transitions": serial.dump(plan(self.lifecycle, now, durations)),
        }
        return FinetuneJob.from_record(self._rt.store.insert(KIND, tenant, job_id, doc))

    def get(self, tenant: str | None, job_id: str) -> FinetuneJob:
        record = self._rt.store.get(KIND, job_id, tenant)
        if record is None:
            raise NotFound(f"Finetune request {job_id} not found")
        return FinetuneJob.from_record(record)

    def list(self, tenant: str | None) -> Sequence[FinetuneJob]:
        return [FinetuneJob.from_record(r) for r in self._rt.store.list(KIND, tenant)]

    def set_access(self, tenant: str, job_id: str, public: bool) -> FinetuneJob:
        record = self._rt.store.update(KIND, job_id, tenant, lambda d: {**d, "public": public})
        if record is None:
            raise NotFound(f"Finetune request {job_id} not found")
        return FinetuneJob.from_record(record)

    def force_status(
        self, job_id: str, state: str | None = None, detail: str | None = None
    ) -> FinetuneJob:
        """Admin: move a job now along a legal edge (default: its next happy-path state)."""
        now = self._rt.clock.now()

        def change(doc: Mapping[str, Any]) -> Mapping[str, Any]:
            moved = force(self.lifecycle, serial.load(doc["transitions"]), now, state, detail)
            return {**doc, "transitions": serial.dump(moved)}

        record = self._rt.store.update(KIND, job_id, None, change)
        if record is None:
            raise NotFound(f"Finetune request {job_id} not found")
        return FinetuneJob.from_record(record)

    def find_by_artifact(self, tenant: str, artifact_path: str) -> FinetuneJob:
        """The tenant's trained job whose model file lives at `artifact_path`."""
        now = self._rt.clock.now()
        for job in self.list(tenant):
            trained = self.lifecycle.milestones["trained"]
            if artifact_path_of(job) == artifact_path and job.reached(trained, now):
                return job
        raise NotFound("No trained model of yours at that cloud_storage_url")


def artifact_path_of(job: FinetuneJob) -> str:
    """Where the job's .safetensors lives on the mock's storage (path part of the URL)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(job.request.get("name", "model"))).strip("-")
    return f"/storage/finetune/finetuned_models/{job.id}/{stem or 'model'}.safetensors"
