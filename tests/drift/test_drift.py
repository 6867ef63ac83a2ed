"""The harness's self-test, steered: `run_checks` passes the untouched mock (virtual clock,
admin API reachable) and catches each drift a proxy in front of it introduces; the
`test_proxy_*` tests show the proxy drifts as it claims. The observed mode (admin API hidden,
real clock) is in test_observed.py, over the same catalog."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contracts import Report, run_checks
from mock_server.testing.live import LiveServer
from mock_server.testing.receiver import WebhookReceiver
from tests.drift.catalog import CATALOG, caught_by, describe
from tests.drift.proxy import MUTATIONS, rewrite_base_url, running_proxy
from tests.finetune.helpers import doc_submit_body
from tests.inference.params import PARAMS

KEY = {"x-api-key": "drift-self-test"}


@pytest.fixture
def mock(live_server: LiveServer) -> LiveServer:
    """The suite's shared live mock (virtual clock, datasets skipped), reset."""
    return live_server


@contextlib.contextmanager
def through(mock: LiveServer, mutation: str | None) -> Iterator[httpx.Client]:
    """A client to a proxy in front of `mock` applying `mutation`."""
    with (
        running_proxy(mock.base_url, mutation) as url,
        httpx.Client(base_url=url, headers=KEY, timeout=30) as client,
    ):
        yield client


@contextlib.contextmanager
def direct(mock: LiveServer) -> Iterator[httpx.Client]:
    """A client to `mock` itself, as the same tenant."""
    with httpx.Client(base_url=mock.base_url, headers=KEY, timeout=30) as client:
        yield client


def submit(client: httpx.Client) -> str:
    answer = client.post("/finetune/request/submit", json=doc_submit_body("FLUX_PRO"))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["finetune_id"])


def details(client: httpx.Client, job_id: str, **kw: Any) -> httpx.Response:
    return client.request("GET", "/finetune/request/details", json={"request_id": job_id}, **kw)


def status_of(client: httpx.Client, job_id: str) -> str:
    answer = details(client, job_id)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["finetune"]["status"])


def force_next(client: httpx.Client, job_id: str, body: dict[str, Any] | None = None) -> None:
    answer = client.post(f"/_mock/jobs/{job_id}/status", json=body or {})
    assert answer.status_code == 200, answer.text


def available_job(client: httpx.Client) -> str:
    job_id = submit(client)
    client.post("/_mock/clock/advance", json={"seconds": 3600}).raise_for_status()
    assert status_of(client, job_id) == "AVAILABLE"
    return job_id


def check(base_url: str) -> Report:
    return run_checks(base_url, max_examples=3, seed=0)


# --- the harness against the proxy --------------------------------------------------------


def test_the_untouched_mock_passes(mock: LiveServer) -> None:
    with running_proxy(mock.base_url, None) as url:
        report = check(url)
    assert report.ok, f"the untouched mock failed:\n{describe(report.failures)}"


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_drift_is_caught(mock: LiveServer, mutation: str) -> None:
    with running_proxy(mock.base_url, mutation) as url:
        report = check(url)
    assert report.mode == "steered"
    assert not report.ok, f"{mutation} went unnoticed"
    catch = CATALOG[mutation]
    assert caught_by(report, catch.steered), (
        f"{mutation}: no failure of {catch.steered}:\n{describe(report.failures)}"
    )


def test_every_drift_has_an_expectation() -> None:
    assert set(CATALOG) == set(MUTATIONS)


# --- the proxy itself ---------------------------------------------------------------------


def test_proxy_forwards_requests_and_answers_unchanged(mock: LiveServer) -> None:
    with through(mock, None) as proxy, direct(mock) as target:
        submitted = proxy.post("/finetune/request/submit", json=doc_submit_body("FLUX_PRO"))
        assert submitted.status_code == 200
        assert set(submitted.json()) == {"status", "finetune_id", "name"}
        job_id = submitted.json()["finetune_id"]
        seen = details(proxy, job_id)  # a GET with a JSON body gets through
        assert seen.status_code == 200
        assert seen.json() == details(target, job_id).json()
        assert (
            proxy.get("/finetune/request/list").json()
            == target.get("/finetune/request/list").json()
        )
        unknown = details(proxy, "no-such-job")
        assert unknown.status_code == 404
        assert unknown.json() == details(target, "no-such-job").json()
        assert proxy.get("/finetune/request/list", headers={"x-api-key": ""}).status_code == 401
        assert proxy.get("/_mock/health").json() == target.get("/_mock/health").json()
        journal = target.get("/_mock/requests", params={"limit": 50}).json()
    assert sum(1 for row in journal if row["path"] == "/finetune/request/submit") == 1


def test_proxy_keeps_clients_on_the_proxy(mock: LiveServer) -> None:
    with through(mock, None) as proxy:
        base = str(proxy.base_url).rstrip("/")
        job_id = available_job(proxy)
        queued = proxy.post("/v2/flux-dev-finetuned", json=PARAMS | {"finetune_id": job_id})
        assert queued.status_code == 200, queued.text
        assert queued.json()["status_url"].startswith(f"{base}/v2/requests/")
        assert queued.json()["response_url"].startswith(f"{base}/v2/requests/")
        assert proxy.get(queued.json()["status_url"]).status_code == 200

        urls = proxy.request(
            "GET", "/finetune/request/upload/pre-signed-url", json={"name": "faces.zip"}
        ).json()
        assert urls["presigned_url"].startswith(f"{base}/storage/")
        assert urls["s3_url"].startswith(f"{base}/storage/")
        uploaded = proxy.put(urls["presigned_url"], content=b"PK\x05\x06" + bytes(18))
        assert uploaded.status_code == 200, uploaded.text

        model_url = details(proxy, job_id).json()["finetune"]["cloud_storage_url"]
        assert model_url.startswith(f"{base}/storage/")
        download = proxy.request(
            "GET", "/finetune/request/file/download", data={"cloud_storage_url": model_url}
        )
        assert download.status_code == 200 and download.text.startswith(f"{base}/storage/")
        artifact = proxy.get(download.text)
        assert artifact.status_code == 200 and len(artifact.content) > 0
        assert mock.base_url not in proxy.get("/finetune/request/list").text


def test_proxy_field_renamed(mock: LiveServer) -> None:
    with through(mock, "field_renamed") as proxy:
        answer = proxy.post("/finetune/request/submit", json=doc_submit_body("FLUX_PRO"))
    assert answer.status_code == 200
    assert "finetune_id" not in answer.json() and answer.json()["finetuneId"]


def test_proxy_status_changed(mock: LiveServer) -> None:
    with through(mock, "status_changed") as proxy:
        answer = proxy.post("/finetune/request/submit", json=doc_submit_body("FLUX_PRO"))
        unknown = details(proxy, "no-such-job")
    assert answer.status_code == 201
    assert set(answer.json()) == {"status", "finetune_id", "name"}
    assert unknown.status_code == 404  # only the submit answer drifts


def test_proxy_type_changed(mock: LiveServer) -> None:
    with through(mock, "type_changed") as proxy, direct(mock) as target:
        job_id = submit(proxy)
        drifted = details(proxy, job_id).json()["finetune"]
        truth = details(target, job_id).json()["finetune"]
    assert drifted["public_model"] == "false" and truth["public_model"] is False
    assert {k: v for k, v in drifted.items() if k != "public_model"} == {
        k: v for k, v in truth.items() if k != "public_model"
    }


def test_proxy_required_dropped(mock: LiveServer) -> None:
    with through(mock, "required_dropped") as proxy, direct(mock) as target:
        submit(proxy)
        submit(proxy)
        drifted = proxy.get("/finetune/request/list").json()
        truth = target.get("/finetune/request/list").json()
    assert len(drifted) == 2 and all("name" not in item for item in drifted)
    assert all("name" in item for item in truth)


def test_proxy_enum_added(mock: LiveServer) -> None:
    with through(mock, "enum_added") as proxy, direct(mock) as target:
        job_id = submit(proxy)
        requested = status_of(proxy, job_id)
        force_next(target, job_id)
        training = status_of(proxy, job_id)
        truth = status_of(target, job_id)
        listed = proxy.get("/finetune/request/list").json()[0]["status"]
    assert (requested, training, truth, listed) == (
        "TRAINING_STARTED",
        "TRAINING_STARTED",
        "TRAINING",
        "TRAINING",
    )


def test_proxy_failed_as_200(mock: LiveServer) -> None:
    with through(mock, "failed_as_200") as proxy, direct(mock) as target:
        job_id = available_job(proxy)
        request_id = proxy.post(
            "/v2/flux-dev-finetuned", json=PARAMS | {"finetune_id": job_id}
        ).json()["request_id"]
        force_next(target, request_id, {"status": "FAILED", "error_message": "boom"})
        for path in (f"/v2/requests/{request_id}/status", f"/v2/requests/{request_id}"):
            drifted, truth = proxy.get(path), target.get(path)
            assert (drifted.status_code, truth.status_code) == (200, 422)
            assert drifted.json() == truth.json() and truth.json()["status"] == "FAILED"


def test_proxy_lifecycle_skipped(mock: LiveServer) -> None:
    with through(mock, "lifecycle_skipped") as proxy, direct(mock) as target:
        job_id = submit(proxy)
        seen = [status_of(proxy, job_id)]
        for _ in range(4):
            force_next(target, job_id)
            seen.append(status_of(proxy, job_id))
        truth = target.get("/_mock/jobs", params={"kind": "finetune"}).json()[0]
        through_admin = proxy.get("/_mock/jobs", params={"kind": "finetune"}).json()[0]
    assert seen == ["REQUESTED", "AVAILABLE", "AVAILABLE", "AVAILABLE", "AVAILABLE"]
    assert [h["state"] for h in truth["history"]] == [
        "REQUESTED",
        "TRAINING",
        "TRAINING_COMPLETED",
        "INFERENCE_QUEUED",
        "AVAILABLE",
    ]
    assert through_admin == truth  # /_mock passes untouched


def test_proxy_lifecycle_reversed(mock: LiveServer) -> None:
    with through(mock, "lifecycle_reversed") as proxy:
        job_id = available_job(proxy)  # seen AVAILABLE once
        later = [status_of(proxy, job_id), status_of(proxy, job_id)]
        other = submit(proxy)
        other_status = status_of(proxy, other)
    assert later == ["TRAINING", "TRAINING"]
    assert other_status == "REQUESTED"


def _register_and_train(
    proxy: httpx.Client, target: httpx.Client, receiver: WebhookReceiver
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Register `receiver` through the proxy, train a job, return the hook and the payloads."""
    added = proxy.post(
        "/webhook/add", json={"webhook_url": receiver.url, "event": {"types": ["FINETUNE"]}}
    )
    assert added.status_code == 200, added.text
    submit(proxy)
    target.post("/_mock/clock/advance", json={"seconds": 3600}).raise_for_status()
    target.post("/_mock/webhooks/flush", json={}).raise_for_status()
    calls = receiver.wait_for(3)
    hook: dict[str, Any] = target.get("/webhook/get").json()["webhooks"][0]
    assert added.json()["webhook_url"] == receiver.url  # the client sees its own URL
    return hook, [call.json() for call in calls]


def test_proxy_webhook_field_missing(mock: LiveServer, webhook_receiver: WebhookReceiver) -> None:
    with through(mock, "webhook_field_missing") as proxy, direct(mock) as target:
        hook, payloads = _register_and_train(proxy, target, webhook_receiver)
        base = str(proxy.base_url).rstrip("/")
    assert hook["webhook_url"].startswith(f"{base}/_drift/hook?to=")
    assert [p["event"] for p in payloads] == ["TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE"]
    assert "trained_model_url" not in payloads[0]
    assert payloads[2]["inference_api_url"].startswith(base)


def test_proxy_leaves_webhooks_alone_without_that_drift(
    mock: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    with through(mock, None) as proxy, direct(mock) as target:
        hook, payloads = _register_and_train(proxy, target, webhook_receiver)
    assert hook["webhook_url"] == webhook_receiver.url
    assert payloads[0]["event"] == "TRAINING_COMPLETED" and payloads[0]["trained_model_url"]


def test_proxy_expired_url_accepted(mock: LiveServer) -> None:
    with through(mock, "expired_url_accepted") as proxy, direct(mock) as target:
        urls = proxy.request(
            "GET", "/finetune/request/upload/pre-signed-url", json={"name": "faces.zip"}
        ).json()
        target.post("/_mock/clock/advance", json={"seconds": 3601}).raise_for_status()
        drifted = proxy.put(urls["presigned_url"], content=b"zip")
        base = str(proxy.base_url).rstrip("/")
        truth = target.put(urls["presigned_url"].replace(base, mock.base_url), content=b"zip")
    assert (drifted.status_code, drifted.content) == (200, b"")
    assert truth.status_code == 403 and "Request has expired" in truth.text


def test_proxy_refuses_an_unknown_mutation(mock: LiveServer) -> None:
    with pytest.raises(ValueError, match="unknown mutation"), running_proxy(mock.base_url, "nope"):
        pass


def test_proxy_rewrites_target_urls_only() -> None:
    body = b'{"a":"http://127.0.0.1:80/x","b":"http://127.0.0.1:8080/y","c":"http://127.0.0.1:80"}'
    rewritten = rewrite_base_url(body, "http://127.0.0.1:80", "http://127.0.0.1:9")
    assert rewritten == (
        b'{"a":"http://127.0.0.1:9/x","b":"http://127.0.0.1:8080/y","c":"http://127.0.0.1:9"}'
    )


def test_the_proxy_passes_on_a_path_no_route_pattern_matches(mock: LiveServer) -> None:
    # the stateful suite sometimes asks for /v2/requests/%0A.../status; the mock's answer
    # (a JSON 404) must reach it, not one of the proxy's own
    with running_proxy(mock.base_url, None) as url:
        answer = httpx.get(url + "/v2/requests/%0A%C2%9F/status", headers=KEY, timeout=30)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert "error" in answer.json()


# --- the proxy's newer drifts and its hidden admin API ------------------------------------


def test_proxy_hides_the_admin_api() -> None:
    with running_proxy("http://127.0.0.1:9", None, hide_admin=True) as url:
        # nothing listens behind it: the 404 is the proxy's own, never forwarded
        hidden = httpx.get(url + "/_mock/health", timeout=10)
        forwarded = httpx.get(url + "/finetune/request/list", headers=KEY, timeout=10)
    assert hidden.status_code == 404 and "error" in hidden.json()
    assert forwarded.status_code == 502  # the rest is forwarded (here: to nobody)


def test_proxy_server_error(mock: LiveServer) -> None:
    with through(mock, "server_error") as proxy:
        listed = proxy.get("/finetune/request/list")
        trainer = proxy.get("/lora-trainer/finetune/some-id")
        admin = proxy.get("/_mock/health")
    assert (listed.status_code, listed.json()) == (500, {"error": "Internal Server Error"})
    assert (trainer.status_code, trainer.json()) == (500, {"detail": "Internal Server Error"})
    assert admin.status_code == 200


def test_proxy_stuck_in_requested(mock: LiveServer) -> None:
    with through(mock, "stuck_in_requested") as proxy, direct(mock) as target:
        job_id = submit(proxy)
        target.post("/_mock/clock/advance", json={"seconds": 3600}).raise_for_status()
        seen = status_of(proxy, job_id)
        listed = proxy.get("/finetune/request/list").json()[0]["status"]
        truth = status_of(target, job_id)
    assert (seen, listed, truth) == ("REQUESTED", "REQUESTED", "AVAILABLE")


def test_proxy_lower_case_status(mock: LiveServer) -> None:
    with through(mock, "lower_case_status") as proxy, direct(mock) as target:
        job_id = submit(proxy)
        seen = status_of(proxy, job_id)
        listed = proxy.get("/finetune/request/list").json()[0]["status"]
        truth = status_of(target, job_id)
    assert (seen, listed, truth) == ("requested", "requested", "REQUESTED")


def test_proxy_tenancy_ignored(mock: LiveServer) -> None:
    other = {"x-api-key": "drift-someone-else"}
    with through(mock, "tenancy_ignored") as proxy, direct(mock) as target:
        job_id = submit(proxy)
        seen_by_other = details(proxy, job_id, headers=other)
        truth = details(target, job_id, headers=other)
        keyless = proxy.get("/finetune/request/list", headers={"x-api-key": ""})
    assert seen_by_other.status_code == 200
    assert seen_by_other.json()["finetune"]["finetune_id"] == job_id
    assert truth.status_code == 404
    assert keyless.status_code == 401


def test_proxy_download_unsigned(mock: LiveServer) -> None:
    with through(mock, "download_unsigned") as proxy, direct(mock) as target:
        job_id = available_job(proxy)
        model_url = details(proxy, job_id).json()["finetune"]["cloud_storage_url"]
        download = proxy.request(
            "GET", "/finetune/request/file/download", data={"cloud_storage_url": model_url}
        )
        base = str(proxy.base_url).rstrip("/")
        unsigned = download.text
        fetched = proxy.get(unsigned)
        truth = target.get(unsigned.replace(base, mock.base_url))
    assert download.status_code == 200 and unsigned.startswith(f"{base}/storage/")
    assert "?" not in unsigned  # neither Signature nor Expires
    assert fetched.status_code == 200 and len(fetched.content) > 0  # the proxy re-signs it
    assert truth.status_code == 403  # the mock itself refuses an unsigned URL
