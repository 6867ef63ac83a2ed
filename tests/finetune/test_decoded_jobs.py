"""Reads reuse a decoded job only while its stored doc is the same one (the decoded-job cache)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.config import Config
from mock_server.finetune.domain import FinetuneJob
from mock_server.inference.domain import InferenceJob
from mock_server.lifecycle.stored import DecodedJobs
from mock_server.store import Record
from mock_server.testing.bodies import doc_submit_body, doc_v2_body

DOC: dict[str, Any] = {
    "request": {"name": "faces", "base_model": "FLUX"},
    "id_keys": {"submit": "finetune_id", "record": "request_id"},
    "source": "public_url",
    "public": False,
    "created_at": "2025-01-01T00:00:00.000Z",
    "transitions": [{"state": "REQUESTED", "at": "2025-01-01T00:00:00.000Z", "detail": None}],
}


def test_the_same_doc_is_decoded_once() -> None:
    jobs = DecodedJobs(FinetuneJob.from_doc)
    first = jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1))
    assert jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1)) is first


def test_a_changed_doc_under_the_same_id_version_and_seq_is_decoded_again() -> None:
    # what a reset and re-insert (here or in another worker) looks like to a reader
    jobs = DecodedJobs(FinetuneJob.from_doc)
    jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1))
    changed = {**DOC, "public": True}
    assert jobs.job(Record.of("finetune", "a", "t", changed, 1, 1)).public is True
    assert jobs.job(Record.of("finetune", "a", "other", changed, 1, 1)).tenant == "other"


def test_the_least_recently_read_job_leaves_first() -> None:
    jobs = DecodedJobs(FinetuneJob.from_doc, size=2)
    a = jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1))
    jobs.job(Record.of("finetune", "b", "t", dict(DOC), 1, 2))
    assert jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1)) is a  # a is now the newest
    jobs.job(Record.of("finetune", "c", "t", dict(DOC), 1, 3))  # b leaves
    assert jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1)) is a
    b = jobs.job(Record.of("finetune", "b", "t", dict(DOC), 1, 2))
    assert jobs.job(Record.of("finetune", "b", "t", dict(DOC), 1, 2)) is b


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_submitted_job_is_the_job_read_back(tmp_path: Path, store: str) -> None:
    # a submit's job is made from the doc it stored, not from the stored text: it must be the
    # very job a later read decodes (types, timestamps to the millisecond, defaults)
    state = tmp_path / "s.db" if store == "sqlite" else None
    config = Config(timing="instant", datasets="skip", state=state, storage_dir=tmp_path / "f")
    app = create_app(config)
    services, stored = app.state.services, app.state.runtime.store
    try:
        for model in ("FLUX", "FLUX_PRO", "QWEN"):
            job = services.finetune.submit("t", doc_submit_body(model), "http://mock.test")
            read = stored.get("finetune", job.id, "t")
            assert job == FinetuneJob.from_doc(read.id, read.tenant, read.doc)
            inference = services.inference
            op = inference.v2_model(inference.first_v2_model())
            request = inference.submit("t", doc_v2_body(job.id), op)
            record = stored.get("inference", request.id, "t")
            assert request == InferenceJob.from_doc(record.id, record.tenant, record.doc)
    finally:
        stored.close()
