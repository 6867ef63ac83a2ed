"""Bad input of every class gets the right status and a vendor error body, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.finetune.helpers import doc_submit_body, doc_verbatim_body

pytestmark = pytest.mark.anyio

SUBMIT = "/finetune/request/submit"


def _with(model: str, **changes: Any) -> dict[str, Any]:
    body = doc_submit_body(model)
    for dotted, value in changes.items():
        target = body
        *parents, leaf = dotted.split("__")
        for parent in parents:
            target = target.setdefault(parent, {})
        if value is ...:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return body


# (id, method, path, request kwargs, status, a phrase the error must contain, detail path)
CASES: list[tuple[str, str, str, dict[str, Any], int, str, str | None]] = [
    (
        "docs-verbatim-body",
        "POST",
        SUBMIT,
        {"content": doc_verbatim_body("flux_pro"), "headers": {"content-type": "application/json"}},
        400,
        "line",
        None,
    ),
    (
        "empty-body",
        "POST",
        SUBMIT,
        {"headers": {"content-type": "application/json"}},
        400,
        "required",
        None,
    ),
    ("json-array", "POST", SUBMIT, {"json": []}, 400, "", None),
    ("wrong-type", "POST", SUBMIT, {"json": _with("FLUX", name=5)}, 400, "name", "name"),
    (
        "unknown-model",
        "POST",
        SUBMIT,
        {"json": _with("FLUX", base_model="SDXL")},
        400,
        "FLUX_PRO",
        "base_model",
    ),
    (
        "missing-model",
        "POST",
        SUBMIT,
        {"json": _with("FLUX", base_model=...)},
        400,
        "base_model",
        "base_model",
    ),
    (
        "unknown-enum",
        "POST",
        SUBMIT,
        {"json": _with("FLUX_PRO", theme="ANIME")},
        400,
        "theme",
        "theme",
    ),
    (
        "below-minimum",
        "POST",
        SUBMIT,
        {"json": _with("FLUX_PRO", advance_parameters__iterations=50)},
        400,
        "100",
        "advance_parameters.iterations",
    ),
    (
        "negative-rate",
        "POST",
        SUBMIT,
        {"json": _with("QWEN", advance_parameters__learning_rate=-1)},
        400,
        "learning_rate",
        "advance_parameters.learning_rate",
    ),
    (
        "missing-required",
        "POST",
        SUBMIT,
        {"json": _with("QWEN", data_source_path=...)},
        400,
        "data_source_path",
        None,
    ),
    (
        "nan",
        "POST",
        SUBMIT,
        {
            "content": json.dumps(_with("FLUX")).replace('"steps": 300', '"steps": NaN'),
            "headers": {"content-type": "application/json"},
        },
        400,
        "",
        None,
    ),
    ("form-where-json", "POST", SUBMIT, {"data": {"name": "x"}}, 415, "application/json", None),
    (
        "text-plain",
        "POST",
        SUBMIT,
        {"content": b"hello", "headers": {"content-type": "text/plain"}},
        415,
        "",
        None,
    ),
    (
        "json-where-form",
        "PUT",
        "/finetune/request/access-update",
        {"json": {"request_id": "x", "segmind_public": "True"}},
        415,
        "form",
        None,
    ),
    (
        "bool-not-string",
        "PUT",
        "/finetune/request/access-update",
        {"data": {"request_id": "x", "segmind_public": "yes"}},
        400,
        "segmind_public",
        "segmind_public",
    ),
    ("details-no-body", "GET", "/finetune/request/details", {}, 400, "required", None),
    (
        "details-unknown-id",
        "GET",
        "/finetune/request/details",
        {"json": {"request_id": "00000000-0000-0000-0000-000000000000"}},
        404,
        "not found",
        None,
    ),
    (
        "download-unknown-url",
        "GET",
        "/finetune/request/file/download",
        {"data": {"cloud_storage_url": "https://x.test/model.safetensors"}},
        404,
        "",
        None,
    ),
    (
        "huge-body",
        "POST",
        SUBMIT,
        {
            "content": b'{"name": "' + b"x" * (11 * 1024 * 1024) + b'"}',
            "headers": {"content-type": "application/json"},
        },
        413,
        "",
        None,
    ),
    (
        "invalid-utf8",
        "POST",
        SUBMIT,
        {"content": b'{"name": "\xff\xfe"}', "headers": {"content-type": "application/json"}},
        400,
        "",
        None,
    ),
    (
        "deep-nesting",
        "POST",
        SUBMIT,
        {
            "content": b"[" * 100_000 + b"]" * 100_000,
            "headers": {"content-type": "application/json"},
        },
        400,
        "",
        None,
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "phrase", "detail_path"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
async def test_bad_input_is_refused_clearly_and_changes_nothing(
    any_client: httpx.AsyncClient,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    phrase: str,
    detail_path: str | None,
) -> None:
    before = (await any_client.get("/finetune/request/list")).json()
    response = await any_client.request(method, path, **kwargs)
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert phrase.lower() in body["error"].lower()
    if detail_path is not None:
        paths = [d["path"] for d in body["details"]]
        assert detail_path in paths, paths
        assert all(d["pointer"].startswith("segmind-finetune.yaml#") for d in body["details"])
    assert (await any_client.get("/finetune/request/list")).json() == before
    assert (await any_client.get("/_mock/health")).status_code == 200


async def test_missing_key_is_401_in_the_vendor_format(any_client: httpx.AsyncClient) -> None:
    response = await any_client.post(
        SUBMIT, json=doc_submit_body("FLUX"), headers={"x-api-key": ""}
    )
    assert response.status_code == 401
    assert "x-api-key" in response.json()["error"]
    assert (await any_client.get("/finetune/request/list")).json() == []


async def test_configured_keys_refuse_unknown_ones(make_client) -> None:
    async with make_client(api_keys=("good",)) as client:
        bad = await client.get("/finetune/request/list", headers={"x-api-key": "bad"})
        good = await client.get("/finetune/request/list", headers={"x-api-key": "good"})
    assert bad.status_code == 401 and bad.json()["error"] == "Invalid API key"
    assert good.status_code == 200
