"""The proxy's own edges: an upstream that does not answer, its admin routes, and the
command's refusals (itself as upstream, a non-loopback bind, an unknown spec)."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.cli import main
from mock_server.testing.live import free_port
from tests.proxy.helpers import running_proxy, serve_app


def test_an_upstream_that_does_not_answer_is_a_502_journaled_and_recorded(
    tmp_path: Path,
) -> None:
    record = tmp_path / "r.jsonl"
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with running_proxy(dead, record=record) as proxy:
        answer = httpx.get(f"{proxy.url}/finetune/request/list", headers={"x-api-key": "k-123456"})
        assert answer.status_code == 502
        assert "did not answer" in answer.json()["error"]
        (entry,) = httpx.get(f"{proxy.url}/_mock/requests").json()
        assert entry["status"] == 502 and entry["operation"] == "finetune_list"
        assert entry["flagged"] is False  # the upstream's silence is no contract violation
    (line,) = record.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["response"]["status"] == 502
    assert "k-123456" not in line


def test_admin_routes_check_their_input_and_clear() -> None:
    with running_proxy(f"http://127.0.0.1:{free_port()}") as proxy:
        bad = httpx.get(f"{proxy.url}/_mock/violations?limit=abc")
        assert bad.status_code == 400 and "limit" in bad.json()["error"]
        assert httpx.get(f"{proxy.url}/_mock/requests?limit=0").status_code == 400
        unknown = httpx.post(f"{proxy.url}/_mock/clock/advance", json={"seconds": 1})
        assert unknown.status_code == 404 and "not a route of the proxy" in unknown.json()["error"]
        httpx.get(f"{proxy.url}/finetune/request/list", headers={"x-api-key": "k"})
        assert len(httpx.get(f"{proxy.url}/_mock/requests").json()) == 1
        assert httpx.delete(f"{proxy.url}/_mock/violations").status_code == 204
        assert httpx.get(f"{proxy.url}/_mock/requests").json() == []
        health = httpx.get(f"{proxy.url}/_mock/health").json()
        assert health["status"] == "ok"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "http://127.0.0.1:8100"], "is this proxy itself"),
        (["--upstream", "http://localhost:8100"], "is this proxy itself"),
        (["--upstream", "https://api.segmind.com/v1"], "origin only"),
        (["--upstream", "ftp://x"], "not an http(s) URL"),
        (["--upstream", "http://x", "--host", "0.0.0.0"], "loopback address only"),
        (["--upstream", "http://x", "--spec", "nope"], "unknown spec nope"),
    ],
)
def test_the_command_refuses_what_it_cannot_serve(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["proxy", "--port", "8100", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def _mislabelled(request: Request) -> Response:
    # says gzip, is not: a broken answer the proxy must pass on as it came
    return Response(b"[]", headers={"content-type": "application/json", "content-encoding": "gzip"})


def test_a_body_that_does_not_decode_is_reported_and_passed_on_as_it_came() -> None:
    upstream_app = Starlette(routes=[Route("/finetune/request/list", _mislabelled)])
    with serve_app(upstream_app) as upstream, running_proxy(upstream) as proxy:
        with httpx.stream(
            "GET", f"{proxy.url}/finetune/request/list", headers={"x-api-key": "k"}
        ) as answer:
            assert answer.status_code == 200
            assert answer.headers["content-encoding"] == "gzip"
            assert b"".join(answer.iter_raw()) == b"[]"
        (found,) = httpx.get(f"{proxy.url}/_mock/violations").json()
        assert found["check"] == "content_encoding" and found["operation"] == "finetune_list"
        assert "does not decode as gzip" in found["received"]


def _breaks_off(listener: socket.socket) -> None:
    """Answer one request with headers that promise 100 bytes, send 3, and hang up."""
    connection, _ = listener.accept()
    with connection:
        connection.recv(65536)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[1,"
        )


def test_an_upstream_that_breaks_off_its_body_is_a_502_not_a_500() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    thread = threading.Thread(target=_breaks_off, args=(listener,), daemon=True)
    thread.start()
    upstream = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with running_proxy(upstream) as proxy:
            answer = httpx.get(f"{proxy.url}/finetune/request/list", headers={"x-api-key": "k"})
            assert answer.status_code == 502
            assert "in its body" in answer.json()["error"]
            (entry,) = httpx.get(f"{proxy.url}/_mock/requests").json()
            assert entry["status"] == 502
    finally:
        thread.join(timeout=10)
        listener.close()


def test_the_webhook_receiver_bounds_what_it_reads_and_says_when_the_app_is_away() -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # neither upstream nor app listens there
    with running_proxy(dead, webhook_forward=f"{dead}/hooks") as proxy:
        hooks = f"{proxy.url}/_mock/hooks"
        too_large = httpx.post(hooks, content=b"x" * (1024 * 1024 + 1))
        assert too_large.status_code == 413 and "delivery over" in too_large.json()["error"]
        away = httpx.post(hooks, json={"event": "AVAILABLE"})
        # the upstream hears that the app did not take it (and retries, as it would)
        assert away.status_code == 502
        assert away.json()["error"].endswith("connection error: could not connect")
        (entry,) = httpx.get(f"{proxy.url}/_mock/requests").json()
        assert entry["webhook"] == "AVAILABLE" and entry["status"] == 502 and entry["flagged"]
    with running_proxy(dead) as plain:  # no --webhook-forward: no receiver
        assert httpx.post(f"{plain.url}/_mock/hooks", json={}).status_code == 404


def test_the_proxy_does_not_forward_webhooks_to_itself() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    own = f"http://127.0.0.1:{sock.getsockname()[1]}"  # the proxy's own address as the app's
    upstream = f"http://127.0.0.1:{free_port()}"
    with running_proxy(upstream, webhook_forward=f"{own}/x", sock=sock) as proxy:
        looped = httpx.post(f"{proxy.url}/_mock/hooks", json={"event": "AVAILABLE"})
    assert looped.status_code == 502
    assert looped.json()["error"].endswith("target not allowed: the proxy's own address")
