"""Requests are checked against the spec before a handler runs: size, media type, syntax, schema.

The machinery is tested on a tiny purpose-built spec (tiny-spec.yaml, served by the echo app
of tests.validation.echo): JSON bodies, size caps, media types and presence here; oneOf,
forms and parameters in test_request_forms.py; the real contract, with the bodies the segmind
SDK and the vendor docs send, in test_request_sdk.py.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from mock_server.http.validation import RequestRejected, RequestValidator
from mock_server.spec import SpecBundle
from tests.validation.echo import headers_of, only_detail, raw_request

pytestmark = pytest.mark.anyio


# ---------- JSON bodies ----------


async def test_a_valid_json_body_is_parsed(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": "lamp", "size": 3, "ratio": 1.5})
    assert response.status_code == 200
    assert response.json() == {
        "operation": "thing_create",
        "path_params": {},
        "query": {},
        "media_type": "application/json",
        "body": {"name": "lamp", "size": 3, "ratio": 1.5},
    }


async def test_every_schema_error_is_reported_in_path_order(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"size": 11, "ratio": "wide", "name": ""})
    assert response.status_code == 400
    details = response.json()["details"]
    assert [(d["path"], d["rule"]) for d in details] == [
        ("name", "minLength"),
        ("ratio", "type"),
        ("size", "maximum"),
    ]
    # size is a $ref: the pointer names the referenced schema's keyword, in the spec's file
    assert details[2]["pointer"] == "tiny-spec.yaml#/components/schemas/Size/maximum"
    assert details[2]["message"] == "11 is greater than the maximum of 10"
    assert response.json()["message"] == "Invalid request body: name: '' should be non-empty"


async def test_a_missing_field_is_reported_at_its_own_path(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": "lamp"})
    assert response.status_code == 400
    assert only_detail(response) == {
        "path": "size",
        "rule": "required",
        "pointer": "tiny-spec.yaml#/components/schemas/Thing/required",
        "message": "'size' is a required property",
    }


async def test_malformed_json_says_where_it_breaks(client: httpx.AsyncClient) -> None:
    body = b'{\n"name": "lamp" "size": 1}'
    headers = {"content-type": "application/json"}
    response = await client.post("/things", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "message": "Malformed JSON body: Expecting ',' delimiter at line 2, column 16 (char 17)",
        "details": [],
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"name": "lamp", "size": NaN}', "NaN is not a valid JSON value"),
        (b'{"name": "lamp", "size": Infinity}', "Infinity is not a valid JSON value"),
        (b'{"name": "lamp", "size": -Infinity}', "-Infinity is not a valid JSON value"),
        (b'{"name": "lamp", "size": 1e999}', "number 1e999 is out of range"),
        (b'{"name": "l\xffmp", "size": 1}', "invalid UTF-8 at byte 11"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"name": "lamp", "size": ' + b"9" * 5000 + b"}", "digits"),
    ],
    ids=["nan", "infinity", "minus-infinity", "overflow", "utf8", "deep", "huge-int"],
)
async def test_what_is_not_json_is_a_400(
    client: httpx.AsyncClient, body: bytes, reason: str
) -> None:
    headers = {"content-type": "application/json"}
    response = await client.post("/things", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["message"].startswith("Malformed JSON body: ")
    assert reason in response.json()["message"]


async def test_json_too_deep_to_validate_is_a_400(client: httpx.AsyncClient) -> None:
    # Parses (under the decoder's depth limit) but the recursive Tree schema cannot follow it.
    tree = "[" * 600 + "]" * 600
    body = f'{{"name": "lamp", "size": 1, "tree": {tree}}}'
    headers = {"content-type": "application/json"}
    response = await client.post("/things", content=body, headers=headers)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["message"]


# ---------- size ----------


async def test_a_declared_length_over_the_cap_is_413(small: httpx.AsyncClient) -> None:
    body = json.dumps({"name": "x" * 300, "size": 1})
    headers = {"content-type": "application/json"}
    response = await small.post("/things", content=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["message"] == "Request body too large: the limit is 256 bytes"


@pytest.mark.parametrize("length", [str(10**9), "9" * 5000])
async def test_a_declared_length_over_the_cap_is_413_before_reading(
    tiny: SpecBundle, length: str
) -> None:
    validator = RequestValidator(tiny, max_json_bytes=256)
    headers = {"content-type": "application/json", "content-length": length}
    request, calls = raw_request("/things", headers, iter([b"{}"]))
    with pytest.raises(RequestRejected) as caught:
        await validator.validate(request, headers_of(request), tiny.operation("thing_create"), {})
    assert caught.value.status == 413
    assert calls == [0]


async def test_a_streamed_body_is_cut_off_one_chunk_past_the_cap(tiny: SpecBundle) -> None:
    validator = RequestValidator(tiny, max_json_bytes=256)
    endless = itertools.repeat(b" " * 10)
    request, calls = raw_request("/things", {"content-type": "application/json"}, endless)
    with pytest.raises(RequestRejected) as caught:
        await validator.validate(request, headers_of(request), tiny.operation("thing_create"), {})
    assert caught.value.status == 413
    assert calls == [26]  # 26 chunks of 10 bytes are the first to pass 256


async def test_a_chunked_body_over_the_cap_is_413(small: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 10
        yield b'", "size": 1}'

    headers = {"content-type": "application/json"}
    response = await small.post("/things", content=chunks(), headers=headers)
    assert response.status_code == 413


async def test_a_body_under_the_cap_passes(small: httpx.AsyncClient) -> None:
    response = await small.post("/things", json={"name": "x" * 200, "size": 1})
    assert response.status_code == 200
    assert response.json()["body"]["name"] == "x" * 200


@pytest.mark.parametrize("length", ["abc", "-5", "1.5", "+7"])
async def test_a_content_length_that_is_no_integer_is_a_400(tiny: SpecBundle, length: str) -> None:
    validator = RequestValidator(tiny)
    headers = {"content-type": "application/json", "content-length": length}
    request, _ = raw_request("/things", headers, iter([b"{}"]))
    with pytest.raises(RequestRejected) as caught:
        await validator.validate(request, headers_of(request), tiny.operation("thing_create"), {})
    assert (caught.value.status, caught.value.message) == (
        400,
        f"Invalid Content-Length header: {length!r}",
    )


# ---------- media types and presence ----------


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("text/plain", "Unsupported Content-Type text/plain: expected application/json"),
        (
            "application/x-www-form-urlencoded",
            "Unsupported Content-Type application/x-www-form-urlencoded: expected application/json",
        ),
        (None, "No Content-Type: expected application/json"),
    ],
)
async def test_an_undeclared_media_type_is_415(
    client: httpx.AsyncClient, content_type: str | None, message: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/things", content=b'{"name": "a"}', headers=headers)
    assert response.status_code == 415
    assert response.json()["message"] == message


async def test_media_type_parameters_and_case_do_not_matter(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "Application/JSON; charset=UTF-8"}
    body = b'{"name": "lamp", "size": 2}'
    response = await client.post("/things", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json()["media_type"] == "application/json"


async def test_a_required_body_must_be_sent(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == "Request body is required (application/json)"


async def test_an_optional_body_may_be_left_out(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes")
    assert response.status_code == 200
    assert (response.json()["media_type"], response.json()["body"]) == (None, None)


async def test_get_with_a_json_body_is_validated(client: httpx.AsyncClient) -> None:
    response = await client.request("GET", "/things/7?token=t", json={"note": "hi"})
    assert response.status_code == 200
    assert response.json()["body"] == {"note": "hi"}
    assert response.json()["path_params"] == {"thing_id": "7"}
    bad = await client.request("GET", "/things/7?token=t", json={"note": 5})
    assert bad.status_code == 400
    assert only_detail(bad)["path"] == "note"


async def test_a_body_the_operation_does_not_declare_is_ignored(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "text/plain"}
    response = await client.request("GET", "/ping", content=b"not json", headers=headers)
    assert response.status_code == 200
    assert (response.json()["media_type"], response.json()["body"]) == (None, None)
