"""Requests are checked against the spec before a handler runs: size, media type, syntax, schema.

The machinery is tested on a tiny purpose-built spec (tiny-spec.yaml); a few tests then drive the
real contract with the bodies the segmind SDK and the vendor docs send.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from segmind import SegmindClient
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message

from mock_server.http.call import first_values
from mock_server.http.validation import RequestRejected, RequestValidator
from mock_server.spec import SpecBundle
from mock_server.spec.loader import load_document

pytestmark = pytest.mark.anyio

TINY = Path(__file__).with_name("tiny-spec.yaml")
FLUX_PRO_ADVANCED = {
    "iterations": 300,
    "captioning": True,
    "priority": "QUALITY",
    "finetune_type": "FULL",
    "lora_rank": 32,
    "learning_rate": 0.005,
}


def _headers(request: Request) -> dict[str, str]:
    return first_values(request.scope["headers"])


@pytest.fixture(scope="module")
def tiny() -> SpecBundle:
    doc = load_document(TINY)
    return SpecBundle({doc.name: doc})


async def _jsonable(value: Any) -> Any:
    if isinstance(value, UploadFile):
        return {"filename": value.filename, "content": (await value.read()).decode()}
    if isinstance(value, list):
        return [await _jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: await _jsonable(v) for k, v in value.items()}
    return value


def echo_app(bundle: SpecBundle, validator: RequestValidator) -> Starlette:
    """Routes every request to its operation and answers what `validate()` made of it."""

    async def endpoint(request: Request) -> JSONResponse:
        found = bundle.match(request.method, request.url.path)
        assert found is not None, request.url.path
        operation, path_params = found
        headers = first_values(request.scope["headers"])
        valid = None
        try:
            valid = await validator.validate(request, headers, operation, path_params)
            return JSONResponse(
                {
                    "operation": valid.operation.operation_id,
                    "path_params": dict(valid.path_params),
                    "query": dict(valid.query),
                    "media_type": valid.media_type,
                    "body": await _jsonable(valid.body),
                }
            )
        except RequestRejected as exc:
            body = {"message": exc.message, "details": exc.details}
            return JSONResponse(body, status_code=exc.status)
        finally:
            if valid is not None:
                await valid.close()

    methods = ["GET", "POST", "PUT"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


@asynccontextmanager
async def serving(bundle: SpecBundle, **caps: int) -> AsyncIterator[httpx.AsyncClient]:
    app = echo_app(bundle, RequestValidator(bundle, **caps))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        yield client


@pytest.fixture
async def client(tiny: SpecBundle) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(tiny) as client:
        yield client


@pytest.fixture
async def small(tiny: SpecBundle) -> AsyncIterator[httpx.AsyncClient]:
    """The tiny spec with body caps of 256 bytes (JSON) and 512 bytes (forms)."""
    async with serving(tiny, max_json_bytes=256, max_form_bytes=512) as client:
        yield client


@pytest.fixture
async def real(bundle: SpecBundle) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(bundle) as client:
        yield client


def raw_request(
    path: str, headers: dict[str, str], chunks: Iterator[bytes], method: str = "POST"
) -> tuple[Request, list[int]]:
    """A Request outside any app whose body arrives in `chunks`; counts `receive` calls."""
    calls = [0]

    async def receive() -> Message:
        calls[0] += 1
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope, receive), calls


def only_detail(response: httpx.Response) -> dict[str, Any]:
    details = response.json()["details"]
    assert len(details) == 1, details
    return dict(details[0])


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
        await validator.validate(request, _headers(request), tiny.operation("thing_create"), {})
    assert caught.value.status == 413
    assert calls == [0]


async def test_a_streamed_body_is_cut_off_one_chunk_past_the_cap(tiny: SpecBundle) -> None:
    validator = RequestValidator(tiny, max_json_bytes=256)
    endless = itertools.repeat(b" " * 10)
    request, calls = raw_request("/things", {"content-type": "application/json"}, endless)
    with pytest.raises(RequestRejected) as caught:
        await validator.validate(request, _headers(request), tiny.operation("thing_create"), {})
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
        await validator.validate(request, _headers(request), tiny.operation("thing_create"), {})
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


# ---------- discriminated oneOf ----------


@pytest.mark.parametrize(
    ("pet", "path", "rule", "pointer"),
    [
        ({"kind": "cat", "lives": 12}, "lives", "maximum", "Cat/properties/lives/maximum"),
        ({"kind": "dog", "good": "very"}, "good", "type", "Dog/properties/good/type"),
        ({"kind": "cat"}, "lives", "required", "Cat/required"),
    ],
)
async def test_the_discriminator_picks_the_branch_that_reports(
    client: httpx.AsyncClient, pet: dict[str, Any], path: str, rule: str, pointer: str
) -> None:
    response = await client.post("/pets", json=pet)
    assert response.status_code == 400
    detail = only_detail(response)
    assert (detail["path"], detail["rule"]) == (path, rule)
    assert detail["pointer"] == f"tiny-spec.yaml#/components/schemas/{pointer}"


async def test_a_matching_branch_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/pets", json={"kind": "dog", "good": True})
    assert response.status_code == 200


async def test_an_unknown_discriminator_lists_the_mapping(
    client: httpx.AsyncClient, tiny: SpecBundle
) -> None:
    mapping = tiny.documents["tiny-spec"].resolve("#/components/schemas/Pet/discriminator/mapping")
    response = await client.post("/pets", json={"kind": "cow"})
    assert response.status_code == 400
    assert only_detail(response) == {
        "path": "kind",
        "rule": "enum",
        "pointer": "tiny-spec.yaml#/components/schemas/Pet/discriminator/mapping",
        "message": f"'cow' is not one of {list(mapping)!r}",
    }


async def test_a_missing_discriminator_lists_the_mapping(client: httpx.AsyncClient) -> None:
    response = await client.post("/pets", json={"lives": 3})
    assert response.status_code == 400
    detail = only_detail(response)
    assert detail == {
        "path": "kind",
        "rule": "required",
        "pointer": "tiny-spec.yaml#/components/schemas/Pet/discriminator/propertyName",
        "message": "'kind' is a required property (one of cat, dog)",
    }


# ---------- forms ----------

FORM = {"title": "T", "count": "3", "public": "TRUE", "ratio": "2.5", "visibility": "True"}


async def test_an_urlencoded_form_is_coerced_to_its_schema(client: httpx.AsyncClient) -> None:
    response = await client.put("/uploads", data={**FORM, "labels": ["a", "b"], "extra": "x"})
    assert response.status_code == 200
    assert response.json()["media_type"] == "application/x-www-form-urlencoded"
    assert response.json()["body"] == {
        "title": "T",
        "count": 3,
        "public": True,
        "ratio": 2.5,
        "visibility": "True",  # a string property stays a string, even when it reads as one
        "labels": ["a", "b"],
        "extra": "x",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", "three", "'three' is not of type 'integer'"),
        ("count", "0", "0 is less than the minimum of 1"),
        ("public", "yes", "'yes' is not of type 'boolean'"),
        ("ratio", "nan", "'nan' is not of type 'number'"),
        ("visibility", "true", "'true' is not one of ['True', 'False']"),
    ],
)
async def test_form_values_that_do_not_fit_are_reported(
    client: httpx.AsyncClient, field: str, value: str, message: str
) -> None:
    response = await client.put("/uploads", data={**FORM, field: value})
    assert response.status_code == 400
    detail = only_detail(response)
    assert (detail["path"], detail["message"]) == (field, message)


async def test_a_multipart_form_carries_files_and_coerced_fields(client: httpx.AsyncClient) -> None:
    files = [
        ("photos", ("a.jpg", b"AAA", "image/jpeg")),
        ("photos", ("b.jpg", b"BB", "image/jpeg")),
    ]
    response = await client.put("/uploads", data={"title": "T", "count": "2"}, files=files)
    assert response.status_code == 200
    assert response.json()["media_type"] == "multipart/form-data"
    assert response.json()["body"] == {
        "title": "T",
        "count": 2,
        "photos": [
            {"filename": "a.jpg", "content": "AAA"},
            {"filename": "b.jpg", "content": "BB"},
        ],
    }


async def test_a_file_in_a_text_field_is_reported(client: httpx.AsyncClient) -> None:
    files = {"title": ("title.txt", b"T", "text/plain")}
    response = await client.put("/uploads", data={"count": "2"}, files=files)
    assert response.status_code == 400
    detail = only_detail(response)
    assert (detail["path"], detail["rule"]) == ("title", "type")


async def test_a_form_over_the_cap_is_413(small: httpx.AsyncClient) -> None:
    files = {"photos": ("a.jpg", b"A" * 600, "image/jpeg")}
    response = await small.put("/uploads", data={"title": "T", "count": "1"}, files=files)
    assert response.status_code == 413
    assert response.json()["message"] == "Request body too large: the limit is 512 bytes"


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/form-data", b"--x\r\n\r\n", "Missing boundary in multipart."),
        (
            "multipart/form-data; boundary=xyz",
            b"--xyz\r\ntitle",
            "the multipart body is not closed",
        ),
    ],
)
async def test_malformed_multipart_is_a_400(
    client: httpx.AsyncClient, content_type: str, body: bytes, message: str
) -> None:
    headers = {"content-type": content_type}
    response = await client.put("/uploads", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"message": f"Malformed form body: {message}", "details": []}


async def test_malformed_multipart_outside_an_app_is_a_400(tiny: SpecBundle) -> None:
    # Outside an app Starlette raises its MultiPartException instead of an HTTPException.
    validator = RequestValidator(tiny)
    headers = {"content-type": "multipart/form-data; boundary=xyz"}
    body = b"--xyz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xyz--\r\n"
    request, _ = raw_request("/uploads", headers, iter([body]), method="PUT")
    with pytest.raises(RequestRejected) as caught:
        await validator.validate(request, _headers(request), tiny.operation("upload"), {})
    assert caught.value.status == 400
    assert caught.value.message.startswith("Malformed form body: ")


# ---------- parameters ----------


async def test_query_parameters_are_coerced(client: httpx.AsyncClient) -> None:
    url = "/things/7?token=t&limit=5&verbose=TRUE&tag=a&tag=b&unknown=1"
    response = await client.request("GET", url, json={"note": "n"})
    assert response.status_code == 200
    assert response.json()["query"] == {
        "token": "t",
        "limit": 5,
        "verbose": True,
        "tag": ["a", "b"],
    }


LOOKUP = "#/paths/~1things~1{thing_id}/get/parameters"


@pytest.mark.parametrize(
    ("url", "message", "pointer"),
    [
        ("/things/7", "Missing required query parameter token", f"{LOOKUP}/1/required"),
        (
            "/things/7?token=",
            "Invalid query parameter token: '' should be non-empty",
            f"{LOOKUP}/1/schema/minLength",
        ),
        (
            "/things/7?token=t&limit=ten",
            "Invalid query parameter limit: 'ten' is not of type 'integer'",
            f"{LOOKUP}/2/schema/type",
        ),
        (
            "/things/7?token=t&limit=99",
            "Invalid query parameter limit: 99 is greater than the maximum of 50",
            f"{LOOKUP}/2/schema/maximum",
        ),
        (
            "/things/0?token=t",
            "Invalid path parameter thing_id: 0 is less than the minimum of 1",
            "#/components/parameters/ThingId/schema/minimum",
        ),
    ],
)
async def test_bad_parameters_are_a_400(
    client: httpx.AsyncClient, url: str, message: str, pointer: str
) -> None:
    response = await client.request("GET", url, json={"note": "n"})
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert only_detail(response)["pointer"] == f"tiny-spec.yaml{pointer}"


async def test_a_value_once_valid_is_still_checked_against_others(
    client: httpx.AsyncClient,
) -> None:
    # polls repeat one id: a value found valid never lets another value through, nor turns
    # a value that failed into one that passes
    for _ in range(2):
        assert (
            await client.request("GET", "/things/7?token=t", json={"note": "n"})
        ).status_code == 200
        bad = await client.request("GET", "/things/0?token=t", json={"note": "n"})
        assert bad.status_code == 400
        assert only_detail(bad)["rule"] == "minimum"
    again = await client.request("GET", "/things/7?token=t&limit=5", json={"note": "n"})
    assert again.json()["path_params"] == {"thing_id": "7"}
    assert again.json()["query"] == {"token": "t", "limit": 5}


# ---------- the real contract ----------


def sdk_request(call: Callable[[SegmindClient], object]) -> httpx.Request:
    """The request the segmind SDK sends for `call`, captured instead of sent."""
    sent: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    sdk = SegmindClient(api_key="test-key")
    sdk._client = httpx.Client(transport=httpx.MockTransport(capture), base_url=sdk.base_url)
    call(sdk)
    (request,) = sent
    return request


async def replay(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    headers = {"content-type": request.headers["content-type"]}
    return await client.request(
        request.method, request.url.path, content=request.content, headers=headers
    )


def sdk_submit_flux_pro(**advance_parameters: Any) -> httpx.Request:
    return sdk_request(
        lambda sdk: sdk.finetune.submit(
            name="fluxprotest",
            data_source_path="https://example.com/dataset.zip",
            instance_prompt="1MAN, running in brown suit",
            trigger_word="1MAN",
            base_model="FLUX_PRO",
            train_type="LORA",
            machine_type="NVIDIA_H100",
            theme="GENERAL",
            advance_parameters={**FLUX_PRO_ADVANCED, **advance_parameters},
        )
    )


async def test_the_sdk_flux_pro_submit_validates(real: httpx.AsyncClient) -> None:
    response = await replay(real, sdk_submit_flux_pro())
    assert response.status_code == 200
    assert response.json()["operation"] == "finetune_submit"
    assert response.json()["body"]["advance_parameters"] == FLUX_PRO_ADVANCED


async def test_flux_pro_iterations_below_the_minimum_is_a_400(real: httpx.AsyncClient) -> None:
    response = await replay(real, sdk_submit_flux_pro(iterations=50))
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Invalid request body: advance_parameters.iterations: 50 is less than the minimum of 100"
    )
    detail = only_detail(response)
    assert (detail["path"], detail["rule"]) == ("advance_parameters.iterations", "minimum")
    assert detail["pointer"] == (
        "segmind-finetune.yaml#/components/schemas/FluxProAdvanceParameters"
        "/properties/iterations/minimum"
    )


async def test_the_docs_verbatim_submit_body_is_malformed_json(
    real: httpx.AsyncClient, bundle: SpecBundle
) -> None:
    media = bundle.operation("finetune_submit").raw["requestBody"]["content"]["application/json"]
    verbatim = media["examples"]["doc_verbatim_flux_pro"]["value"]
    headers = {"content-type": "application/json"}
    response = await real.post("/finetune/request/submit", content=verbatim, headers=headers)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("Malformed JSON body: ")
    assert "line 3" in message and "column" in message


async def test_the_sdk_details_get_with_a_json_body_validates(real: httpx.AsyncClient) -> None:
    response = await replay(real, sdk_request(lambda sdk: sdk.finetune.details("FINETUNE_ID")))
    assert response.status_code == 200
    assert response.json()["body"] == {"request_id": "FINETUNE_ID"}


async def test_the_sdk_access_update_form_validates(real: httpx.AsyncClient) -> None:
    request = sdk_request(lambda sdk: sdk.finetune.access_update("FINETUNE_REQUEST_ID", True))
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    response = await replay(real, request)
    assert response.status_code == 200
    assert response.json()["body"] == {
        "request_id": "FINETUNE_REQUEST_ID",
        "segmind_public": "True",
    }


async def test_access_update_with_a_non_python_boolean_is_a_400(real: httpx.AsyncClient) -> None:
    form = {"request_id": "FINETUNE_REQUEST_ID", "segmind_public": "yes"}
    response = await real.put("/finetune/request/access-update", data=form)
    assert response.status_code == 400
    detail = only_detail(response)
    assert (detail["path"], detail["rule"]) == ("segmind_public", "enum")
    assert detail["pointer"].startswith("segmind-finetune.yaml#/components/schemas/")


async def test_the_lora_trainer_takes_image_files(real: httpx.AsyncClient) -> None:
    files = [("image_files", (f"{i}.jpg", b"JPEG", "image/jpeg")) for i in range(2)]
    data = {"option": "FluxFinetune", "num_iterations": "300"}
    response = await real.post("/lora-trainer/finetune", data=data, files=files)
    assert response.status_code == 200
    body = response.json()["body"]
    assert body["num_iterations"] == 300
    assert [f["filename"] for f in body["image_files"]] == ["0.jpg", "1.jpg"]


async def test_a_query_parameter_declared_by_ref_is_required(real: httpx.AsyncClient) -> None:
    response = await real.get("/webhook/inactive")
    assert response.status_code == 400
    assert response.json()["message"] == "Missing required query parameter webhook_id"
    assert only_detail(response)["pointer"] == (
        "segmind-platform.yaml#/components/parameters/WebhookIdQuery/required"
    )
