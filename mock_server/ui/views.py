"""What each dashboard page shows, read from the same domain services the admin API uses
(no HTTP here, no writes: every change the dashboard makes goes through /_mock)."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mock_server.admin.jobs import JobKind, JobSummary, summaries
from mock_server.admin.tenants import handle as tenant_handle
from mock_server.admin.tenants import known as known_tenants
from mock_server.admin.tenants import resolve as resolve_tenant
from mock_server.clock import iso
from mock_server.errors import NotFound
from mock_server.http.capture import mask_secret
from mock_server.lifecycle import current
from mock_server.runtime import Runtime
from mock_server.trainer.render import sample_urls
from mock_server.webhooks.admin import all_webhooks, delivery_view
from mock_server.webhooks.dispatcher import Dispatcher

if TYPE_CHECKING:
    from mock_server.services import Services

PAGE_SIZE = 50


def mask(secret: str | None) -> str:
    """An API key as the dashboard shows it: enough to tell keys apart, not to use one."""
    return mask_secret(secret) if secret else "—"


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@dataclass(frozen=True)
class Pages:
    """What a page reads: the runtime and the app's services."""

    rt: Runtime
    services: Services

    @property
    def kinds(self) -> Mapping[str, JobKind]:
        return self.services.jobs

    @property
    def webhooks(self) -> Dispatcher:
        return self.services.webhooks

    @property
    def now(self) -> datetime:
        return self.rt.clock.now()


def clock_view(s: Pages) -> dict[str, Any]:
    clock = s.rt.clock
    return {"kind": clock.kind, "now": iso(clock.now()), "offset_seconds": clock.offset()}


def tenants(s: Pages) -> list[str]:
    """Every key the mock knows (for the pages to show masked, or by handle)."""
    return known_tenants(s.rt, s.services)


def handle(s: Pages, key: str) -> str:
    return tenant_handle(s.services, key)


def chosen_tenant(s: Pages, given: str | None) -> str | None:
    """The key a filter's handle stands for (a key itself is taken as given: an old link)."""
    if not given:
        return None
    try:
        return resolve_tenant(s.rt, s.services, given)
    except NotFound:
        return given


def overview(s: Pages) -> dict[str, Any]:
    now = s.now
    counts: dict[str, Counter[str]] = {}
    for name, kind in s.kinds.items():
        for job in kind.list(None):
            state = current(job.transitions, now).state
            counts.setdefault(job.tenant, Counter())[f"{name} {state}"] += 1
    credits = s.services.credits
    rows = [
        {
            "masked": mask(key),
            "credits": credits.balance(key),
            "jobs": sorted(counts.get(key, Counter()).items()),
        }
        for key in tenants(s)
    ]
    timing = s.rt.timing
    return {
        "clock": clock_view(s),
        "timing": {"name": timing.name, "durations": timing.durations},
        "tenants": rows,
        "totals": {name: len(kind.list(None)) for name, kind in s.kinds.items()},
    }


@dataclass(frozen=True)
class JobFilter:
    tenant: str | None = None
    kind: str | None = None
    state: str | None = None
    page: int = 1


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
    return {
        "rows": [
            {
                "kind": sm.kind,
                "id": sm.job.id,
                "tenant": mask(sm.job.tenant),
                "status": status,
                "created_at": iso(sm.job.created_at),
                "updated_at": iso(at),
            }
            for sm, status, at in shown
        ],
        "total": len(rows),
        "page": page,
        "pages": pages,
        "kinds": list(s.kinds),
        "states": states,
        "tenants": [(handle(s, t), mask(t)) for t in tenants(s)],
    }


def _fields(job: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not is_dataclass(job):
        return out
    for fld in fields(job):
        if fld.name in ("transitions", "tenant"):
            continue
        value = getattr(job, fld.name)
        text = iso(value) if isinstance(value, datetime) else value
        out.append((fld.name, text if isinstance(text, str) else pretty(text)))
    return out


def _path(url: str) -> str:
    """The mock's own absolute URL as a path (pages link inside the mock only)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def artifacts(s: Pages, kind: str, job: Any, status: str) -> list[dict[str, Any]]:
    """Download links and images of a job, once its lifecycle has made them."""
    life = s.kinds[kind].lifecycle
    done = status == life.happy_path()[-1]
    if kind == "finetune":
        trained = life.milestones.get("trained")
        reached = any(t.state == trained for t in job.history_at(s.now))
        if not reached:
            return []
        href = f"/_mock/ui/jobs/finetune/{job.id}/model.safetensors"
        return [{"label": "trained LoRA (.safetensors)", "href": href, "image": False}]
    if kind == "lora-trainer" and done:
        return [
            {"label": _path(url).rsplit("/", 1)[-1], "href": _path(url), "image": True}
            for url in sample_urls(job, "sample")
        ]
    if kind == "inference" and done and not s.services.inference.expired(job, s.now):
        href = f"/outputs/{job.id}.jpeg"
        return [{"label": f"{job.id}.jpeg", "href": href, "image": True}]
    return []


def job_page(s: Pages, kind: str, job_id: str) -> dict[str, Any]:
    """Everything about one job; raises NotFound for an unknown kind or id."""
    if kind not in s.kinds:
        raise NotFound(f"No job kind {kind}")
    service = s.kinds[kind]
    job = service.get(None, job_id)
    now = s.now
    summary = JobSummary(kind, job, service.lifecycle).as_dict(now)
    life = service.lifecycle
    status = summary["status"]
    deliveries = [
        delivery_view(r) for r in s.webhooks.deliveries.all(None) if r.doc["job_id"] == job_id
    ]
    order = {event: n for n, event in enumerate(_events(s, kind))}
    deliveries.sort(key=lambda d: order.get(d["event"], len(order)))
    return {
        "job": summary,
        "tenant": mask(job.tenant),
        "fields": _fields(job),
        "artifacts": artifacts(s, kind, job, status),
        "deliveries": [_delivery_row(d) for d in deliveries],
        "can_advance": status not in life.terminal,
        "can_fail": life.is_legal(status, life.failure),
        "failure": life.failure,
    }


def _events(s: Pages, kind: str) -> Sequence[str]:
    return s.kinds[kind].lifecycle.webhook_events


def _delivery_row(d: Mapping[str, Any]) -> dict[str, Any]:
    return {**d, "payload_text": pretty(d["payload"]), "tenant": mask(d.get("tenant"))}


def webhooks_page(s: Pages) -> dict[str, Any]:
    hooks = all_webhooks(s.rt.store)
    by_tenant: dict[str, list[dict[str, Any]]] = {}
    for hook in hooks:
        by_tenant.setdefault(mask(hook["tenant"]), []).append(hook)
    deliveries = [_delivery_row(delivery_view(r)) for r in s.webhooks.deliveries.all(None)]
    policy = s.webhooks.deliveries.policy
    schedule = [policy.base_seconds * 2 ** (n - 1) for n in range(1, policy.max_attempts)]
    return {
        "by_tenant": sorted(by_tenant.items()),
        "deliveries": deliveries,
        "policy": {
            "max_attempts": policy.max_attempts,
            "schedule": schedule,
            "jitter": policy.jitter,
        },
    }


def journal_rows(s: Pages, page: int, size: int = 100) -> dict[str, Any]:
    entries = list(s.rt.store.journal(s.rt.config.journal_size))
    pages = max(1, math.ceil(len(entries) / size))
    page = min(max(1, page), pages)
    rows = []
    for n, entry in enumerate(entries[(page - 1) * size : page * size]):
        rows.append(
            {
                **entry,
                "key": f"{entry.get('at')}-{entry['method']}-{entry['path']}-{n}",
                "tenant": mask(entry.get("tenant")) if entry.get("tenant") else "—",
            }
        )
    off = s.rt.config.journal_size <= 0
    return {"rows": rows, "page": page, "pages": pages, "total": len(entries), "journal_off": off}


def faults_page(s: Pages) -> dict[str, Any]:
    credits = s.services.credits
    rules = [_masked_rule(r) for r in s.services.faults.list()]
    return {
        "rules": [{**r, "text": pretty({k: v for k, v in r.items() if k != "id"})} for r in rules],
        "tenants": [
            {"handle": handle(s, t), "masked": mask(t), "credits": credits.balance(t)}
            for t in tenants(s)
        ],
    }


def _masked_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    match = rule.get("match")
    if isinstance(match, Mapping) and match.get("api_key"):
        return {**rule, "match": {**match, "api_key": mask(str(match["api_key"]))}}
    return dict(rule)
