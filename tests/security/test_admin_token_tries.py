"""Guessing the admin token is bounded: after BURST wrong tokens from one address (the
dashboard's login form, or a token header), every try from it answers 429 with Retry-After,
the right token too; another address, and the vendor API, are unaffected."""

from __future__ import annotations

import httpx
import pytest

from mock_server.http.token_tries import BURST, REFILL_SECONDS, REMEMBERED, TokenTries
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio

KEY = "key-token-tries-tenant-01"
TOKEN = "s3cret-admin-token"


async def test_wrong_logins_run_out_and_then_even_the_right_token_waits() -> None:
    async with running_app(key=KEY, datasets="skip", admin_token=TOKEN) as client:
        for _ in range(BURST):
            bad = await client.post("/_mock/ui/login", data={"token": "guess"})
            assert bad.status_code == 401 and "not the admin token" in bad.text
        limited = await client.post("/_mock/ui/login", data={"token": "guess"})
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert "Too many wrong admin tokens" in limited.text and 'name="token"' in limited.text
        right = await client.post("/_mock/ui/login", data={"token": TOKEN})
        assert right.status_code == 429 and "set-cookie" not in right.headers
        header = await client.get("/_mock/jobs", headers={"x-admin-token": TOKEN})
        assert header.status_code == 429 and header.json()["error"].startswith("Too many")
        # the vendor API takes no admin token: unaffected
        submitted = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        assert submitted.status_code == 200
        # another address is not locked out
        app = client.app  # type: ignore[attr-defined]
        elsewhere = httpx.ASGITransport(app=app, client=("10.9.8.7", 4321))
        async with httpx.AsyncClient(transport=elsewhere, base_url="http://127.0.0.1") as other:
            good = await other.post("/_mock/ui/login", data={"token": TOKEN})
            assert good.status_code == 303 and "tunemock_admin" in good.headers["set-cookie"]


async def test_wrong_token_headers_count_too() -> None:
    async with running_app(key=KEY, datasets="skip", admin_token=TOKEN) as client:
        for _ in range(BURST):
            wrong = await client.get("/_mock/jobs", headers={"authorization": "Bearer nope"})
            assert wrong.status_code == 401
        limited = await client.get("/_mock/jobs", headers={"x-admin-token": TOKEN})
        assert limited.status_code == 429 and "retry-after" in limited.headers


async def test_without_a_token_configured_nothing_is_counted() -> None:
    async with running_app(key=KEY, datasets="skip") as client:
        for _ in range(BURST + 2):
            answer = await client.get("/_mock/jobs", headers={"x-admin-token": "anything"})
            assert answer.status_code == 200


def test_a_try_comes_back_with_time_and_memory_stays_bounded() -> None:
    now = [0.0]
    tries = TokenTries(burst=3, refill_seconds=REFILL_SECONDS, clock=lambda: now[0])
    for _ in range(3):
        assert tries.wait("a") == 0
        tries.failed("a")
    assert tries.wait("a") == REFILL_SECONDS
    now[0] += REFILL_SECONDS
    assert tries.wait("a") == 0
    for n in range(5000):  # a flood of addresses keeps no more than REMEMBERED of them
        tries.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(tries._left) <= REMEMBERED
