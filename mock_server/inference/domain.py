"""Inference requests on fine-tuned models: the model check, content blocks, the v2 queue
(status from planned transitions and the clock), retention. No HTTP here."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mock_server.clock import iso, parse_iso
from mock_server.credits import Credits, charged
from mock_server.errors import Forbidden, InvalidInput, NotFound
from mock_server.finetune.domain import FinetuneService
from mock_server.lifecycle import Lifecycle, Transition, current, plan, plan_failure, serial
from mock_server.lifecycle.machine import history
from mock_server.lifecycle.stored import StoredJobs
from mock_server.runtime import Runtime
from mock_server.spec import Operation
from mock_server.spec.defaults import apply_defaults
from mock_server.spec.schemas import first_problem, schema_validator

KIND = "inference"
FAMILY = "segmind-inference"


class ContentBlocked(InvalidInput):
    """The prompt trips the content rule (seed 003: blocks surface as FAILED)."""


@dataclass(frozen=True)
class InferenceJob:
    id: str
    tenant: str
    params: Mapping[str, Any] = field(repr=False)
    created_at: datetime
    transitions: tuple[Transition, ...]
    model: str | None = None  # the /v2/<slug> it was sent to (None: stored before it was kept)

    @classmethod
    def from_doc(cls, job_id: str, tenant: str, doc: Mapping[str, Any]) -> InferenceJob:
        return cls(
            job_id,
            tenant,
            doc["params"],
            parse_iso(doc["created_at"]),
            serial.load(doc["transitions"]),
            doc.get("model"),
        )

    def state_at(self, now: datetime) -> Transition:
        return current(self.transitions, now)

    def processing_seconds(self) -> float:
        """Server compute time: from entering PROCESSING to the end."""
        moments = [t.at for t in self.transitions]
        return max(0.0, (moments[-1] - moments[min(1, len(moments) - 1)]).total_seconds())


def model_of(op: Operation) -> str:
    """The model slug of a /v1/<slug> or /v2/<slug> operation."""
    return op.path.rstrip("/").rsplit("/", 1)[-1]


class InferenceService:
    def __init__(
        self,
        rt: Runtime,
        finetune: FinetuneService,
        blocked_words: Sequence[str],
        credits: Credits | None = None,
    ):
        self._rt = rt
        self._credits = credits
        self._finetune = finetune
        self._blocked = tuple(w.lower() for w in blocked_words if w)
        self.lifecycle: Lifecycle = rt.lifecycles["inference"]
        self._jobs = StoredJobs(
            rt.store,
            KIND,
            self.lifecycle,
            rt.clock.now,
            InferenceJob.from_doc,
            lambda job_id: f"Request {job_id} not found",
        )
        result = rt.spec.operation("inference_v2_result").raw
        self.retention = timedelta(seconds=float(result["x-retention-seconds"]))
        self._scaling = rt.timing.scaling.get("inference", {})

    def v2_model(self, slug: str) -> Operation:
        """The v2 submit operation of a model slug; InvalidInput when the contract has none."""
        found = self._rt.spec.match("POST", f"/v2/{slug}")
        if found is None or found[0].family != FAMILY:
            raise InvalidInput(f"No v2 inference model {slug!r} in the contract")
        return found[0]

    def first_v2_model(self) -> str:
        """The slug of the contract's first v2 model (for requests stored without one)."""
        return next(
            model_of(op)
            for op in self._rt.spec.operations
            if op.family == FAMILY and op.method == "POST" and op.path.startswith("/v2/")
        )

    # --- rules shared by v1 and v2 -----------------------------------------------------------

    def check_model(self, tenant: str, finetune_id: str) -> None:
        """The fine-tuned model must exist, be the caller's or public, and be deployed."""
        try:
            job = self._finetune.get(None, finetune_id)
        except NotFound:
            raise NotFound(f"Model {finetune_id} not found") from None
        if job.tenant != tenant and not job.public:
            raise Forbidden(f"Model {finetune_id} is private to another account")
        now = self._rt.clock.now()
        deployed = self._finetune.lifecycle.milestones["deployed"]
        if not job.reached(deployed, now):
            raise InvalidInput(
                f"Model {finetune_id} is not available yet: its status is {job.state_at(now).state}"
            )

    def blocked(self, prompt: str) -> str | None:
        lowered = prompt.lower()
        hit = next((w for w in self._blocked if w in lowered), None)
        if hit is None:
            return None
        return f"Content blocked by the safety filter (RAI): the prompt contains {hit!r}"

    def prepare(self, tenant: str, body: Mapping[str, Any], op: Operation) -> dict[str, Any]:
        """The body with the model's documented defaults, once its model is usable."""
        schema = op.raw["requestBody"]["content"]["application/json"]["schema"]
        params = dict(apply_defaults(self._rt.spec.documents[op.family], schema, body))
        self.check_model(tenant, str(params["finetune_id"]))
        return params

    def processing_time(self, params: Mapping[str, Any]) -> float:
        """PROCESSING seconds for these parameters under the timing profile."""
        base = self._rt.timing.for_lifecycle(self.lifecycle.name).get("PROCESSING", 0.0)
        steps = float(params.get("steps", self._scaling.get("reference_steps", 25)))
        factor = float(self._scaling.get("hardware", {}).get(params.get("hardware"), 1.0))
        return base * steps / float(self._scaling.get("reference_steps", 25)) * factor

    # --- v1 ------------------------------------------------------------------------------

    def run_sync(
        self, tenant: str, body: Mapping[str, Any], op: Operation
    ) -> tuple[dict[str, Any], float]:
        """(params, simulated seconds) for a v1 call; ContentBlocked for a blocked prompt."""
        params = self.prepare(tenant, body, op)
        # charged before the prompt check, as v2 is: its blocked prompt fails a stored job
        if self._credits is not None:
            self._credits.charge(tenant, KIND, params)
        problem = self.blocked(str(params.get("prompt", "")))
        if problem:
            raise ContentBlocked(problem)
        return params, self.processing_time(params)

    # --- v2 ------------------------------------------------------------------------------

    def submit(self, tenant: str, body: Mapping[str, Any], op: Operation) -> InferenceJob:
        params = self.prepare(tenant, body, op)
        with charged(self._credits, tenant, KIND, params):
            doc = self._submitted(params, op)
            return self._jobs.insert(tenant, str(uuid.uuid4()), doc)

    def _submitted(self, params: Mapping[str, Any], op: Operation) -> dict[str, Any]:
        """The stored doc of a new v2 request (its model checked, its parameters defaulted)."""
        now = self._rt.clock.now()
        durations = {
            **self._rt.timing.for_lifecycle(self.lifecycle.name),
            "PROCESSING": self.processing_time(params),
        }
        problem = self.blocked(str(params.get("prompt", "")))
        planned = (
            plan(self.lifecycle, now, durations)
            if problem is None
            else plan_failure(self.lifecycle, now, durations, problem, after="PROCESSING")
        )
        return self._new_doc(params, planned, model_of(op))

    def preload(
        self,
        tenant: str,
        job_id: str,
        body: Mapping[str, Any],
        op: Operation,
        planned: Sequence[Transition],
    ) -> InferenceJob:
        """Scenarios: put a v2 request with a ready-made plan in place of any request with
        its id (no credits drawn, no model check: the model may be loaded after it)."""
        params = self.check_preload(job_id, body, op)
        self._rt.store.delete(KIND, job_id, None)
        return self._jobs.insert(tenant, job_id, self._new_doc(params, planned, model_of(op)))

    def check_preload(self, job_id: str, body: Mapping[str, Any], op: Operation) -> dict[str, Any]:
        """The body with the model's defaults; InvalidInput unless it is a valid v2 body."""
        schema = op.raw["requestBody"]["content"]["application/json"]["schema"]
        doc = self._rt.spec.documents[op.family]
        problem = first_problem(schema_validator(doc, schema), body)
        if problem:
            raise InvalidInput(f"inference {job_id}: {problem}")
        return dict(apply_defaults(doc, schema, body))

    @staticmethod
    def _new_doc(
        params: Mapping[str, Any], planned: Sequence[Transition], model: str
    ) -> dict[str, Any]:
        return {
            "model": model,
            "params": params,
            "created_at": iso(planned[0].at),
            "transitions": serial.dump(planned),
        }

    def expired(self, job: InferenceJob, now: datetime) -> bool:
        state = job.state_at(now)
        return state.state in self.lifecycle.terminal and now > state.at + self.retention

    def get(self, tenant: str | None, job_id: str, now: datetime | None = None) -> InferenceJob:
        """A live request at `now` (default: the clock's now); unknown, another tenant's and
        expired all answer the same."""
        record = self._rt.store.get(KIND, job_id, tenant)
        job = self._jobs.job(record) if record else None
        at = now if now is not None else self._rt.clock.now()
        if job is None or (tenant is not None and self.expired(job, at)):
            raise NotFound(f"Request {job_id} not found (unknown, or its result expired)")
        return job

    def list(self, tenant: str | None) -> Sequence[InferenceJob]:
        return self._jobs.list(tenant)

    def force_status(
        self, job_id: str, state: str | None = None, detail: str | None = None
    ) -> InferenceJob:
        return self._jobs.force(job_id, state, detail)

    def history_at(self, job: InferenceJob, now: datetime) -> tuple[Transition, ...]:
        return history(job.transitions, now)
