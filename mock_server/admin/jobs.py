"""One view over every kind of job for the admin API: list them, force their state."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mock_server.clock import iso
from mock_server.lifecycle import Lifecycle, Transition
from mock_server.lifecycle.machine import history


class AdministeredJob(Protocol):
    """What the admin API reads of any job (read-only: every family's job is frozen)."""

    @property
    def id(self) -> str: ...

    @property
    def tenant(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def transitions(self) -> tuple[Transition, ...]: ...


class JobKind(Protocol):
    """What a family's domain service offers the admin API."""

    lifecycle: Lifecycle

    def list(self, tenant: str | None) -> Sequence[AdministeredJob]: ...

    def get(self, tenant: str | None, job_id: str) -> AdministeredJob: ...

    def force_status(
        self, job_id: str, state: str | None = None, detail: str | None = None
    ) -> AdministeredJob: ...


@dataclass(frozen=True)
class JobSummary:
    kind: str
    job: AdministeredJob
    lifecycle: Lifecycle

    def as_dict(self, now: datetime, shown: Callable[[str], str] = str) -> dict[str, Any]:
        """The admin API's view; `shown` names the tenant (its key, where one is known)."""
        past = history(self.job.transitions, now)
        last = past[-1]
        return {
            "kind": self.kind,
            "id": self.job.id,
            "tenant": shown(self.job.tenant),
            "status": last.state,
            "error_message": last.detail if last.state not in self.lifecycle.happy_path() else None,
            "created_at": iso(self.job.created_at),
            "updated_at": iso(last.at),
            "history": [_transition(t) for t in past],
            "planned": [_transition(t) for t in self.job.transitions if t.at > now],
        }


def _transition(t: Transition) -> dict[str, Any]:
    return {"state": t.state, "at": iso(t.at), "detail": t.detail}


def summaries(
    kinds: Mapping[str, JobKind], kind: str | None, tenant: str | None
) -> list[JobSummary]:
    """Every job of the selected kinds (all by default), newest first."""
    found = [
        JobSummary(name, job, service.lifecycle)
        for name, service in kinds.items()
        if kind in (None, name)
        for job in service.list(tenant)
    ]
    return sorted(found, key=lambda s: s.job.created_at, reverse=True)
