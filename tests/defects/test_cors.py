"""`--cors ORIGINS`: off by default; when set, preflights are answered and the CORS headers
added on the vendor routes, never on the admin routes."""

from __future__ import annotations

import httpx
import pytest

from mock_server import Config, create_app
from mock_server.config import build_config

pytestmark = pytest.mark.anyio

ORIGIN = "https://app.example"
PREFLIGHT = {
    "origin": ORIGIN,
    "access-control-request-method": "POST",
    "access-control-request-headers": "x-api-key, content-type",
}


def _client(**config: object) -> httpx.AsyncClient:
    app = create_app(Config(clock="virtual", datasets="skip", **config))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock.test")


async def test_without_cors_a_preflight_gets_no_cors_headers() -> None:
    async with _client() as client:
        answer = await client.options("/finetune/request/submit", headers=PREFLIGHT)
        plain = await client.get(
            "/finetune/request/list", headers={"origin": ORIGIN, "x-api-key": "k"}
        )
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-origin" not in plain.headers


@pytest.mark.parametrize("origins", [(ORIGIN,), ("*",)])
async def test_a_listed_origin_gets_its_preflight_and_headers(origins: tuple[str, ...]) -> None:
    async with _client(cors=origins) as client:
        preflight = await client.options("/finetune/request/submit", headers=PREFLIGHT)
        listed = await client.get(
            "/finetune/request/list", headers={"origin": ORIGIN, "x-api-key": "k"}
        )
        other = await client.options(
            "/finetune/request/submit", headers={**PREFLIGHT, "origin": "https://evil.example"}
        )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] in (ORIGIN, "*")
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
    assert listed.status_code == 200 and listed.json() == []
    assert listed.headers["access-control-allow-origin"] in (ORIGIN, "*")
    if origins == ("*",):
        assert other.status_code == 200
    else:
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


async def test_admin_routes_never_answer_cors() -> None:
    async with _client(cors=("*",)) as client:
        preflight = await client.options(
            "/_mock/reset", headers={**PREFLIGHT, "access-control-request-method": "POST"}
        )
        health = await client.get("/_mock/health", headers={"origin": ORIGIN})
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code != 200 or "access-control-allow-methods" not in preflight.headers
    assert health.status_code == 200 and "access-control-allow-origin" not in health.headers


def test_the_cors_flag_takes_a_comma_separated_list() -> None:
    assert build_config(cors="https://a.example,https://b.example").cors == (
        "https://a.example",
        "https://b.example",
    )
    assert build_config().cors == ()
