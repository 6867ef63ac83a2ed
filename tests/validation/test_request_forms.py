"""Request validation of discriminated oneOf bodies, multipart and urlencoded forms, and path
and query parameters, on the tiny spec (tiny-spec.yaml)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server.http.validation import RequestRejected, RequestValidator
from mock_server.spec import SpecBundle
from tests.validation.echo import headers_of, only_detail, raw_request

pytestmark = pytest.mark.anyio


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
        await validator.validate(request, headers_of(request), tiny.operation("upload"), {})
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
