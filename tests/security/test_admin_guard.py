"""The admin surface against a web page and a rebinding host (in process): a no-cors POST
(text/plain, form, empty) and a foreign Host change nothing; with --admin-token, /_mock and
the dashboard need the token (header or the login cookie), and the vendor API does not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio

KEY = "key-guarded-tenant-0001"
TOKEN = "s3cret-admin-token"


async def _jobs(client: httpx.AsyncClient) -> int:
    answer = await client.get("/_mock/jobs", headers={"x-admin-token": TOKEN})
    assert answer.status_code == 200
    return len(answer.json())


async def _submit(client: httpx.AsyncClient) -> None:
    answer = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
    assert answer.status_code == 200, answer.text


@pytest.fixture
async def open_client() -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(key=KEY, clock="virtual", datasets="skip") as client:
        await _submit(client)
        yield client


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{}", {"content-type": "text/plain;charset=UTF-8"}),  # fetch(..., {body: "{}"})
        (b"reset=1", {"content-type": "application/x-www-form-urlencoded"}),  # a <form>
        (b"--b--\r\n", {"content-type": "multipart/form-data; boundary=b"}),
        (b"", {}),  # fetch(url, {method: "POST", mode: "no-cors"}): no body, no type
    ],
    ids=["text-plain", "form", "multipart", "empty"],
)
async def test_a_body_a_page_sends_unasked_does_not_reset(
    open_client: httpx.AsyncClient, content: bytes, headers: dict[str, str]
) -> None:
    headers = {**headers, "origin": "https://evil.example"}
    answer = await open_client.post("/_mock/reset", content=content, headers=headers)
    assert answer.status_code == 415
    assert "application/json" in answer.json()["error"]
    listed = await open_client.get("/finetune/request/list")
    assert len(listed.json()) == 1  # the job is still there
    # the mock's own clients send JSON: that still resets
    assert (await open_client.post("/_mock/reset", json={})).json() == {"reset": True}
    assert (await open_client.get("/finetune/request/list")).json() == []


async def test_every_state_changing_post_needs_json(open_client: httpx.AsyncClient) -> None:
    plain = {"content-type": "text/plain"}
    for path, body in [
        ("/_mock/clock/advance", b'{"seconds": 3600}'),
        ("/_mock/webhooks/flush", b""),
        ("/_mock/scenario", b"name: x\ntenants: []\n"),
    ]:
        answer = await open_client.post(path, content=body, headers=plain)
        assert answer.status_code == 415, path
    clock = (await open_client.get("/_mock/clock")).json()
    assert clock["offset_seconds"] == 0
    # YAML, which the scenario operation declares, is no body a page sends unasked
    yaml_ok = await open_client.post(
        "/_mock/scenario",
        content=b"name: x\ntenants: []\n",
        headers={"content-type": "application/yaml"},
    )
    assert yaml_ok.status_code == 200, yaml_ok.text


async def test_a_foreign_host_changes_nothing_when_hosts_are_listed() -> None:
    async with running_app(
        key=KEY, clock="virtual", datasets="skip", allowed_hosts=("127.0.0.1", "localhost")
    ) as client:
        await _submit(client)
        rebound = {"host": "attacker.example:8000"}
        answer = await client.post("/_mock/reset", json={}, headers=rebound)
        assert answer.status_code == 403
        assert "Host" in answer.json()["error"]
        assert (await client.get("/_mock/scenario", headers=rebound)).status_code == 403
        assert (await client.get("/_mock/ui/", headers=rebound)).status_code == 403
        local = {"host": "localhost:8000"}
        jobs = await client.get("/_mock/jobs", headers=local)
        assert jobs.status_code == 200 and len(jobs.json()) == 1
        # the vendor API answers any Host (presigned URLs, proxies): a tenant's key guards it
        listed = await client.get("/finetune/request/list", headers=rebound)
        assert listed.status_code == 200 and len(listed.json()) == 1


@pytest.mark.parametrize(
    "path", ["/_mock/health", "/_mock/jobs", "/_mock/scenario", "/_mock/requests"]
)
async def test_with_a_token_admin_reads_need_it(path: str) -> None:
    async with running_app(key=KEY, datasets="skip", admin_token=TOKEN) as client:
        refused = await client.get(path)
        assert refused.status_code == 401
        assert "admin token" in refused.json()["error"]
        wrong = await client.get(path, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert (await client.get(path, headers={"authorization": f"Bearer {TOKEN}"})).is_success
        assert (await client.get(path, headers={"x-admin-token": TOKEN})).is_success


async def test_with_a_token_a_reset_without_it_changes_nothing() -> None:
    async with running_app(key=KEY, clock="virtual", datasets="skip", admin_token=TOKEN) as client:
        await _submit(client)
        assert (await client.post("/_mock/reset", json={})).status_code == 401
        assert await _jobs(client) == 1
        # the token header is enough, whatever the body
        done = await client.post("/_mock/reset", headers={"x-admin-token": TOKEN})
        assert done.json() == {"reset": True}
        assert await _jobs(client) == 0


async def test_with_a_token_the_vendor_api_is_unaffected() -> None:
    async with running_app(key=KEY, clock="virtual", datasets="skip", admin_token=TOKEN) as client:
        await _submit(client)
        listed = await client.get("/finetune/request/list")
        assert listed.status_code == 200 and len(listed.json()) == 1


async def test_the_dashboard_asks_for_the_token_and_its_cookie_opens_it() -> None:
    async with running_app(key=KEY, datasets="skip", admin_token=TOKEN) as client:
        page = await client.get("/_mock/ui/")
        assert page.status_code == 401
        assert 'name="token"' in page.text and "Jobs" not in page.text
        bad = await client.post("/_mock/ui/login", data={"token": "guess"})
        assert bad.status_code == 401 and "tunemock_admin" not in bad.headers.get("set-cookie", "")
        good = await client.post("/_mock/ui/login", data={"token": TOKEN})
        assert good.status_code == 303
        cookie = good.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert TOKEN not in cookie  # the cookie holds a value derived from it
        # httpx keeps the cookie: the dashboard and the admin API open
        assert (await client.get("/_mock/ui/")).status_code == 200
        assert (await client.get("/_mock/jobs")).status_code == 200
        # the dashboard's own changes are JSON fetches: with the cookie they work
        moved = await client.post("/_mock/clock/advance", json={"seconds": 0})
        assert moved.status_code == 200
        # a page's unasked POST carries the cookie only same-site; even then it is refused
        plain = await client.post(
            "/_mock/reset", content=b"", headers={"content-type": "text/plain"}
        )
        assert plain.status_code == 415


async def test_without_a_token_the_login_page_sends_to_the_dashboard() -> None:
    async with running_app(key=KEY, datasets="skip") as client:
        answer = await client.get("/_mock/ui/login")
        assert answer.status_code == 303
        assert (await client.get("/_mock/jobs")).status_code == 200
