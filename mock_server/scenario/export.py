"""The current state as a scenario document that loads it back (`GET /_mock/scenario`):
tenants' credits and active webhooks, and every job at its current status. Timings are not
kept: loaded back, each job enters its status at load time and goes on from there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mock_server.lifecycle import Lifecycle, Transition
from mock_server.scenario.load import ScenarioServices

#: What the trainer adds to a job's fields itself (derived again on load).
_DERIVED_TRAINER_ARGS = ("image_count", "trigger_word")


def _status_fields(lifecycle: Lifecycle, history: Sequence[Transition]) -> dict[str, Any]:
    """status, and for a failed job its error_message and the state it failed in."""
    state = history[-1]
    fields: dict[str, Any] = {"status": state.state}
    if state.state == lifecycle.failure:
        if state.detail:
            fields["error_message"] = state.detail
        if len(history) > 1 and history[-2].state != lifecycle.initial:
            fields["failed_after"] = history[-2].state
    return fields


def export(s: ScenarioServices, name: str = "exported") -> dict[str, Any]:
    """The state as a document; each tenant's `api_key` is its tenant id (the caller names
    it as it may: a key, or masked)."""
    now = s.rt.clock.now()
    tenants: dict[str, dict[str, Any]] = {}

    def tenant(owner: str) -> dict[str, Any]:
        return tenants.setdefault(owner, {"api_key": owner})

    for owner in s.credits.known_tenants():
        tenant(owner)["credits"] = s.credits.balance(owner)
    for owner, hook in s.registry.all_active():
        tenant(owner).setdefault("webhooks", []).append(
            {
                "id": hook["webhook_id"],
                "url": hook["webhook_url"],
                "event_types": hook["event"]["types"],
            }
        )
    for job in reversed(s.finetune.list(None)):  # oldest first, as they were made
        entry = {"id": job.id, **_status_fields(s.finetune.lifecycle, job.history_at(now))}
        entry.update(public=job.public, request=dict(job.request))
        tenant(job.tenant).setdefault("finetunes", []).append(entry)
    for request in reversed(s.inference.list(None)):
        history = s.inference.history_at(request, now)
        entry = {"id": request.id, "model": request.model or s.inference.first_v2_model()}
        entry.update(_status_fields(s.inference.lifecycle, history))
        entry["request"] = dict(request.params)
        tenant(request.tenant).setdefault("inference", []).append(entry)
    for training in reversed(s.trainer.list(None)):
        entry = {"id": training.id, **_status_fields(s.trainer.lifecycle, training.history_at(now))}
        form = {k: v for k, v in training.args.items() if k not in _DERIVED_TRAINER_ARGS}
        entry["form"] = form
        tenant(training.tenant).setdefault("trainings", []).append(entry)
    return {"name": name, "tenants": list(tenants.values())}
