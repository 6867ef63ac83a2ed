"""An upstream that drifts from the contract (the harness's drift proxy in front of
`tunemock serve`): the proxy reports each drift in /_mock/violations with the operation and a
JSON pointer, prints it as one line, flags the journal entry, and still hands the client the
drifted answer unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_server.testing.live import LiveServer
from mock_server.testing.receiver import WebhookReceiver
from tests.drift.proxy import running_proxy as drifting
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A
from tests.proxy.helpers import RunningProxy, running_proxy

HEADERS = {"x-api-key": KEY_A}


@pytest.fixture
def through(request: pytest.FixtureRequest, live_server: LiveServer) -> Iterator[RunningProxy]:
    """Our proxy in front of a drift proxy (`request.param` names the drift) in front of
    the live mock."""
    with drifting(live_server.base_url, request.param) as upstream, running_proxy(upstream) as p:
        yield p


def _violations(proxy: RunningProxy) -> list[dict[str, Any]]:
    answer = httpx.get(f"{proxy.url}/_mock/violations")
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.json()
    return found


def _submit(proxy: RunningProxy) -> httpx.Response:
    return httpx.post(
        f"{proxy.url}/finetune/request/submit", json=doc_submit_body("FLUX"), headers=HEADERS
    )


@pytest.mark.parametrize("through", ["field_renamed"], indirect=True)
def test_a_renamed_field_is_reported_and_passed_on(through: RunningProxy) -> None:
    answer = _submit(through)
    assert answer.status_code == 200
    assert "finetuneId" in answer.json() and "finetune_id" not in answer.json()  # as drifted
    (found,) = _violations(through)
    assert found["operation"] == "finetune_submit"
    assert found["direction"] == "response"
    assert found["check"] == "body_conforms"
    assert found["pointer"] == "/finetune_id"
    assert "'finetune_id' is a required property" in found["received"]
    (line,) = through.lines
    assert "finetune_submit /finetune_id" in line and "Received:" in line


@pytest.mark.parametrize("through", ["status_changed"], indirect=True)
def test_a_changed_status_is_reported_and_passed_on(through: RunningProxy) -> None:
    answer = _submit(through)
    assert answer.status_code == 201  # the drifted status, not the documented 200
    found = _violations(through)
    assert {v["check"] for v in found} >= {"status_code_documented"}
    status = next(v for v in found if v["check"] == "status_code_documented")
    assert status["operation"] == "finetune_submit" and status["status"] == 201
    assert status["received"] == "status 201" and "200" in status["documented"]
    (entry,) = httpx.get(f"{through.url}/_mock/requests").json()
    assert entry["flagged"] is True and entry["status"] == 201
    assert entry["violations"] == list(reversed(found))


@pytest.mark.parametrize("through", ["required_dropped"], indirect=True)
def test_a_dropped_required_field_is_reported_with_its_pointer(through: RunningProxy) -> None:
    assert _submit(through).status_code == 200
    listed = httpx.get(f"{through.url}/finetune/request/list", headers=HEADERS)
    assert listed.status_code == 200 and "name" not in listed.json()[0]
    (found,) = _violations(through)
    assert found["operation"] == "finetune_list"
    assert found["pointer"] == "/0/name"
    assert found["path"] == "/finetune/request/list"


@pytest.mark.parametrize("through", [None], indirect=True)
def test_a_bad_request_is_reported_and_the_upstreams_refusal_passed_on(
    through: RunningProxy, live_server: LiveServer
) -> None:
    body = doc_submit_body("FLUX") | {"base_model": "SDXL"}
    answer = httpx.post(f"{through.url}/finetune/request/submit", json=body, headers=HEADERS)
    direct = httpx.post(
        f"{live_server.base_url}/finetune/request/submit", json=body, headers=HEADERS
    )
    assert (answer.status_code, answer.content) == (direct.status_code, direct.content)
    found = _violations(through)
    assert found and all(v["direction"] == "request" for v in found)
    assert any(v["pointer"] == "/base_model" for v in found), found
    assert all(v["operation"] == "finetune_submit" for v in found)


@pytest.mark.parametrize("through", [None], indirect=True)
def test_a_conforming_upstream_leaves_no_violation(through: RunningProxy) -> None:
    assert _submit(through).status_code == 200
    assert _violations(through) == []
    assert through.lines == []


def test_a_dropped_webhook_field_is_reported_and_passed_on(
    live_server: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    """The drift sits between the proxy and the upstream on the deliveries' way back: the
    upstream's TRAINING_COMPLETED loses `trained_model_url` before the proxy's receiver."""
    with (
        drifting(live_server.base_url, "webhook_field_missing") as upstream,
        running_proxy(upstream, webhook_forward=webhook_receiver.url) as proxy,
    ):
        added = httpx.post(
            f"{proxy.url}/webhook/add",
            json={"webhook_url": "https://app.example/hooks", "event": {"types": ["FINETUNE"]}},
            headers=HEADERS,
        )
        assert added.status_code == 200, added.text
        assert _submit(proxy).status_code == 200
        live_server.advance(3600)
        httpx.post(f"{live_server.base_url}/_mock/webhooks/flush", json={}).raise_for_status()
        received = webhook_receiver.wait_for(3)
        found = _violations(proxy)
        journal = httpx.get(f"{proxy.url}/_mock/requests").json()
    completed = next(r.json() for r in received if r.json()["event"] == "TRAINING_COMPLETED")
    assert "trained_model_url" not in completed  # the app got the drifted delivery
    (violation,) = found
    assert violation["direction"] == "webhook"
    assert violation["operation"] == "finetune_webhook_training_completed"
    assert violation["pointer"] == "/trained_model_url"
    assert "'trained_model_url' is a required property" in violation["received"]
    # the rule broken, in the spec: the event's own part of its allOf
    spec = "#/components/schemas/FinetuneWebhookTrainingCompleted/allOf/1/required"
    assert violation["spec"] == spec
    flagged = [e for e in journal if e["flagged"]]
    assert [e["webhook"] for e in flagged] == ["TRAINING_COMPLETED"]
    assert any("/trained_model_url" in line for line in proxy.lines)
