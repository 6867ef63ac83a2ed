"""No tenant can make the mock call itself: a webhook, a test delivery or a trainer
webhook_url aimed at the mock's own /_mock/reset, under any spelling of its address, is
refused before a byte is sent, recorded as refused, and every tenant's state stays.
Against a real `tunemock serve` process (its own listener is a real socket)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mock_server.testing.live import LiveServer, start_server, stop_server
from tests.finetune.helpers import doc_submit_body

SPELLINGS = [
    "127.0.0.1",
    "localhost",  # the name the mock is reached and bound by
    "[::1]",
    "0.0.0.0",
    "127.0.0.2",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0177.0.0.1",  # octal: httpx refuses the URL itself
]
OWN_ADDRESS = "target not allowed: the mock's own address"
VICTIM, ATTACKER = "victim-key", "attacker-key"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = start_server("--clock", "virtual", "--datasets", "skip")
    yield live
    stop_server(live)


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    server.reset()
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        for _ in range(3):  # state someone else owns, that a reset would wipe
            answer = c.post(
                "/finetune/request/submit",
                json=doc_submit_body("QWEN"),
                headers={"x-api-key": VICTIM},
            )
            assert answer.status_code == 200
        yield c


def _reset_url(server: LiveServer, host: str) -> str:
    return f"http://{host}:{urlsplit(server.base_url).port}/_mock/reset"


def _victim_jobs(c: httpx.Client) -> int:
    return len(c.get("/finetune/request/list", headers={"x-api-key": VICTIM}).json())


def _attempts(c: httpx.Client) -> list[dict[str, Any]]:
    rows = c.get("/_mock/webhooks/deliveries", params={"tenant": ATTACKER}).json()
    return [a for row in rows for a in row["attempts"]]


@pytest.mark.parametrize("host", SPELLINGS)
def test_a_test_delivery_to_the_mock_itself_is_refused(
    server: LiveServer, client: httpx.Client, host: str
) -> None:
    me = {"x-api-key": ATTACKER}
    hook = client.post(
        "/webhook/add",
        json={"webhook_url": _reset_url(server, host), "event": {"types": ["FINETUNE"]}},
        headers=me,
    )
    assert hook.status_code == 200, hook.text
    tested = client.post(
        "/webhook/test", json={"webhook_id": hook.json()["webhook_id"]}, headers=me
    )
    assert tested.status_code == 200
    assert tested.json()["delivery"]["success"] is False
    assert tested.json()["delivery"]["status_code"] is None
    assert _victim_jobs(client) == 3  # nothing was reset
    (attempt,) = _attempts(client)
    expected = "target not allowed: invalid URL" if host == "0177.0.0.1" else OWN_ADDRESS
    assert attempt["error"] == expected


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0"])
def test_a_dispatched_delivery_to_the_mock_itself_is_refused_and_not_retried(
    server: LiveServer, client: httpx.Client, host: str
) -> None:
    me = {"x-api-key": ATTACKER}
    added = client.post(
        "/webhook/add",
        json={"webhook_url": _reset_url(server, host), "event": {"types": ["FINETUNE"]}},
        headers=me,
    )
    assert added.status_code == 200
    assert client.post("/finetune/request/submit", json=doc_submit_body("QWEN"), headers=me)
    for _ in range(3):  # every event happens; retries (if any) would be due too
        server.advance(3600)
        assert client.post("/_mock/webhooks/flush", json={}).status_code == 200
    assert _victim_jobs(client) == 3
    attempts = _attempts(client)
    assert attempts and all(
        a["error"] == "target not allowed: the mock's own address" for a in attempts
    )
    rows = client.get("/_mock/webhooks/deliveries", params={"tenant": ATTACKER}).json()
    assert {r["state"] for r in rows} == {"failed"}
    assert all(len(r["attempts"]) == 1 for r in rows)  # a refusal is never retried


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0"])
def test_a_trainer_webhook_url_at_the_mock_itself_is_refused(
    server: LiveServer, client: httpx.Client, host: str
) -> None:
    created = client.post(
        "/lora-trainer/finetune",
        files=[
            ("image_urls", (None, "http://127.0.0.1:9/a.png")),  # --datasets skip: not read
            ("webhook_url", (None, _reset_url(server, host))),
        ],
        headers={"x-api-key": ATTACKER},
    )
    assert created.status_code == 200, created.text
    for _ in range(2):
        server.advance(24 * 3600)
        assert client.post("/_mock/webhooks/flush", json={}).status_code == 200
    assert _victim_jobs(client) == 3
    attempts = _attempts(client)
    assert attempts and all(a["error"] == OWN_ADDRESS for a in attempts)


@pytest.fixture(scope="module")
def fetching_server() -> Iterator[LiveServer]:
    live = start_server("--clock", "virtual")  # datasets and images are fetched
    yield live
    stop_server(live)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0"])
def test_dataset_and_image_fetches_never_reach_the_mock_itself(
    fetching_server: LiveServer, host: str
) -> None:
    me = {"x-api-key": ATTACKER}
    own = _reset_url(fetching_server, host).replace("/_mock/reset", "/_mock/scenario")
    with httpx.Client(base_url=fetching_server.base_url, headers=me, timeout=30) as c:
        body = doc_submit_body("QWEN") | {"data_source_path": own}
        job_id = c.post("/finetune/request/submit", json=body).json()["request_id"]
        fetching_server.advance(3600)
        job = c.request("GET", "/finetune/request/details", json={"request_id": job_id})
        trainer = c.post("/lora-trainer/finetune", files=[("image_urls", (None, own))])
    assert job.json()["finetune"]["status"] == "FAILED"
    assert job.json()["finetune"]["error_message"].endswith(f"is unreachable: {OWN_ADDRESS}")
    assert trainer.status_code == 400
    assert trainer.json()["detail"].endswith(f"is unreachable: {OWN_ADDRESS}")
