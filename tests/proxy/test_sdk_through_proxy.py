"""The official SDK through `tunemock proxy` in front of `tunemock serve`, the whole journey
(presigned upload, submit, poll, download, v1 and v2 inference, webhooks): every answer is
the upstream's, byte for byte (absolute URLs aside, which name the proxy), every webhook
delivery reaches the app's receiver as the upstream sent it, and a conforming upstream
leaves the violations list empty."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from mock_server.testing.live import LiveServer
from mock_server.testing.receiver import WebhookReceiver
from tests.fixtures.server import KEY_A
from tests.proxy.helpers import RunningProxy, running_proxy
from tests.proxy.journey import run_journey

#: Headers that differ between two answers to the same request for reasons of time.
_VOLATILE = {"date", "server", "x-request-id"}


@pytest.fixture(params=[1024 * 1024, 16], ids=["buffered", "streamed"])
def proxy(
    request: pytest.FixtureRequest, live_server: LiveServer, webhook_receiver: WebhookReceiver
) -> Iterator[RunningProxy]:
    """The proxy in front of the live mock, forwarding webhooks to the app's receiver; with
    a 16-byte buffer every body but the shortest streams through (rewritten on the fly, its
    schema left unchecked)."""
    with running_proxy(
        live_server.base_url, buffer_bytes=request.param, webhook_forward=webhook_receiver.url
    ) as running:
        yield running


class Capture:
    """Every answer the SDK's httpx client got; each read (but the presigned upload URL,
    a new one on every call) is at once asked of the upstream directly and compared."""

    def __init__(self, proxy_url: str, upstream_url: str) -> None:
        self.proxy_url, self.upstream_url = proxy_url, upstream_url
        self.answers: list[httpx.Response] = []
        self.compared = 0

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        self.answers.append(response)
        request = response.request
        if request.method == "GET" and "pre-signed" not in request.url.path:
            _same_answer(response, self.proxy_url, self.upstream_url)
            self.compared += 1


def _same_answer(through: httpx.Response, proxy_url: str, upstream_url: str) -> None:
    """The answer the proxy gave equals the upstream's own answer to the same request."""
    request = through.request
    url = str(request.url).replace(proxy_url, upstream_url)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    direct = httpx.request(request.method, url, headers=headers, content=request.content)
    assert through.status_code == direct.status_code, url
    assert through.content == direct.content.replace(upstream_url.encode(), proxy_url.encode())
    kept = {k: v for k, v in direct.headers.items() if k.lower() not in _VOLATILE}
    got = {k: v for k, v in through.headers.items() if k.lower() not in _VOLATILE}
    # framing may differ: a rewritten body has its own length, a streamed rewrite goes chunked
    assert _unframed(got) == _unframed(kept)
    if through.content == direct.content and "content-length" in got:
        assert got["content-length"] == kept["content-length"]


def _unframed(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("content-length", "transfer-encoding")}


def test_sdk_journey_through_the_proxy(
    proxy: RunningProxy, live_server: LiveServer, webhook_receiver: WebhookReceiver
) -> None:
    capture = Capture(proxy.url, live_server.base_url)

    def delivered() -> None:
        httpx.post(f"{live_server.base_url}/_mock/webhooks/flush", json={}).raise_for_status()
        webhook_receiver.wait_for(3)

    got = run_journey(
        proxy.url,
        KEY_A,
        live_server.advance,
        hook_url="https://app.example/hooks",  # the app's public URL, as it registers it
        delivered=delivered,
        watch=capture,
    )
    assert got.statuses == ["REQUESTED", "AVAILABLE", "QUEUED", "COMPLETED"]
    by_path = {a.request.url.path: a for a in got.answers}
    assert (
        by_path["/finetune/request/upload/pre-signed-url"]
        .json()["presigned_url"]
        .startswith(proxy.url + "/storage/")
    )
    assert by_path["/v1/flux-dev-finetuned"].headers["content-type"] == "image/jpeg"
    # details twice, list, download URL, the model, v2 status twice, result, webhook list
    assert capture.compared >= 8

    # the upstream delivered to the proxy's receiver, which passed each on unchanged
    (hook,) = httpx.get(f"{live_server.base_url}/webhook/get", headers={"x-api-key": KEY_A}).json()[
        "webhooks"
    ]
    assert hook["webhook_url"] == f"{proxy.url}/_mock/hooks"
    received = webhook_receiver.received
    assert [r.json()["event"] for r in received] == [
        "TRAINING_COMPLETED",
        "INFERENCE_QUEUED",
        "AVAILABLE",
    ]
    sent = httpx.get(f"{live_server.base_url}/_mock/webhooks/deliveries").json()
    payloads = [d["payload"] for d in sorted(sent, key=lambda d: d["event"])]
    assert sorted((r.json() for r in received), key=lambda p: p["event"]) == payloads
    assert all(r.json()["finetune_id"] == got.job_id for r in received)

    journal = httpx.get(f"{proxy.url}/_mock/requests?limit=100").json()
    assert len(journal) == len(got.answers) + 3  # and the three deliveries
    hooks = [e for e in journal if e["path"] == "/_mock/hooks"]
    assert [e["webhook"] for e in reversed(hooks)] == [r.json()["event"] for r in received]
    assert all(e["status"] == 200 and e["operation"] for e in hooks)
    assert not any(entry["flagged"] for entry in journal), journal
    assert KEY_A not in json.dumps(journal)  # the proxy keeps no key, not even as a tenant
    assert journal[0]["path"].startswith("/v2/requests/")  # newest first
    assert httpx.get(f"{proxy.url}/_mock/violations").json() == []
    assert proxy.lines == []
