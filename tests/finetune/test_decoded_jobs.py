"""Reads reuse a decoded job only while its stored doc is the same one (issue 13's cache)."""

from __future__ import annotations

from typing import Any

from mock_server.finetune.domain import FinetuneJob
from mock_server.lifecycle.stored import DecodedJobs
from mock_server.store import Record

DOC: dict[str, Any] = {
    "request": {"name": "faces", "base_model": "FLUX"},
    "id_keys": {"submit": "finetune_id", "record": "request_id"},
    "source": "public_url",
    "public": False,
    "created_at": "2025-01-01T00:00:00.000Z",
    "transitions": [{"state": "REQUESTED", "at": "2025-01-01T00:00:00.000Z", "detail": None}],
}


def test_the_same_doc_is_decoded_once() -> None:
    jobs = DecodedJobs(FinetuneJob.from_record)
    first = jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1))
    assert jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1)) is first


def test_a_changed_doc_under_the_same_id_version_and_seq_is_decoded_again() -> None:
    # what a reset and re-insert (here or in another worker) looks like to a reader
    jobs = DecodedJobs(FinetuneJob.from_record)
    jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1))
    changed = {**DOC, "public": True}
    assert jobs.job(Record.of("finetune", "a", "t", changed, 1, 1)).public is True
    assert jobs.job(Record.of("finetune", "a", "other", changed, 1, 1)).tenant == "other"


def test_the_least_recently_read_job_leaves_first() -> None:
    jobs = DecodedJobs(FinetuneJob.from_record, size=2)
    a = jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1))
    jobs.job(Record.of("finetune", "b", "t", dict(DOC), 1, 2))
    assert jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1)) is a  # a is now the newest
    jobs.job(Record.of("finetune", "c", "t", dict(DOC), 1, 3))  # b leaves
    assert jobs.job(Record.of("finetune", "a", "t", dict(DOC), 1, 1)) is a
    b = jobs.job(Record.of("finetune", "b", "t", dict(DOC), 1, 2))
    assert jobs.job(Record.of("finetune", "b", "t", dict(DOC), 1, 2)) is b
