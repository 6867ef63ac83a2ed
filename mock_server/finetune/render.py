"""Fine-tune jobs in the vendor's shapes (submit answer, details, list item)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mock_server.clock import iso
from mock_server.finetune.domain import FinetuneJob, artifact_path_of
from mock_server.lifecycle import Lifecycle, Transition

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug_of(job: FinetuneJob) -> str:
    name = _NOT_SLUG.sub("-", str(job.request.get("name", "")).lower()).strip("-")
    return f"{name or 'finetune'}-{job.id[:8]}"


class FinetuneRenderer:
    """Knows the documented field names; reads value tables (source_type) from the spec."""

    def __init__(self, lifecycle: Lifecycle, details_schema: Mapping[str, Any]) -> None:
        self._life = lifecycle
        self._source_types = details_schema["properties"]["source_type"]["x-value-by-source"]
        # read once: a 1,000-job list renders each of them per job otherwise
        self._happy = frozenset(lifecycle.happy_path())
        storage_url = details_schema["properties"]["cloud_storage_url"]
        self._url_from = storage_url["x-present-from"]
        self._url_kept = bool(storage_url.get("x-kept-after-failure"))
        self._deployed = lifecycle.milestones["deployed"]

    def submit_answer(self, job: FinetuneJob) -> dict[str, Any]:
        # the answer to submit shows the initial state even when `instant` timing has
        # already moved the job on: it describes the request as accepted
        return {
            "status": self._life.initial,
            job.id_keys["submit"]: job.id,
            "name": job.request.get("name"),
        }

    def _common(
        self, job: FinetuneJob, state: Transition, reached: frozenset[str], base_url: str
    ) -> dict[str, Any]:
        # the spec says from which state the URL exists, and whether a later failure keeps it
        has_url = self._url_from in reached and (self._url_kept or state.state in self._happy)
        return {
            job.id_keys["record"]: job.id,
            "finetune_id": job.id,
            "name": job.request.get("name"),
            "data_source_path": job.request.get("data_source_path"),
            "status": state.state,
            "source_type": self._source_types[job.source],
            "base_model": job.request.get("base_model"),
            "error_message": state.detail if state.state not in self._happy else None,
            "cloud_storage_url": f"{base_url}{artifact_path_of(job)}" if has_url else None,
        }

    def details(self, job: FinetuneJob, now: datetime, base_url: str) -> dict[str, Any]:
        state, reached = job.progress_at(now)
        return {
            **self._common(job, state, reached, base_url),
            "instance_prompt": job.request.get("instance_prompt"),
            "slug": slug_of(job) if self._deployed in reached else None,
            "public_model": job.public,
            "created_ts": iso(job.created_at),
            "updated_ts": iso(state.at),
        }

    def list_item(self, job: FinetuneJob, now: datetime, base_url: str) -> dict[str, Any]:
        state, reached = job.progress_at(now)
        deployed = self._deployed in reached
        return {
            **self._common(job, state, reached, base_url),
            "segmind_model_path": slug_of(job) if deployed else None,
            "advance_parameters": job.request.get("advance_parameters"),
            "segmind_public_model": job.public,
            "train_type": job.request.get("train_type"),
            "theme": job.request.get("theme"),
            "model_information": {},
        }
