"""What each dashboard page shows, read from the same domain services the admin API uses
(no HTTP here, no writes: every change the dashboard makes goes through /_mock)."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mock_server.admin.jobs import JobKind
from mock_server.admin.tenants import handle as tenant_handle
from mock_server.admin.tenants import known as known_tenants
from mock_server.admin.tenants import resolve as resolve_tenant
from mock_server.clock import iso
from mock_server.errors import NotFound
from mock_server.lifecycle import current
from mock_server.runtime import Runtime
from mock_server.tenancy import label
from mock_server.webhooks.admin import all_webhooks, delivery_view
from mock_server.webhooks.deliveries import OUTCOMES, outcome
from mock_server.webhooks.dispatcher import Dispatcher

if TYPE_CHECKING:
    from mock_server.services import Services


def mask(tenant: str | None) -> str:
    """A tenant as the dashboard shows it: its masked key and the start of its id, enough to
    tell tenants apart, never a key (the store holds none)."""
    return label(tenant) if tenant else "—"


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
    """Every tenant the mock knows (for the pages to show masked, or by handle)."""
    return known_tenants(s.rt, s.services)


def handle(s: Pages, tenant: str) -> str:
    return tenant_handle(s.services, tenant)


def chosen_tenant(s: Pages, given: str | None) -> str | None:
    """The tenant a filter's handle stands for (a key is taken too: an old link)."""
    if not given:
        return None
    try:
        return resolve_tenant(s.rt, s.services, given)
    except NotFound:
        return s.rt.tenants.given(given)


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
            "masked": mask(tenant),
            "credits": credits.balance(tenant),
            "jobs": sorted(counts.get(tenant, Counter()).items()),
        }
        for tenant in tenants(s)
    ]
    timing = s.rt.timing
    return {
        "clock": clock_view(s),
        "timing": {"name": timing.name, "durations": timing.durations},
        "tenants": rows,
        "totals": {name: len(kind.list(None)) for name, kind in s.kinds.items()},
    }


def delivery_row(d: Mapping[str, Any]) -> dict[str, Any]:
    """A delivery as a page shows it: with its outcome (what the filters and colours use)."""
    return {
        **d,
        "outcome": outcome(d["state"], d["attempts"]),
        "payload_text": pretty(d["payload"]),
        "tenant": mask(d.get("tenant")),
    }


def webhooks_page(s: Pages, chosen: str | None = None) -> dict[str, Any]:
    """Registered webhooks per tenant, and every delivery, or those of one outcome."""
    hooks = all_webhooks(s.rt.store)
    by_tenant: dict[str, list[dict[str, Any]]] = {}
    for hook in hooks:
        by_tenant.setdefault(mask(hook["tenant"]), []).append(hook)
    rows = [delivery_row(delivery_view(r)) for r in s.webhooks.deliveries.all(None)]
    counts = Counter(row["outcome"] for row in rows)
    chosen = chosen if chosen in OUTCOMES else None
    policy = s.webhooks.deliveries.policy
    schedule = [policy.base_seconds * 2 ** (n - 1) for n in range(1, policy.max_attempts)]
    return {
        "by_tenant": sorted(by_tenant.items()),
        "deliveries": [row for row in rows if chosen in (None, row["outcome"])],
        "outcomes": [(name, counts[name]) for name in OUTCOMES],
        "total_deliveries": len(rows),
        "chosen": chosen,
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
        "default_credits": s.rt.config.default_credits,  # what a new key starts with
    }


def _masked_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    match = rule.get("match")
    if isinstance(match, Mapping) and match.get("api_key"):
        return {**rule, "match": {**match, "api_key": mask(str(match["api_key"]))}}
    return dict(rule)
