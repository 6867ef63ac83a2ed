"""Training jobs of the seed-004 trainer: rules from the spec, real image checks, credits,
the lifecycle on the clock. No HTTP types (uploads arrive as plain file objects)."""

from __future__ import annotations

import tempfile
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from mock_server.clock import iso, parse_iso
from mock_server.credits import Credits, charged
from mock_server.datasets.fetch import fetch_public
from mock_server.datasets.inspect import DatasetProblem
from mock_server.datasets.intake import parse_url
from mock_server.errors import InvalidInput
from mock_server.lifecycle import Lifecycle, Transition, current, plan, serial
from mock_server.lifecycle.machine import history
from mock_server.lifecycle.stored import StoredJobs
from mock_server.outbound import Outbound
from mock_server.runtime import Runtime
from mock_server.spec.defaults import apply_defaults
from mock_server.spec.schemas import first_problem, schema_validator
from mock_server.trainer.rules import apply_rules

KIND = "lora-trainer"
FAMILY = "lora-trainer"


@dataclass(frozen=True)
class ImageUpload:
    filename: str
    file: IO[bytes]


@dataclass(frozen=True)
class TrainingJob:
    id: str
    tenant: str
    args: Mapping[str, Any] = field(repr=False)
    created_at: datetime
    transitions: tuple[Transition, ...]
    base_url: str

    @classmethod
    def from_doc(cls, job_id: str, tenant: str, doc: Mapping[str, Any]) -> TrainingJob:
        return cls(
            job_id,
            tenant,
            doc["args"],
            parse_iso(doc["created_at"]),
            serial.load(doc["transitions"]),
            doc.get("base_url", ""),
        )

    def state_at(self, now: datetime) -> Transition:
        return current(self.transitions, now)

    def history_at(self, now: datetime) -> tuple[Transition, ...]:
        return history(self.transitions, now)


def _check_image(name: str, stream: IO[bytes]) -> None:
    # Pillow is imported at the first image, not at start: most runs never open one
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            stream.seek(0)
            with Image.open(stream) as image:
                image.verify()
    except Exception as exc:  # Pillow raises many types for broken files
        raise InvalidInput(f"{name} is not a readable image") from exc


class TrainerService:
    def __init__(self, rt: Runtime, credits: Credits, outbound: Outbound) -> None:
        self._rt = rt
        self._credits = credits
        self._outbound = outbound
        self.lifecycle: Lifecycle = rt.lifecycles["lora-trainer"]
        self._jobs = StoredJobs(
            rt.store,
            KIND,
            self.lifecycle,
            rt.clock.now,
            TrainingJob.from_doc,
            lambda _: "Not Found",  # FastAPI's words for an unknown resource
        )
        op = rt.spec.operation("lora_trainer_finetune_create")
        self._doc = rt.spec.documents[op.family]
        media = op.raw["requestBody"]["content"]["multipart/form-data"]
        self._schema = self._doc.resolve(media["schema"]["$ref"])
        self._check = schema_validator(self._doc, self._schema)
        too_large = op.raw["responses"]["413"]
        self._max_file = int(too_large.get("x-max-file-bytes", 20 * 1024 * 1024))

    def submit(
        self, tenant: str, form: Mapping[str, Any], uploads: Sequence[ImageUpload], base_url: str
    ) -> TrainingJob:
        """Accept a validated form: defaults, the spec's rules, real images, credits."""
        values = dict(apply_defaults(self._doc, self._schema, form))
        values["image_files"] = list(uploads)
        values = apply_rules(values, self._schema.get("x-rules", []))
        files: list[ImageUpload] = values.pop("image_files", [])
        for i, upload in enumerate(files):
            _check_image(f"image_files[{i}] ({upload.filename})", upload.file)
        urls = [str(u) for u in values.get("image_urls", [])] if not files else []
        if urls and self._rt.config.datasets == "fetch":
            self._check_urls(urls)
        with charged(self._credits, tenant, KIND, values):
            job_id = uuid.uuid4().hex
            values["image_count"] = len(files) or len(urls)
            now = self._rt.clock.now()
            durations = self._rt.timing.for_lifecycle(self.lifecycle.name)
            planned = plan(self.lifecycle, now, durations)
            return self._store(tenant, job_id, values, planned, base_url)

    def preload(
        self,
        tenant: str,
        job_id: str,
        form: Mapping[str, Any],
        planned: Sequence[Transition],
        base_url: str,
    ) -> TrainingJob:
        """Scenarios: put a job with a ready-made plan in place of any job with its id (no
        credits drawn, no images read). `form` holds the trainer's fields (image_urls for
        the images; uploads cannot be preloaded)."""
        values = self.check_preload(job_id, form)
        values.setdefault("image_count", len(values.get("image_urls") or []))
        self._rt.store.delete(KIND, job_id, None)
        return self._store(tenant, job_id, values, planned, base_url)

    def check_preload(self, job_id: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """The form with its defaults; InvalidInput unless it is a valid trainer form."""
        values = dict(apply_defaults(self._doc, self._schema, form))
        problem = first_problem(self._check, values)
        if problem:
            raise InvalidInput(f"lora-trainer {job_id}: {problem}")
        return values

    def _store(
        self,
        tenant: str,
        job_id: str,
        values: Mapping[str, Any],
        planned: Sequence[Transition],
        base_url: str,
    ) -> TrainingJob:
        args = {k: v for k, v in values.items() if v not in (None, "", [])}
        args.setdefault("trigger_word", f"{values.get('lora_prefix')}_{job_id[:6]}")
        doc = {
            "args": args,
            "created_at": iso(planned[0].at),
            "transitions": serial.dump(planned),
            "base_url": base_url,
        }
        return self._jobs.insert(tenant, job_id, doc)

    def _check_urls(self, urls: Sequence[str]) -> None:
        """Fetch and check every image: within one deadline for the whole request, through
        the outbound policy, one image on disk at a time (their count is capped by the
        spec's maxItems)."""
        ends = time.monotonic() + self._outbound.fetch_deadline
        for i, url in enumerate(urls):
            parse_url(url, f"image_urls[{i}]")
        with tempfile.TemporaryDirectory(prefix="tunemock-images-") as folder:
            target = Path(folder) / "image"
            for i, url in enumerate(urls):
                late = InvalidInput(
                    f"image_urls took over {self._outbound.fetch_deadline:g} s to fetch "
                    f"({i} of {len(urls)} done)"
                )
                left = ends - time.monotonic()
                if left <= 0:
                    raise late
                field = f"image_urls[{i}]"
                try:
                    fetch_public(url, target, self._max_file, left, self._outbound.fetches, field)
                except DatasetProblem as exc:
                    raise (late if time.monotonic() >= ends else InvalidInput(str(exc))) from exc
                with target.open("rb") as stream:
                    _check_image(f"image_urls[{i}] ({url})", stream)
                target.unlink()

    def get(self, tenant: str | None, job_id: str) -> TrainingJob:
        return self._jobs.get(tenant, job_id)

    def list(self, tenant: str | None) -> Sequence[TrainingJob]:
        return self._jobs.list(tenant)

    def force_status(
        self, job_id: str, state: str | None = None, detail: str | None = None
    ) -> TrainingJob:
        return self._jobs.force(job_id, state, detail)
