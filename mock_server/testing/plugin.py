"""tunemock's pytest plugin (entry point `pytest11`): fixtures that give a test the mock,
in process or live, its clock, a webhook receiver, and the SDK routed to it.

    def test_my_integration(segmind_client, tunemock_clock):
        job = segmind_client.finetune.submit(...)
        tunemock_clock.advance(3600)
        details = segmind_client.finetune.details(job["finetune_id"])["finetune"]
        assert details["status"] == "AVAILABLE"
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.config import Config
from mock_server.testing.live import LiveServer, start_server, stop_server
from mock_server.testing.receiver import WebhookReceiver, running_receiver
from mock_server.testing.sdk import segmind_client as routed_client

#: How the plugin's mocks run unless a test overrides `tunemock_config`: the clock moves
#: only when told, and datasets are accepted unread (tests rarely host real ZIPs).
TEST_SETTINGS: dict[str, Any] = {"clock": "virtual", "datasets": "skip"}


class SyncClient:
    """A synchronous httpx-style client for an in-process app: calls run on an event loop
    in a helper thread (Starlette's TestClient does the same, but is deprecated with httpx)."""

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self._portal = portal
        self._client = client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(lambda: self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)


@contextmanager
def in_process(config: Config, api_key: str = "tunemock-test") -> Iterator[MockApp]:
    """The app for `config` with its lifespan running, and a sync client to it."""
    app = create_app(config)
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(
            transport=transport, base_url="http://tunemock.test", headers={"x-api-key": api_key}
        )
        with lifespan, portal.wrap_async_context_manager(client):
            yield MockApp(app, SyncClient(portal, client))


@dataclass
class MockApp:
    """The in-process mock: the Starlette app and a client to it (its lifespan running)."""

    app: Starlette
    client: SyncClient

    def advance(self, seconds: float) -> None:
        self.client.post("/_mock/clock/advance", json={"seconds": seconds}).raise_for_status()


@dataclass
class MockClock:
    """The live mock's clock, through its admin API."""

    base_url: str

    def advance(self, seconds: float) -> str:
        answer = httpx.post(f"{self.base_url}/_mock/clock/advance", json={"seconds": seconds})
        answer.raise_for_status()
        return str(answer.json()["now"])

    def now(self) -> str:
        return str(httpx.get(f"{self.base_url}/_mock/clock").json()["now"])


@pytest.fixture
def tunemock_config() -> Config:
    """Override in your conftest to change how the mocks run."""
    return Config(**TEST_SETTINGS)


@pytest.fixture
def tunemock_app(tunemock_config: Config) -> Iterator[MockApp]:
    """A fresh in-process mock per test, with a (sync) client; any x-api-key is a tenant."""
    with in_process(tunemock_config) as mock:
        yield mock


@pytest.fixture(scope="session")
def _tunemock_process() -> Iterator[LiveServer]:
    args = [f"--{k}={v}" for k, v in TEST_SETTINGS.items()]
    server = start_server(*args)
    yield server
    stop_server(server)


@pytest.fixture
def tunemock_server(_tunemock_process: LiveServer) -> LiveServer:
    """A live `tunemock serve` on a free 127.0.0.1 port (one per session), reset before
    each test; `.base_url` is where to point clients."""
    _tunemock_process.reset()
    return _tunemock_process


@pytest.fixture
def tunemock_clock(tunemock_server: LiveServer) -> MockClock:
    """Move the live mock's virtual clock: `tunemock_clock.advance(3600)`."""
    return MockClock(tunemock_server.base_url)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A real receiver on 127.0.0.1: `.url`, `.received`, `.then(500, "hang", ...)` to fail."""
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def segmind_client(tunemock_server: LiveServer) -> Iterator[Any]:
    """The official `segmind.SegmindClient`, every namespace routed to the live mock."""
    with routed_client(tunemock_server.base_url, api_key="tunemock-test") as client:
        yield client
