"""Keys leave no usable trace: the request journal masks them as it captures an exchange
(headers, bodies, a key in the path, the tenant field), so the `--state` file holds none;
the dashboard's pages show keys masked and name tenants by an opaque handle."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.http.capture import Exchange, JournalEntry
from mock_server.tenancy import mask_secret
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio

KEY = "sk-live-0123456789abcdefFULLKEY"
OTHER = "sk-other-tenant-9876543210ZZZ"


def _state_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())


async def test_the_state_file_holds_no_full_api_key(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with running_app(key=KEY, state=state, clock="virtual", datasets="skip") as client:
        assert (await client.get("/finetune/request/list")).status_code == 200
        # a key in a body, in a header other than x-api-key, and in an admin path
        await client.request(
            "GET",
            "/finetune/request/details",
            json={"request_id": "nope", "api_key": OTHER},
            headers={"authorization": f"Bearer {OTHER}"},
        )
        assert (await client.get(f"/_mock/credits/{OTHER}")).status_code == 200
        journal = (await client.get("/_mock/requests", params={"limit": 10})).json()
        assert journal[0]["path"] == f"/_mock/credits/{mask_secret(OTHER)}"
        details = journal[1]
        assert details["tenant"].startswith(mask_secret(KEY) + "~")  # the tenant's id
        assert OTHER not in details["request"]["body"]
        assert ("authorization", mask_secret(f"Bearer {OTHER}")) in [
            tuple(h) for h in details["request"]["headers"]
        ]
    data = _state_bytes(tmp_path)
    assert b"journal" in data or data  # the file was written
    for secret in (KEY, OTHER):
        assert secret.encode() not in data, f"{secret} is in the --state file"


async def test_an_exchange_is_masked_as_it_is_captured() -> None:
    """What any store (memory or SQLite) is handed holds no key: masked before it is kept."""
    body = b'{"name": "x", "api_key": "' + OTHER.encode() + b'"}'
    scope = {
        "type": "http",
        "headers": [(b"x-api-key", KEY.encode()), (b"cookie", b"a=" + KEY.encode())],
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    exchange = Exchange(scope, receive, send)
    await exchange.receive()
    json_type = [(b"content-type", b"application/json")]
    await exchange.send({"type": "http.response.start", "status": 200, "headers": json_type})
    await exchange.send({"type": "http.response.body", "body": body})
    entry = JournalEntry(("tenant",), (mask_secret(KEY),), exchange)
    raw = repr(entry.packed())
    for secret in (KEY, OTHER):
        assert secret not in raw
    assert mask_secret(KEY) in raw  # the tenant
    read = dict(entry)  # read back (as /_mock/requests shows it), the masks are readable
    assert ("x-api-key", mask_secret(KEY)) in read["request"]["headers"]
    assert mask_secret(OTHER) in read["response"]["body"]


@pytest.mark.parametrize(
    ("key", "shown"),
    [("a", "…"), ("abc", "…"), ("k3y-1234", "k3…"), ("0123456789abcde", "012…")],
)
async def test_a_short_key_shows_at_most_a_quarter_of_itself(key: str, shown: str) -> None:
    """A 1-character key was journaled whole (its mask kept its first character)."""
    async with running_app(key=key, clock="virtual", datasets="skip") as client:
        assert (await client.get("/finetune/request/list")).status_code == 200
        (entry,) = (await client.get("/_mock/requests", params={"limit": 1})).json()
    assert dict(entry["request"]["headers"])["x-api-key"] == shown
    assert entry["tenant"].startswith(shown + "~")
    assert mask_secret(shown) == shown  # masking a mask changes nothing


PAGES = ["/", "/jobs", "/requests", "/webhooks", "/faults"]


async def test_dashboard_pages_carry_no_full_key() -> None:
    from tests.finetune.helpers import doc_submit_body

    async with running_app(key=KEY, clock="virtual", datasets="skip") as client:
        assert (
            await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        ).is_success
        await client.post(
            "/webhook/add",
            json={"webhook_url": "http://127.0.0.1:9/hook", "event_types": ["TRAINING_COMPLETED"]},
        )
        await client.put(f"/_mock/credits/{OTHER}", json={"credits": 5})
        fault = {"match": {"api_key": KEY, "path": "/nothing/*"}, "action": {"status": 503}}
        assert (await client.post("/_mock/faults", json=fault)).status_code == 201
        jobs = (await client.get("/_mock/jobs")).json()
        pages = [*PAGES, f"/jobs/finetune/{jobs[0]['id']}", "/jobs?tenant=" + KEY]
        texts = {}
        for page in pages:
            for fragment in ("", "1"):
                answer = await client.get(f"/_mock/ui{page}", params={"fragment": fragment})
                assert answer.status_code == 200, page
                texts[f"{page}?fragment={fragment}"] = answer.text
        for name, text in texts.items():
            for secret in (KEY, OTHER):
                assert secret not in text, f"{secret} on {name}"
        assert mask_secret(KEY) in texts["/faults?fragment="]
        # the filter names the tenant by handle, and the handle filters
        handle = next(
            part.split('"')[1]
            for part in texts["/jobs?fragment="].split("<option value=")[1:]
            if part.startswith('"t-')
        )
        chosen = await client.get("/_mock/ui/jobs", params={"tenant": handle})
        assert jobs[0]["id"] in chosen.text
        # and sets its credits through the admin API, by handle
        done = await client.put(f"/_mock/tenants/{handle}/credits", json={"credits": 7})
        assert done.status_code == 200 and done.json()["credits"] == 7
        assert KEY not in done.text and OTHER not in done.text
        assert (await client.get(f"/_mock/credits/{KEY}")).json()["credits"] == 7 or (
            await client.get(f"/_mock/credits/{OTHER}")
        ).json()["credits"] == 7
        missing = await client.put("/_mock/tenants/t-nobody/credits", json={"credits": 1})
        assert missing.status_code == 404
