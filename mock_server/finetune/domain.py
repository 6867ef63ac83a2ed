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
from typing import Any, Protocol

from mock_server.clock import iso, parse_iso
from mock_server.credits import Credits, charged
from mock_server.datasets import DatasetRules
from mock_server.errors import InvalidInput, NotFound
from mock_server.lifecycle import Lifecycle, Transition, current, plan, plan_failure, serial
from mock_server.lifecycle.machine import history
from mock_server.lifecycle.stored import StoredJobs
from mock_server.runtime import Runtime
from mock_server.spec.defaults import apply_defaults, branch_for
from mock_server.spec.schemas import first_problem, schema_validator

KIND = "finetune"


class DatasetCheck(Protocol):
    """Reads and inspects a dataset URL; None when usable, else why the job must fail.
    `reads`: whether `check` reads anything at all (disk, network)."""

    @property
    def reads(self) -> bool: ...

    def check_url(self, url: str) -> None:
        """InvalidInput for a URL that cannot even be tried (checked before credits)."""

    def check(self, url: str, rules: DatasetRules, tenant: str, base_url: str) -> str | None: ...


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
    base_url: str = ""  # where the client reached the mock: URLs in webhooks are built on it

    @classmethod
    def from_doc(cls, job_id: str, tenant: str, doc: Mapping[str, Any]) -> FinetuneJob:
        return cls(
            id=job_id,
            tenant=tenant,
            request=doc["request"],
            id_keys=doc["id_keys"],
            source=doc["source"],
            public=bool(doc["public"]),
            created_at=parse_iso(doc["created_at"]),
            transitions=serial.load(doc["transitions"]),
            base_url=str(doc.get("base_url", "")),
        )

    def state_at(self, now: datetime) -> Transition:
        return current(self.transitions, now)

    def history_at(self, now: datetime) -> tuple[Transition, ...]:
        return history(self.transitions, now)

    def reached(self, state: str, now: datetime) -> bool:
        return any(t.state == state for t in self.history_at(now))

    def progress_at(self, now: datetime) -> tuple[Transition, frozenset[str]]:
        """(the current transition, every state reached) in one pass, for renderers."""
        done = self.history_at(now)
        return done[-1], frozenset(t.state for t in done)


def _source_of(data_source_path: str) -> str:
    # The docs' presigned flow hands out s3_url values on S3 (or, on the mock, /storage/)
    if re.search(r"(\.amazonaws\.com/|/storage/)", data_source_path):
        return "presigned"
    return "public_url"


class FinetuneService:
    """The rules of the fine-tune API over the store, per tenant."""

    def __init__(self, rt: Runtime, intake: DatasetCheck, credits: Credits | None = None) -> None:
        self._rt = rt
        self._intake = intake
        self._credits = credits
        self.lifecycle: Lifecycle = rt.lifecycles["finetune"]
        op = rt.spec.operation("finetune_submit")
        self._doc = rt.spec.documents[op.family]
        self._submit_schema = op.raw["requestBody"]["content"]["application/json"]["schema"]
        self._submit_check = schema_validator(self._doc, self._submit_schema)
        self._jobs = StoredJobs(
            rt.store,
            KIND,
            self.lifecycle,
            rt.clock.now,
            FinetuneJob.from_doc,
            lambda job_id: f"Finetune request {job_id} not found",
        )

    def dataset_rules(self, branch: Mapping[str, Any]) -> DatasetRules:
        """What this model's dataset must be, from its data_source_path in the spec."""
        prop = branch["properties"]["data_source_path"]
        dataset = self._doc.resolve(prop["$ref"]) if "$ref" in prop else prop
        return DatasetRules.from_spec(dataset.get("x-dataset", {}), prop)

    @property
    def submit_reads(self) -> bool:
        """Whether `submit` reads a dataset (disk, network): then it must not run on an event
        loop. Without a read it is short CPU work."""
        return self._intake.reads

    def submit(self, tenant: str, body: Mapping[str, Any], base_url: str) -> FinetuneJob:
        """Accept a validated submit body: apply the model's defaults, check the dataset,
        plan the lifecycle (a refused dataset fails the job when it leaves REQUESTED)."""
        request = apply_defaults(self._doc, self._submit_schema, body)
        branch = branch_for(self._doc, self._submit_schema, body)
        url = str(request["data_source_path"])
        self._intake.check_url(url)  # a URL nothing can read: 400, nothing charged or stored
        with charged(self._credits, tenant, KIND, request):
            problem = self._intake.check(url, self.dataset_rules(branch), tenant, base_url)
            now = self._rt.clock.now()
            durations = self._rt.timing.for_lifecycle(self.lifecycle.name)
            planned = (
                plan(self.lifecycle, now, durations)
                if problem is None
                else plan_failure(self.lifecycle, now, durations, problem)
            )
            doc = self._new_doc(request, branch, planned, base_url, None)
            return self._jobs.insert(tenant, str(uuid.uuid4()), doc)

    def preload(
        self,
        tenant: str,
        job_id: str,
        body: Mapping[str, Any],
        planned: Sequence[Transition],
        base_url: str,
        public: bool | None = None,
    ) -> FinetuneJob:
        """Scenarios: put a job with a ready-made plan in place of any job with its id (no
        credits drawn, no dataset read). `body` must be a valid submit body."""
        self.check_preload(job_id, body)
        request = apply_defaults(self._doc, self._submit_schema, body)
        branch = branch_for(self._doc, self._submit_schema, body)
        doc = self._new_doc(request, branch, planned, base_url, public)
        self._rt.store.delete(KIND, job_id, None)
        return self._jobs.insert(tenant, job_id, doc)

    def check_preload(self, job_id: str, body: Mapping[str, Any]) -> None:
        """InvalidInput unless `body` is a valid submit body."""
        problem = first_problem(self._submit_check, body)
        if problem:
            raise InvalidInput(f"finetune {job_id}: {problem}")

    def _new_doc(
        self,
        request: Mapping[str, Any],
        branch: Mapping[str, Any],
        planned: Sequence[Transition],
        base_url: str,
        public: bool | None,
    ) -> dict[str, Any]:
        """The stored doc of a job: its request (defaults applied), its model's branch of the
        submit schema, and its plan."""
        return {
            "request": request,
            "id_keys": dict(branch["x-id-keys"]),
            "source": _source_of(str(request["data_source_path"])),
            "public": bool(request.get("segmind_public", False) if public is None else public),
            "created_at": iso(planned[0].at),
            "transitions": serial.dump(planned),
            "base_url": base_url,
        }

    def get(self, tenant: str | None, job_id: str) -> FinetuneJob:
        return self._jobs.get(tenant, job_id)

    def list(self, tenant: str | None) -> Sequence[FinetuneJob]:
        return self._jobs.list(tenant)

    def set_access(self, tenant: str, job_id: str, public: bool) -> FinetuneJob:
        record = self._rt.store.update(KIND, job_id, tenant, lambda d: {**d, "public": public})
        if record is None:
            raise NotFound(f"Finetune request {job_id} not found")
        return self._jobs.job(record)

    def force_status(
        self, job_id: str, state: str | None = None, detail: str | None = None
    ) -> FinetuneJob:
        """Admin: move a job now along a legal edge (default: its next happy-path state)."""
        return self._jobs.force(job_id, state, detail)

    def find_by_artifact(self, tenant: str, artifact_path: str) -> FinetuneJob:
        """The tenant's trained job whose model file lives at `artifact_path`."""
        now = self._rt.clock.now()
        for job in self.list(tenant):
            trained = self.lifecycle.milestones["trained"]
            if artifact_path_of(job) == artifact_path and job.reached(trained, now):
                return job
        raise NotFound("No trained model of yours at that cloud_storage_url")


_NOT_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


def artifact_path_of(job: FinetuneJob) -> str:
    """Where the job's .safetensors lives on the mock's storage (path part of the URL)."""
    stem = _NOT_FILENAME.sub("-", str(job.request.get("name", "model"))).strip("-")
    return f"/storage/finetune/finetuned_models/{job.id}/{stem or 'model'}.safetensors"


#: For models whose docs name no LoRA rank (Kontext, Qwen); Flux Pro documents 16 or 32.
DEFAULT_LORA_RANK = 16


def artifact_spec(job: FinetuneJob) -> tuple[int, dict[str, object]]:
    """(LoRA rank, metadata) of the job's trained model, from what was submitted."""
    params = job.request.get("advance_parameters") or {}
    rank = int(params.get("lora_rank") or DEFAULT_LORA_RANK)
    metadata: dict[str, object] = {
        "finetune_id": job.id,
        "name": job.request.get("name"),
        "base_model": job.request.get("base_model"),
        "trigger_word": job.request.get("trigger_word"),
        "steps": params.get("steps", params.get("iterations")),
        "learning_rate": params.get("learning_rate"),
        "lora_rank": rank,
        "format": "pt",
    }
    return rank, metadata
