"""The pieces the one-pass edge is made of: the spec matcher's fixed-path index, the
answer cache, and the journal entry that formats itself only when read."""

from __future__ import annotations

import json

import pytest
from starlette.responses import Response

from mock_server.http import capture
from mock_server.http.capture import Exchange, JournalEntry
from mock_server.http.render import AnswerCache
from mock_server.spec import SpecBundle


def test_match_finds_fixed_and_templated_paths_by_method(bundle: SpecBundle) -> None:
    details = bundle.match("GET", "/finetune/request/details")
    assert details is not None and details[0].operation_id == "finetune_details"
    assert details[1] == {}
    assert bundle.match("get", "/finetune/request/details") == details  # method, any case
    assert bundle.match("POST", "/finetune/request/details") is None  # the path, not the verb
    status = bundle.match("GET", "/v2/requests/r-1/status")
    assert status is not None and status[0].operation_id == "inference_v2_status"
    assert status[1] == {"request_id": "r-1"}
    assert bundle.match("GET", "/finetune/request/details\n") is None
    assert bundle.match("GET", "/v2/requests/a/b/status") is None  # a parameter holds no "/"


def test_answer_cache_resends_while_made_of_the_same_objects() -> None:
    cache = AnswerCache(size=2)
    job, state, other_state = object(), object(), object()
    renders: list[int] = []

    def render(n: int) -> dict[str, int]:
        renders.append(n)
        return {"n": n}

    first = cache.answer("k", (job, state), lambda: render(1))
    assert cache.answer("k", (job, state), lambda: render(2)) is first
    moved = cache.answer("k", (job, other_state), lambda: render(3))
    assert json.loads(bytes(moved.body)) == {"n": 3} and renders == [1, 3]
    cache.answer("a", (job,), lambda: render(4))
    cache.answer("b", (job,), lambda: render(5))  # full: emptied, then kept
    assert cache.answer("k", (job, other_state), lambda: render(6)) is not moved
    assert renders == [1, 3, 4, 5, 6]


@pytest.mark.anyio
async def test_a_journal_entry_is_formatted_when_first_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scope = {
        "type": "http",
        "headers": [(b"x-api-key", b"secret-key-123"), (b"content-type", b"application/json")],
    }
    messages = [{"type": "http.request", "body": b'{"password": "hunter22"}', "more_body": False}]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop()

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    exchange = Exchange(scope, receive, send)
    await exchange.receive()
    answer = Response(b'{"ok": true}', media_type="application/json")
    await answer(scope, exchange.receive, exchange.send)
    assert exchange.answered and exchange.status == 200 and len(sent) == 2

    formatted: list[int] = []
    side = capture._side
    monkeypatch.setattr(capture, "_side", lambda *a: formatted.append(1) or side(*a))
    entry = JournalEntry(("method", "status"), ("POST", 200), exchange)
    assert formatted == []  # nothing masked or decoded yet
    assert entry["method"] == "POST" and entry["status"] == 200
    assert formatted == [1, 1]  # request and response, once
    assert list(entry)[:2] == ["method", "status"] and "at" in entry
    request = entry["request"]
    assert ("x-api-key", "sec…") in request["headers"]  # masked: a quarter of a short key
    assert "hunter22" not in request["body"] and '"password"' in request["body"]
    assert entry["response"]["body"] == '{"ok": true}'
    assert entry["response"]["headers"][0][0] == "content-length"
    assert formatted == [1, 1]
