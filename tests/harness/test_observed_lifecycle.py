"""The lifecycle invariants both modes share, on their own: sparse reads may skip states but
never go back or off the graph; cloud_storage_url exists exactly when the spec says, the
mock agreeing with the spec on a job that fails after training."""

from __future__ import annotations

import httpx
import pytest

from contracts.checks import PresenceRule, first_status_legal, legal_progress, present_as_documented
from contracts.errors import CheckFailure
from mock_server.lifecycle.from_spec import lifecycles_from_spec
from mock_server.spec import load_specs
from mock_server.testing.bodies import doc_submit_body
from mock_server.testing.live import LiveServer

BUNDLE = load_specs()
LIFE = lifecycles_from_spec(BUNDLE)["finetune"]
DETAILS = BUNDLE.documents["segmind-finetune"].raw["components"]["schemas"]["FinetuneDetails"]
RULE = PresenceRule.from_schema("cloud_storage_url", DETAILS)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("REQUESTED", "TRAINING_COMPLETED"),  # a clock move passed TRAINING between two reads
        ("REQUESTED", "AVAILABLE"),
        ("TRAINING", "FAILED"),
        ("TRAINING", "TRAINING"),
    ],
)
def test_a_read_may_skip_states_along_the_graph(before: str, after: str) -> None:
    legal_progress(LIFE, before, after)


@pytest.mark.parametrize(
    ("before", "after", "check"),
    [
        ("AVAILABLE", "TRAINING", "lifecycle_never_backwards"),
        ("TRAINING_COMPLETED", "REQUESTED", "lifecycle_never_backwards"),
        ("FAILED", "AVAILABLE", "lifecycle_legal_edge"),
        ("REQUESTED", "training", "lifecycle_legal_edge"),  # lower case: off the graph
        ("TRAINING", None, "lifecycle_legal_edge"),
    ],
)
def test_a_read_never_goes_back_or_off_the_graph(before: str, after: object, check: str) -> None:
    with pytest.raises(CheckFailure) as caught:
        legal_progress(LIFE, before, after)
    assert caught.value.check == check
    assert before in caught.value.received


def test_the_first_read_is_the_initial_state_or_one_reachable_from_it() -> None:
    for state in LIFE.states:
        first_status_legal(LIFE, state)
    for wrong in ("requested", "QUEUED", None):
        with pytest.raises(CheckFailure, match="first read"):
            first_status_legal(LIFE, wrong)


def test_the_spec_declares_when_cloud_storage_url_exists() -> None:
    assert RULE.present_from in LIFE.states and RULE.kept_after_failure is True
    assert "x-inferred" in DETAILS["properties"]["cloud_storage_url"]


@pytest.mark.parametrize(
    ("status", "url", "reached", "holds"),
    [
        ("REQUESTED", None, False, True),
        ("REQUESTED", "u", False, False),
        ("TRAINING_COMPLETED", "u", True, True),
        ("AVAILABLE", None, True, False),  # a job jumped to AVAILABLE without its model
        ("FAILED", "u", True, True),  # failed after training: the URL is kept
        ("FAILED", None, True, False),  # ... and must not vanish
        ("FAILED", "u", False, True),  # history unseen: either is possible
        ("FAILED", None, False, True),
    ],
)
def test_cloud_storage_url_rule(status: str, url: str | None, reached: bool, holds: bool) -> None:
    if holds:
        present_as_documented(RULE, LIFE, status, url, reached)
    else:
        with pytest.raises(CheckFailure) as caught:
            present_as_documented(RULE, LIFE, status, url, reached)
        assert caught.value.check == "storage_url_exactly_when_trained"


def _details(client: httpx.Client, job: str) -> dict[str, object]:
    answer = client.request("GET", "/finetune/request/details", json={"request_id": job})
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()["finetune"]
    return found


@pytest.mark.parametrize("fail_after", ["REQUESTED", "TRAINING_COMPLETED"])
def test_the_mock_follows_the_spec_on_a_job_that_fails(
    live_server: LiveServer, fail_after: str
) -> None:
    with httpx.Client(base_url=live_server.base_url, headers={"x-api-key": "url-rule"}) as client:
        submitted = client.post("/finetune/request/submit", json=doc_submit_body("FLUX_PRO"))
        job = str(submitted.json()["finetune_id"])
        while _details(client, job)["status"] != fail_after:
            client.post(f"/_mock/jobs/{job}/status", json={}).raise_for_status()
        client.post(
            f"/_mock/jobs/{job}/status", json={"status": "FAILED", "error_message": "x"}
        ).raise_for_status()
        failed = _details(client, job)
    assert failed["status"] == "FAILED"
    reached = fail_after == RULE.present_from
    present_as_documented(RULE, LIFE, "FAILED", failed["cloud_storage_url"], reached)
    assert (failed["cloud_storage_url"] is not None) == reached
