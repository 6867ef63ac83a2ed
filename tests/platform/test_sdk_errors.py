"""What a user's code sees from the official SDK on the mock's unhappy paths: one request,
no retry, a SegmindError with the status and the body's `error` — or, when the connection
itself breaks, httpx's own exception (the README's table says the same)."""

from __future__ import annotations

import httpx
import pytest
from segmind.exceptions import SegmindError

from mock_server.testing.live import LiveServer
from mock_server.testing.sdk import segmind_client


def _fault(server: LiveServer, action: dict[str, object]) -> None:
    rule = {"match": {"path": "/finetune/request/list"}, "action": action, "count": 1}
    httpx.post(f"{server.base_url}/_mock/faults", json=rule).raise_for_status()


def _calls(server: LiveServer) -> int:
    journal = httpx.get(f"{server.base_url}/_mock/requests", params={"limit": 50}).json()
    return sum(1 for entry in journal if entry["path"] == "/finetune/request/list")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_one_request_and_a_segmind_error(
    live_server: LiveServer, status: int
) -> None:
    httpx.delete(f"{live_server.base_url}/_mock/faults")
    _fault(live_server, {"status": status})
    with segmind_client(live_server.base_url, api_key="sdk-user") as client:
        with pytest.raises(SegmindError) as failed:
            client.finetune.list()
        calls = _calls(live_server)
        assert client.finetune.list() == []  # the rule's count is spent: next call is fine
    assert failed.value.status == status and failed.value.detail
    assert calls == 1  # no retry


@pytest.mark.parametrize("action", [{"drop": True}, {"truncate": True}])
def test_a_broken_connection_reaches_user_code_as_an_httpx_error(
    live_server: LiveServer, action: dict[str, object]
) -> None:
    httpx.delete(f"{live_server.base_url}/_mock/faults")
    _fault(live_server, action)
    with segmind_client(live_server.base_url, api_key="sdk-user") as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.finetune.list()
        calls = _calls(live_server)
    assert calls == 1
