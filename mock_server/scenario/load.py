"""Load a scenario: tenants' credits, webhooks and jobs in any state, through the domain
services (the same rules and records as the vendor routes). Every entry is checked before
anything is written, so a broken document changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from mock_server.credits import Credits
from mock_server.errors import IllegalTransition, InvalidInput
from mock_server.finetune.domain import FinetuneService
from mock_server.inference.domain import InferenceService
from mock_server.lifecycle import Lifecycle, Transition, plan_reached
from mock_server.runtime import Runtime
from mock_server.trainer.domain import TrainerService
from mock_server.webhooks.registry import WebhookRegistry

#: Jobs enter their state this long before the load, so a webhook registered by the same
#: scenario (which hears what happens from the load on) is not sent their past.
_BEFORE_LOAD = timedelta(seconds=1)

_NAMESPACE = uuid.UUID("5b0f3c2e-7f0a-4c55-9a51-6d2f1c0e7a11")


@dataclass(frozen=True)
class ScenarioServices:
    rt: Runtime
    finetune: FinetuneService
    inference: InferenceService
    trainer: TrainerService
    registry: WebhookRegistry
    credits: Credits
    reset: Callable[[], None]


def derived_id(name: str, tenant: str, kind: str, index: int) -> uuid.UUID:
    """Ids of entries without one: the same document loads the same ids (idempotent)."""
    return uuid.uuid5(_NAMESPACE, f"{name}\0{tenant}\0{kind}\0{index}")


Step = Callable[[], Mapping[str, Any]]


class ScenarioLoader:
    def __init__(self, services: ScenarioServices) -> None:
        self._s = services

    def load(self, document: Mapping[str, Any], base_url: str) -> dict[str, Any]:
        """Apply a checked document (see scenario.document); what was loaded, by kind."""
        s = self._s
        name = str(document.get("name", "scenario"))
        entered = s.rt.clock.now() - _BEFORE_LOAD
        steps: list[tuple[str, Step]] = []
        for tenant in document.get("tenants", []):
            steps.extend(self._tenant_steps(name, tenant, entered, base_url))
        if document.get("reset"):
            s.reset()
        loaded: dict[str, Any] = {
            "name": name,
            "reset": bool(document.get("reset")),
            "tenants": [],
            "finetunes": [],
            "inference": [],
            "trainings": [],
            "webhooks": [],
        }
        for kind, step in steps:
            loaded[kind].append(step())
        return loaded

    def _tenant_steps(
        self, name: str, tenant: Mapping[str, Any], entered: datetime, base_url: str
    ) -> list[tuple[str, Step]]:
        s = self._s
        # the document names a tenant by its key (or by the id an export could not turn back
        # into a key); the records hold its id, the answer names it as the document did
        key = str(tenant["api_key"])
        owner = s.rt.tenants.given(key)
        steps: list[tuple[str, Step]] = [("tenants", partial(self._credits, key, owner, tenant))]
        for i, hook in enumerate(tenant.get("webhooks", [])):
            hook_id = hook.get("id") or "wh_" + derived_id(name, key, "webhook", i).hex[:20]
            types = hook.get("event_types") or [s.registry.limit.event_type]
            add = partial(self._webhook, key, owner, hook_id, hook["url"], types)
            steps.append(("webhooks", add))
        for i, entry in enumerate(tenant.get("finetunes", [])):
            job_id = entry.get("id") or str(derived_id(name, key, "finetune", i))
            s.finetune.check_preload(job_id, entry["request"])
            state, planned = _planned(
                s.finetune.lifecycle, entry, entered, self._durations(s.finetune.lifecycle)
            )
            run: Callable[[], Any] = partial(
                s.finetune.preload,
                owner,
                job_id,
                entry["request"],
                planned,
                base_url,
                entry.get("public"),
            )
            steps.append(("finetunes", partial(_loaded, run, key, state)))
        for i, entry in enumerate(tenant.get("inference", [])):
            job_id = entry.get("id") or str(derived_id(name, key, "inference", i))
            op = s.inference.v2_model(str(entry["model"]))
            params = s.inference.check_preload(job_id, entry["request"], op)
            durations = {
                **self._durations(s.inference.lifecycle),
                "PROCESSING": s.inference.processing_time(params),
            }
            state, planned = _planned(s.inference.lifecycle, entry, entered, durations)
            run = partial(s.inference.preload, owner, job_id, entry["request"], op, planned)
            steps.append(("inference", partial(_loaded, run, key, state)))
        for i, entry in enumerate(tenant.get("trainings", [])):
            job_id = entry.get("id") or derived_id(name, key, "training", i).hex
            s.trainer.check_preload(job_id, entry["form"])
            state, planned = _planned(
                s.trainer.lifecycle, entry, entered, self._durations(s.trainer.lifecycle)
            )
            run = partial(s.trainer.preload, owner, job_id, entry["form"], planned, base_url)
            steps.append(("trainings", partial(_loaded, run, key, state)))
        return steps

    def _durations(self, lifecycle: Lifecycle) -> Mapping[str, float]:
        return self._s.rt.timing.for_lifecycle(lifecycle.name)

    def _credits(self, key: str, owner: str, tenant: Mapping[str, Any]) -> Mapping[str, Any]:
        if "credits" in tenant:
            self._s.credits.set(owner, tenant["credits"])
        return {"api_key": key, "credits": self._s.credits.balance(owner)}

    def _webhook(
        self, key: str, owner: str, hook_id: str, url: str, types: list[str]
    ) -> Mapping[str, Any]:
        doc = self._s.registry.preload(owner, hook_id, url, types)
        return {"id": doc["webhook_id"], "tenant": key, "url": doc["webhook_url"]}


def _planned(
    lifecycle: Lifecycle,
    entry: Mapping[str, Any],
    entered: datetime,
    durations: Mapping[str, float],
) -> tuple[str, tuple[Transition, ...]]:
    """(status, plan) of an entry: in `status` (default: the end of the happy path) since
    `entered`."""
    state = str(entry.get("status") or lifecycle.happy_path()[-1])
    try:
        return state, plan_reached(
            lifecycle,
            state,
            entered,
            durations,
            detail=entry.get("error_message"),
            failed_after=entry.get("failed_after"),
        )
    except IllegalTransition as exc:
        raise InvalidInput(f"scenario: {exc.message}") from exc


def _loaded(run: Callable[[], Any], tenant: str, state: str) -> Mapping[str, Any]:
    job = run()
    return {"id": job.id, "tenant": tenant, "status": state}
