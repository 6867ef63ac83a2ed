"""A training job in the provider's `{"data": {...}}` envelope, timestamps as the doc writes
them (Python's str(datetime): "2025-05-06 16:35:59.840508+00:00")."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from mock_server.lifecycle import Lifecycle
from mock_server.trainer.domain import TrainingJob

#: How many sample outputs a finished LoRA shows ("it will also return sample outputs").
SAMPLES = 4


def doc_time(moment: datetime) -> str:
    return str(moment.astimezone(UTC))


def customer_of(tenant: str) -> str:
    return "cus_" + hashlib.sha256(tenant.encode()).hexdigest()[:16]


def sample_urls(job: TrainingJob, kind: str) -> list[str]:
    return [f"{job.base_url}/lora-trainer/files/{job.id}/{kind}_{n}.jpg" for n in range(SAMPLES)]


def envelope(job: TrainingJob, lifecycle: Lifecycle, now: datetime) -> dict[str, Any]:
    past = job.history_at(now)
    state = past[-1]
    done = state.state == lifecycle.happy_path()[-1]
    customer = customer_of(job.tenant)
    history: list[dict[str, Any]] = []
    for t in past:
        entry: dict[str, Any] = {"status": t.state, "at": doc_time(t.at)}
        if t.detail:
            entry["detail"] = t.detail
        history.append(entry)
    return {
        "data": {
            "id": job.id,
            "customer_id": customer,
            "primary_user_id": customer,
            "args": dict(job.args),
            "results": sample_urls(job, "sample") if done else [],
            "thumbnails": sample_urls(job, "thumb") if done else [],
            "status": state.state,
            "mime_type": "image/jpeg",
            "app_name": job.args.get("option", ""),
            "created_at": doc_time(job.created_at),
            "updated_at": doc_time(state.at),
            "history": history,
        }
    }
