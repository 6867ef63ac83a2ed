"""Steps several groups share: a small real dataset, its presigned upload, a submit body
from the spec's own example, and reading JSON answers defensively."""

from __future__ import annotations

import copy
import io
import zipfile
from typing import Any

import httpx
from PIL import Image

from contracts.suites.base import Suite
from mock_server.spec import SpecBundle
from mock_server.spec.defaults import branch_for


def tiny_dataset() -> bytes:
    """A valid dataset ZIP for every model: one start/end pair of small PNGs (what Kontext
    needs; any two images do for the others)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for side, colour in (("start", "red"), ("end", "blue")):
            archive.writestr(f"pair_{side}.png", tiny_png(colour))
    return buffer.getvalue()


def tiny_png(colour: str = "red") -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(image, format="PNG")
    return image.getvalue()


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} (a wrong body is the schema checks' finding)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def upload(suite: Suite, key: str | None, name: str = "tunemock-check.zip") -> str | None:
    """Presign and PUT a small real dataset as `key`; its s3_url (None when refused)."""
    answer = suite.call("finetune_upload_presigned_url", key=key, json={"name": name}, valid=True)
    urls = json_object(answer)
    if answer.status_code != 200 or not isinstance(urls.get("presigned_url"), str):
        return None
    put = suite.target.request("PUT", urls["presigned_url"], auth=False, content=tiny_dataset())
    suite.expect(
        "presigned_upload_accepted",
        "PUT presigned_url",
        put.status_code == 200,
        f"{put.status_code} {put.text[:120]}",
        "200 for a fresh signed PUT",
    )
    s3_url = urls.get("s3_url")
    return str(s3_url) if s3_url else None


def submit_body(spec: SpecBundle, s3_url: str) -> dict[str, Any]:
    """The spec's first valid submit example, on our dataset."""
    op = spec.operation("finetune_submit")
    examples = op.raw["requestBody"]["content"]["application/json"]["examples"]
    usable = [
        e["value"]
        for e in examples.values()
        if not e.get("x-negative") and isinstance(e.get("value"), dict)
    ]
    body: dict[str, Any] = copy.deepcopy(usable[0])
    body["data_source_path"] = s3_url
    body["name"] = "tunemock-check"
    return body


def id_keys(spec: SpecBundle, body: dict[str, Any]) -> dict[str, str]:
    """Which field carries the job id in the submit answer and in the record, for the
    variant `body` picks (`x-id-keys`)."""
    doc = spec.documents["segmind-finetune"]
    schema = spec.operation("finetune_submit").raw["requestBody"]["content"]["application/json"][
        "schema"
    ]
    keys: dict[str, str] = branch_for(doc, schema, body)["x-id-keys"]
    return keys


def inference_body(spec: SpecBundle, model_id: str, outcome: str | None = None) -> dict[str, Any]:
    """The spec's first valid inference example, on our model; with `outcome`, the first
    whose `x-outcome` is that state (empty when the spec has none)."""
    v2 = spec.operation("inference_v2_submit_flux_dev_finetuned")
    examples = v2.raw["requestBody"]["content"]["application/json"].get("examples", {})
    usable = [
        e["value"]
        for e in examples.values()
        if not e.get("x-negative") and e.get("x-outcome") == outcome
    ]
    if not usable:
        return {}
    return {**usable[0], "finetune_id": model_id}
