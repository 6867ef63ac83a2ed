"""Text no answer can carry (an unpaired surrogate, JSON `\\ud800`): refused at the edge with a
400 naming the field, kept out of the store, and escaped where a store already holds it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server import Config, create_app
from mock_server.errors import InvalidInput
from mock_server.store.base import Record, Store
from mock_server.store.memory import MemoryStore
from mock_server.store.sqlite import SqliteStore
from mock_server.testing.bodies import doc_submit_body
from mock_server.texts import escape_unpaired, find_unpaired

LONE = "\\ud800"  # as JSON text carries it: six characters that decode to one lone surrogate


def _raw(body: dict[str, Any], field: str) -> str:
    """`body` as JSON text, the string `field` holds spelled with a lone surrogate escape."""
    marker = "MARKER-0123456789"
    text = json.dumps({**body, field: marker})
    return text.replace(marker, f"a{LONE}b")


# (operation path, body as JSON text, the field the error must name)
CASES = [
    ("/finetune/request/submit", _raw(doc_submit_body("FLUX"), "name"), "name"),
    (
        "/finetune/request/submit",
        _raw(doc_submit_body("FLUX"), "instance_prompt"),
        "instance_prompt",
    ),
    (  # in a key: the message spells the surrogate out, or it could not be sent either
        "/finetune/request/submit",
        json.dumps(doc_submit_body("FLUX")).replace('"name"', f'"n{LONE}"', 1),
        "n\\ud800",
    ),
    (
        "/webhook/add",
        '{"webhook_url": "https://example.com/h", "event": {"types": ["FINETUNE", "x'
        + LONE
        + '"]}}',
        "event.types[1]",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("path", "text", "field"), CASES)
async def test_a_lone_surrogate_anywhere_in_a_body_is_a_400_naming_it(
    mock_client: httpx.AsyncClient, path: str, text: str, field: str
) -> None:
    answer = await mock_client.post(
        path, content=text.encode(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == (
        f"Invalid request body: {field}: holds an unpaired surrogate (\\ud800), "
        "which is not a Unicode character"
    )
    assert body["details"][0]["path"] == field
    assert body["details"][0]["rule"] == "unicode"
    listed = await mock_client.get("/finetune/request/list")
    assert listed.status_code == 200 and listed.json() == []  # nothing was stored
    webhooks = await mock_client.get("/webhook/get")
    assert webhooks.status_code == 200 and "example.com/h" not in webhooks.text


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")
    yield opened
    opened.close()


def test_no_store_keeps_a_doc_it_could_not_answer_with(store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"name: holds an unpaired surrogate \(\\ud800\)"):
        store.insert("finetune", "t", "j1", {"name": "a\ud800b"})
    assert store.get("finetune", "j1", "t") is None
    store.insert("finetune", "t", "j2", {"name": "ok"})
    with pytest.raises(InvalidInput):
        store.update("finetune", "j2", "t", lambda doc: {**doc, "name": "\udfff"})
    record = store.get("finetune", "j2", "t")
    assert record is not None and record.doc == {"name": "ok"}
    with pytest.raises(InvalidInput):
        store.set_meta("m", ["\ud800"])
    assert store.get_meta("m") is None
    store.insert("finetune", "t", "j3", {"name": "\U0001f600 a pair is fine"})
    record = store.get("finetune", "j3", "t")
    assert record is not None and record.doc["name"] == "\U0001f600 a pair is fine"


def test_a_record_stored_before_the_check_reads_back_escaped() -> None:
    text = json.dumps({"name": "a\ud800b", "ok": "\U0001f600", "slash": "\\ud800"})
    assert Record("finetune", "j", "t", text).doc == {
        "name": "a\\ud800b",  # six visible characters where the surrogate was
        "ok": "\U0001f600",
        "slash": "\\ud800",  # a backslash that was text stays text
    }
    assert find_unpaired(json.loads(escape_unpaired(text))) is None


async def _client(app: Any, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://mock.test",
        headers={"x-api-key": key},
    )


@pytest.mark.anyio
async def test_a_state_file_holding_a_lone_surrogate_still_lists_across_restarts(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.db"
    config = Config(clock="virtual", datasets="skip", state=state)
    app = create_app(config)
    async with await _client(app, "tenant-a") as client:
        answer = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        assert answer.status_code == 200, answer.text
        job = str(answer.json()["finetune_id"])
    app.state.runtime.store.close()
    # what a mock before the check let in: the job's name with a lone surrogate
    with sqlite3.connect(state) as conn:
        (text,) = conn.execute("SELECT doc FROM records WHERE id = ?", (job,)).fetchone()
        doc = json.loads(text)
        doc["request"]["name"] = "a\ud800b"
        conn.execute("UPDATE records SET doc = ? WHERE id = ?", (json.dumps(doc), job))

    for _ in range(2):  # a restart changes nothing
        app = create_app(config)
        async with await _client(app, "tenant-a") as client:
            listed = await client.get("/finetune/request/list")
            assert listed.status_code == 200, listed.text
            [item] = listed.json()
            assert item["name"] == "a\\ud800b"
            details = await client.request(
                "GET", "/finetune/request/details", json={"request_id": job}
            )
            assert details.status_code == 200, details.text
            assert '"a\\\\ud800b"' in details.text  # the JSON text of the escaped name
        app.state.runtime.store.close()
