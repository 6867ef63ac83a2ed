"""What the dashboard's job list and job page show: each job by its name and base model, its
record in the vendor's words (never the mock's own bookkeeping), and its artifacts or, when
it has none, why."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mock_server.admin.jobs import JobSummary, summaries
from mock_server.clock import iso
from mock_server.errors import NotFound
from mock_server.finetune.domain import FinetuneJob
from mock_server.finetune.render import FinetuneRenderer
from mock_server.inference.domain import InferenceJob
from mock_server.lifecycle import current
from mock_server.trainer.domain import TrainingJob
from mock_server.trainer.render import envelope, sample_urls
from mock_server.ui.views import (
    Pages,
    chosen_tenant,
    delivery_row,
    handle,
    mask,
    pretty,
    tenants,
)
from mock_server.webhooks.admin import delivery_view

PAGE_SIZE = 50


@dataclass(frozen=True)
class JobFilter:
    tenant: str | None = None
    kind: str | None = None
    state: str | None = None
    page: int = 1


def name_and_model(job: Any) -> tuple[str | None, str | None]:
    """How a reader tells jobs apart: the name given at submit and the model trained or run
    (a LoRA-trainer job has no name: its trigger word is the one it is called by)."""
    if isinstance(job, FinetuneJob):
        return job.request.get("name"), job.request.get("base_model")
    if isinstance(job, TrainingJob):
        return job.args.get("trigger_word"), job.args.get("option")
    if isinstance(job, InferenceJob):
        return None, job.model
    return None, None


def job_rows(s: Pages, f: JobFilter) -> dict[str, Any]:
    """One page of jobs, newest first; statuses read at the clock's now."""
    now = s.now
    kind = f.kind if f.kind in s.kinds else None
    found = summaries(s.kinds, kind, chosen_tenant(s, f.tenant))
    rows = []
    for summary in found:
        state = current(summary.job.transitions, now)
        if f.state and state.state != f.state:
            continue
        rows.append((summary, state.state, state.at))
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(max(1, f.page), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    states = sorted({st for kind_ in s.kinds.values() for st in kind_.lifecycle.states})
    out = []
    for sm, status, at in shown:
        name, model = name_and_model(sm.job)
        out.append(
            {
                "kind": sm.kind,
                "id": sm.job.id,
                "name": name,
                "model": model,
                "tenant": mask(sm.job.tenant),
                "status": status,
                "created_at": iso(sm.job.created_at),
                "updated_at": iso(at),
            }
        )
    return {
        "rows": out,
        "total": len(rows),
        "page": page,
        "pages": pages,
        "kinds": list(s.kinds),
        "states": states,
        "tenants": [(handle(s, t), mask(t)) for t in tenants(s)],
    }


def record(s: Pages, kind: str, job: Any) -> dict[str, Any]:
    """The job as the vendor's API answers it (fine-tune details, the trainer's `data`), or
    for an inference request what its status and result calls say. URLs of the mock itself
    are paths: the page links inside the mock."""
    now = s.now
    if isinstance(job, FinetuneJob):
        renderer: FinetuneRenderer = s.services.finetune_render
        return renderer.details(job, now, "")
    if isinstance(job, TrainingJob):
        data = dict(envelope(job, s.kinds[kind].lifecycle, now)["data"])
        data.pop("history")  # the page's timeline shows it
        for name in ("results", "thumbnails"):
            data[name] = [_path(url) for url in data[name]]
        return data
    if isinstance(job, InferenceJob):
        state = job.state_at(now)
        failed = state.state == s.kinds[kind].lifecycle.failure
        return {
            "request_id": job.id,
            "model": job.model,
            "status": state.state,
            **({"error": state.detail or "Request failed"} if failed else {}),
        }
    return {}


def request_of(job: Any) -> Mapping[str, Any] | None:
    """What the client sent (defaults applied), where the record does not already show it."""
    if isinstance(job, FinetuneJob):
        return job.request
    if isinstance(job, InferenceJob):
        return job.params
    return None  # a trainer job's record echoes its form in `args`


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else pretty(value)


def _path(url: str) -> str:
    """The mock's own absolute URL as a path (pages link inside the mock only)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def artifacts(s: Pages, kind: str, job: Any, status: str) -> list[dict[str, Any]]:
    """Download links and images of a job, once its lifecycle has made them (a fine-tune's
    model for as long as its record shows cloud_storage_url, which the spec may keep after
    a late failure)."""
    life = s.kinds[kind].lifecycle
    done = status == life.happy_path()[-1]
    if isinstance(job, FinetuneJob):
        if not record(s, kind, job).get("cloud_storage_url"):
            return []
        href = f"/_mock/ui/jobs/finetune/{job.id}/model.safetensors"
        return [{"label": "trained LoRA (.safetensors)", "href": href, "image": False}]
    if isinstance(job, TrainingJob) and done:
        return [
            {"label": _path(url).rsplit("/", 1)[-1], "href": _path(url), "image": True}
            for url in sample_urls(job, "sample")
        ]
    if isinstance(job, InferenceJob) and done and not s.services.inference.expired(job, s.now):
        href = f"/outputs/{job.id}.jpeg"
        return [{"label": f"{job.id}.jpeg", "href": href, "image": True}]
    return []


def artifacts_note(s: Pages, kind: str, job: Any, status: str, shown: bool) -> str:
    """One honest line over the artifacts: why there are none, or where shown ones come from."""
    life = s.kinds[kind].lifecycle
    made_at = life.milestones.get("trained") or life.happy_path()[-1]
    if status == life.failure:
        if shown:
            return f"Kept from before the failure: the job passed {made_at} before it failed."
        if isinstance(job, InferenceJob):
            return "No output: the request failed."
        return "No artifacts: the job failed before training finished."
    if shown:
        return ""
    if isinstance(job, InferenceJob) and s.services.inference.expired(job, s.now):
        return "No output: the result has expired."
    return f"None yet: they appear when the job reaches {made_at}."


def job_page(s: Pages, kind: str, job_id: str) -> dict[str, Any]:
    """Everything about one job; raises NotFound for an unknown kind or id."""
    if kind not in s.kinds:
        raise NotFound(f"No job kind {kind}")
    service = s.kinds[kind]
    job = service.get(None, job_id)
    summary = JobSummary(kind, job, service.lifecycle).as_dict(s.now)
    life = service.lifecycle
    status = summary["status"]
    deliveries = [
        delivery_view(r) for r in s.webhooks.deliveries.all(None) if r.doc["job_id"] == job_id
    ]
    order = {event: n for n, event in enumerate(life.webhook_events)}
    deliveries.sort(key=lambda d: order.get(d["event"], len(order)))
    made = artifacts(s, kind, job, status)
    name, model = name_and_model(job)
    sent = request_of(job)
    return {
        "job": summary,
        "name": name,
        "model": model,
        "tenant": mask(job.tenant),
        "record": [(k, _shown(v)) for k, v in record(s, kind, job).items()],
        "submitted": pretty(sent) if sent else None,
        "artifacts": made,
        "artifacts_note": artifacts_note(s, kind, job, status, bool(made)),
        "deliveries": [delivery_row(d) for d in deliveries],
        "can_advance": status not in life.terminal,
        "can_fail": life.is_legal(status, life.failure),
        "failure": life.failure,
    }
