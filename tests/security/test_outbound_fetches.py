"""Dataset and image fetches: unusable URLs are 400s that charge nothing, fetch_targets
decides where fetches may go, a request's image fetches share one deadline and a capped
count, and a failed connect reads the same whether the port is closed or filtered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.datasets import make_datasets
from mock_server.datasets.fetch import fetch_public
from mock_server.datasets.inspect import DatasetProblem
from mock_server.outbound import CANNOT_CONNECT
from tests.finetune.helpers import doc_submit_body
from tests.security.hosts import closed_port, filtered_port, serving, slow_images

pytestmark = pytest.mark.anyio

KEY = "tenant-fetch"
PNG = make_datasets._image(1)


async def _credits(client: httpx.AsyncClient) -> float:
    return float((await client.get(f"/_mock/credits/{KEY}")).json()["credits"])


async def _settled(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    body = doc_submit_body("QWEN") | {"data_source_path": url}
    answer = await client.post("/finetune/request/submit", json=body)
    assert answer.status_code == 200, answer.text
    await client.post("/_mock/clock/advance", json={"seconds": 3600})
    details = await client.request(
        "GET", "/finetune/request/details", json={"request_id": answer.json()["request_id"]}
    )
    job: dict[str, Any] = details.json()["finetune"]
    return job


@pytest.mark.parametrize(
    "url", ["http://[", "http://[::1/d.zip", "http://h:99999/d.zip", "http://h:x/d.zip"]
)
async def test_a_dataset_url_urlsplit_refuses_is_a_400_that_charges_nothing(
    make_client: Any, url: str
) -> None:
    async with make_client(key=KEY, clock="virtual", default_credits=100) as client:
        body = doc_submit_body("QWEN") | {"data_source_path": url}
        answer = await client.post("/finetune/request/submit", json=body)
        assert answer.status_code == 400, answer.text
        assert "data_source_path" in answer.json()["error"]
        assert (await client.get("/finetune/request/list")).json() == []
        assert await _credits(client) == 100


async def test_an_image_url_urlsplit_refuses_is_a_400_that_charges_nothing(
    make_client: Any,
) -> None:
    async with make_client(key=KEY, clock="virtual", default_credits=100) as client:
        answer = await client.post(
            "/lora-trainer/finetune", files=[("image_urls", (None, "http://["))]
        )
        assert answer.status_code == 400, answer.text
        assert "image_urls[0]" in answer.json()["detail"]
        assert await _credits(client) == 100


async def test_image_urls_are_capped_by_the_spec(make_client: Any) -> None:
    async with make_client(key=KEY, clock="virtual", default_credits=100) as client:
        parts = [("image_urls", (None, f"http://127.0.0.1:9/{i}.png")) for i in range(51)]
        answer = await client.post("/lora-trainer/finetune", files=parts)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["body", "image_urls"]
        assert await _credits(client) == 100


async def test_image_fetches_of_one_request_share_one_deadline(make_client: Any) -> None:
    """Each image takes 0.3 s; twelve take 3.6 s at least, over the request's 3 s."""
    async with make_client(key=KEY, clock="virtual", fetch_deadline=3.0) as client:
        with serving(slow_images(0.3, PNG)) as host:
            parts = [("image_urls", (None, f"{host}/{i}.png")) for i in range(12)]
            answer = await client.post("/lora-trainer/finetune", files=parts)
            one = await client.post(
                "/lora-trainer/finetune", files=[("image_urls", (None, f"{host}/a.png"))]
            )
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"].startswith("image_urls took over 3 s to fetch")
    assert one.status_code == 200, one.text  # one slow image alone is fine


async def test_fetch_targets_refuse_before_any_connection(make_client: Any) -> None:
    async with make_client(key=KEY, clock="virtual", fetch_targets="loopback") as client:
        job = await _settled(client, "http://192.0.2.1/d.zip")  # TEST-NET-1: never routed
    assert job["status"] == "FAILED"
    assert job["error_message"].endswith("is unreachable: target not allowed")


async def test_an_allow_list_lets_listed_hosts_through(make_client: Any, static_host) -> None:
    static_host.files["/d.zip"] = (
        Path(make_datasets.__file__).parent / "good" / "images.zip"
    ).read_bytes()
    async with make_client(key=KEY, clock="virtual", fetch_targets="127.0.0.1/32") as client:
        job = await _settled(client, static_host.url("/d.zip"))
    assert (job["status"], job["error_message"]) == ("AVAILABLE", None)


def _without_url(problem: DatasetProblem, url: str) -> str:
    return str(problem).replace(url, "URL")


def test_closed_and_filtered_ports_read_the_same(tmp_path: Path) -> None:
    texts = []
    closed = f"http://127.0.0.1:{closed_port()}/d.zip"
    with filtered_port() as port:
        filtered = f"http://127.0.0.1:{port}/d.zip"
        for url in (closed, filtered):
            with pytest.raises(DatasetProblem) as refused:
                fetch_public(url, tmp_path / "d.zip", None, deadline=1.0)
            texts.append(_without_url(refused.value, url))
    assert texts[0] == texts[1] == f"data_source_path URL is unreachable: {CANNOT_CONNECT}"


async def test_webhooks_to_closed_and_filtered_ports_read_the_same(make_client: Any) -> None:
    errors = []
    async with make_client(clock="virtual", datasets="skip", webhook_timeout=1) as c:
        with filtered_port() as port:
            for target in (closed_port(), port):
                me = {"x-api-key": f"tenant-{target}"}
                hook = await c.post(
                    "/webhook/add",
                    json={
                        "webhook_url": f"http://127.0.0.1:{target}/h",
                        "event": {"types": ["FINETUNE"]},
                    },
                    headers=me,
                )
                webhook_id = hook.json()["webhook_id"]
                tested = await c.post("/webhook/test", json={"webhook_id": webhook_id}, headers=me)
                assert tested.json()["delivery"]["success"] is False
                rows = (
                    await c.get("/_mock/webhooks/deliveries", params={"tenant": me["x-api-key"]})
                ).json()
                errors.append(rows[0]["attempts"][-1]["error"])
    assert errors == [CANNOT_CONNECT, CANNOT_CONNECT]
