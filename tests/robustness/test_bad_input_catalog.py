"""The bad-input catalog: hostile requests of every kind against a live mock, one row each.
Every row names the status, the error body's shape (Segmind's `{"error"}`, the trainer's
FastAPI `{"detail"}`, S3's XML, or the HTTP server's own refusal for bytes that never
reach the app), and must change nothing (jobs, deliveries, lists, webhooks, credits) and
leave the mock healthy. tests/finetune/test_bad_input.py holds the submit-body classics;
this catalog covers the other routes and the transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from fixtures.datasets import make_datasets
from mock_server.testing.live import LiveServer
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.contract import conforms
from tests.fixtures.server import KEY_A, KEY_B
from tests.inference.params import PARAMS
from tests.robustness.peers import raw_exchange
from tests.robustness.state import healthy, snapshot

BAD_ZIPS = Path(__file__).resolve().parents[2] / "fixtures" / "datasets" / "bad"
PNG = make_datasets._image(1)
MB = 1024 * 1024
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Row:
    """One hostile request. `path` and string values in `kw` may name what the `world`
    fixture made ({job_b}, {trainer_b}, {hook_b}, {presigned}, ...); `raw` is sent as is
    over a socket; `before` runs (with the world) before the state is taken."""

    id: str
    method: str
    path: str
    status: int
    shape: str  # segmind | fastapi | fastapi-422 | s3 | http | ok
    kw: dict[str, Any] = field(default_factory=dict)
    phrase: str = ""
    op: str | None = None  # the operation whose contract the answer must meet
    raw: bytes | None = None
    before: Callable[[httpx.Client, dict[str, str]], None] | None = None


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _form(*parts: tuple[str, Any]) -> dict[str, Any]:
    return {"files": list(parts)}


def _image(name: str, data: bytes = PNG, mime: str = "image/png") -> tuple[str, Any]:
    return ("image_files", (name, data, mime))


def _text(name: str, value: str | bytes) -> tuple[str, Any]:
    return (name, (None, value))


def _advance(seconds: float) -> Callable[[httpx.Client, dict[str, str]], None]:
    def run(client: httpx.Client, world: dict[str, str]) -> None:
        client.post("/_mock/clock/advance", json={"seconds": seconds}).raise_for_status()
        # the jobs moved: let the dispatcher settle what that sent before the state is taken
        client.post("/_mock/webhooks/flush", json={}).raise_for_status()

    return run


def _raw(method: str, target: bytes, headers: bytes = b"", body: bytes = b"") -> bytes:
    length = f"content-length: {len(body)}\r\n".encode() if body else b""
    return (
        method.encode()
        + b" "
        + target
        + b" HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: "
        + KEY_A.encode()
        + b"\r\nconnection: close\r\n"
        + headers
        + length
        + b"\r\n"
        + body
    )


V1, V2 = "/v1/flux-dev-finetuned", "/v2/flux-dev-finetuned"
TRAINER = "/lora-trainer/finetune"

ROWS: list[Row] = [
    # --- malformed and hostile JSON -----------------------------------------------------
    Row("json-trailing-comma-v2", "POST", V2, 400, "segmind",
        {"content": b'{"prompt": "x",}', "headers": JSON}, "json"),
    Row("json-truncated-webhook-add", "POST", "/webhook/add", 400, "segmind",
        {"content": b'{"webhook_url": "http://127.0.0.1:9/h", "event": {', "headers": JSON}),
    Row("json-single-quotes-admin", "POST", "/_mock/faults", 400, "segmind",
        {"content": b"{'match': {}}", "headers": JSON}),
    Row("json-deep-objects-v1", "POST", V1, 400, "segmind",
        {"content": _nested(100_000), "headers": JSON}),
    Row("json-deep-arrays-upload-asset", "POST", "/upload-asset", 400, "segmind",
        {"content": b'{"data_urls": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "headers": JSON}),
    Row("json-duplicate-huge-keys-clock", "POST", "/_mock/clock/advance", 400, "segmind",
        {"content": b'{"seconds": 1, "seconds": "x"}', "headers": JSON}),
    Row("json-invalid-utf8-webhook-add", "POST", "/webhook/add", 400, "segmind",
        {"content": b'{"webhook_url": "http://127.0.0.1:9/\xc3\x28"}', "headers": JSON}),
    Row("json-lone-surrogate-v2", "POST", V2, 400, "segmind",  # no answer could carry it
        {"content": json.dumps(PARAMS | {"prompt": "\ud800", "finetune_id": "x"}).encode(),
         "headers": JSON}, "prompt: holds an unpaired surrogate",
        op="inference_v2_submit_flux_dev_finetuned"),
    # --- sizes ------------------------------------------------------------------------
    Row("body-50mb-json-submit", "POST", "/finetune/request/submit", 413, "segmind",
        {"content": b'{"name": "' + b"x" * (50 * MB) + b'"}', "headers": JSON}, "too large"),
    Row("body-50mb-json-admin", "POST", "/_mock/faults", 413, "segmind",
        {"content": b"[" + b"1," * (25 * MB) + b"1]", "headers": JSON}, "too large"),
    Row("body-50mb-image-trainer", "POST", TRAINER, 413, "fastapi",
        _form(_image("big.png", b"\x89PNG" + b"\0" * (50 * MB))), "larger than",
        op="lora_trainer_finetune_create"),
    Row("body-50mb-get-list", "GET", "/finetune/request/list", 200, "ok",
        {"content": b"x" * (50 * MB)}, op="finetune_list"),
    Row("headers-200kb", "GET", "/finetune/request/list", 200, "ok",
        {"headers": {"x-padding": "a" * 200_000}}, op="finetune_list"),
    Row("headers-2000", "GET", "/webhook/get", 200, "ok",
        {"headers": {f"x-h{i}": "v" for i in range(2000)}}, op="webhook_get"),
    # --- content types ----------------------------------------------------------------
    Row("xml-to-webhook-add", "POST", "/webhook/add", 415, "segmind",
        {"content": b"<webhook/>", "headers": {"content-type": "application/xml"}}),
    Row("multipart-to-v2", "POST", V2, 415, "segmind", {"files": {"prompt": (None, "x")}}),
    Row("json-to-trainer", "POST", TRAINER, 415, "fastapi", {"json": {"option": "x"}}),
    Row("no-content-type-clock", "POST", "/_mock/clock/advance", 415, "segmind",
        {"content": b'{"seconds": 1}'}),
    Row("form-with-garbage-boundary-trainer", "POST", TRAINER, 400, "fastapi",
        {"content": b"--nope\r\n\r\n", "headers": {"content-type": "multipart/form-data"}}),
    # --- transport-level bytes: refused by the HTTP server before the app -----------------
    Row("nul-in-header", "RAW", "", 400, "http",
        raw=_raw("GET", b"/webhook/get", b"x-a: a\0b\r\n")),
    Row("invalid-utf8-in-path", "RAW", "", 400, "http", raw=_raw("GET", b"/finetune/\xff\xfe")),
    Row("space-in-path", "RAW", "", 400, "http", raw=_raw("GET", b"/finetune/request /list")),
    Row("bad-content-length", "RAW", "", 400, "http",
        raw=_raw("POST", b"/webhook/add", b"content-length: -5\r\n")),
    # --- names: unicode, NUL, newlines, traversal ---------------------------------------
    Row("unicode-id-details", "GET", "/finetune/request/details", 404, "segmind",
        {"json": {"request_id": "名前-🙂-\u202e"}}, op="finetune_details"),
    Row("unicode-key-list", "GET", "/finetune/request/list", 200, "ok",
        {"headers": {"x-api-key": "ключ-🙂".encode()}}, op="finetune_list"),
    Row("nul-in-json-id", "GET", "/finetune/request/details", 404, "segmind",
        {"json": {"request_id": "a\u0000b"}}, op="finetune_details"),
    Row("nul-in-path-trainer", "GET", f"{TRAINER}/a%00b", 404, "fastapi",
        op="lora_trainer_finetune_status"),
    Row("newline-in-path-trainer", "GET", f"{TRAINER}/a%0Ab", 404, "fastapi",
        op="lora_trainer_finetune_status"),
    Row("newline-in-path-v2-status", "GET", "/v2/requests/%0A/status", 404, "segmind",
        op="inference_v2_status"),
    Row("nul-in-webhook-id", "GET", "/webhook/inactive", 404, "segmind",
        {"params": {"webhook_id": "wh_\u0000"}}, op="webhook_inactive"),
    Row("traversal-trainer-files", "GET", "/lora-trainer/files/..%2F..%2F..%2Fetc/passwd", 404,
        "any"),
    Row("traversal-outputs", "GET", "/outputs/..%2F..%2Fetc%2Fpasswd", 404, "any"),
    Row("traversal-assets", "GET", "/assets/..%2F..%2F..%2Fetc%2Fpasswd", 404, "any"),
    Row("traversal-storage-dotdot", "GET", "/storage/uploads/%2e%2e/%2e%2e/etc/passwd", 400, "s3",
        phrase="InvalidArgument"),
    Row("traversal-trainer-status", "GET", f"{TRAINER}/..%2F..%2Fetc%2Fpasswd", 404, "fastapi",
        op="lora_trainer_finetune_status"),
    Row("traversal-in-image-name", "POST", TRAINER, 400, "fastapi",
        _form(_image("../../../../etc/cron.d/x.png"), _text("option", "FluxKontextFinetune")),
        op="lora_trainer_finetune_create"),
    # --- numbers at their edges ---------------------------------------------------------
    Row("seconds-overflow-to-inf", "POST", "/_mock/clock/advance", 400, "segmind",
        {"content": b'{"seconds": 1e999}', "headers": JSON}, op="admin_clock_advance"),
    Row("seconds-nan", "POST", "/_mock/clock/advance", 400, "segmind",
        {"content": b'{"seconds": NaN}', "headers": JSON}),
    Row("seconds-negative", "POST", "/_mock/clock/advance", 400, "segmind",
        {"json": {"seconds": -1}}, op="admin_clock_advance"),
    Row("seconds-huge-int", "POST", "/_mock/clock/advance", 400, "segmind",
        {"json": {"seconds": 10**400}}, op="admin_clock_advance"),
    Row("credits-infinity", "PUT", f"/_mock/credits/{KEY_A}", 400, "segmind",
        {"content": b'{"credits": Infinity}', "headers": JSON}),
    Row("credits-negative", "PUT", f"/_mock/credits/{KEY_A}", 400, "segmind",
        {"json": {"credits": -5}}, op="admin_credits_set"),
    Row("iterations-huge-trainer", "POST", TRAINER, 422, "fastapi-422",
        _form(_image("a.png"), _text("num_iterations", "9" * 400)),
        op="lora_trainer_finetune_create"),
    Row("iterations-float-trainer", "POST", TRAINER, 422, "fastapi-422",
        _form(_image("a.png"), _text("num_iterations", "1e3")), op="lora_trainer_finetune_create"),
    Row("steps-huge-v1", "POST", V1, 400, "segmind",
        {"json": PARAMS | {"finetune_id": "x", "steps": 2**64}}, "steps"),
    Row("steps-negative-zero-v2", "POST", V2, 400, "segmind",
        {"json": PARAMS | {"finetune_id": "x", "steps": -0.0}}, "steps"),
    Row("seed-1e308-v2", "POST", V2, 400, "segmind",
        {"json": PARAMS | {"finetune_id": "x", "seed": 1e308}}, "seed"),
    # --- unknown fields -------------------------------------------------------------------
    Row("unknown-field-admin", "POST", "/_mock/clock/advance", 400, "segmind",
        {"json": {"seconds": 1, "rewind": True}}, "rewind", op="admin_clock_advance"),
    Row("unknown-field-fault-rule", "POST", "/_mock/faults", 400, "segmind",
        {"json": {"match": {"path": "/*", "host": "x"}, "action": {"status": 503}}}),
    Row("unknown-field-details-still-404", "GET", "/finetune/request/details", 404, "segmind",
        {"json": {"request_id": "nope", "__proto__": {"admin": True}}}, op="finetune_details"),
    # --- bodies where a GET takes none ----------------------------------------------------
    Row("get-body-health", "GET", "/_mock/health", 200, "ok",
        {"content": b'{"status": "down"}', "headers": JSON}, op="admin_health"),
    Row("get-body-trainer-status", "GET", f"{TRAINER}/{{trainer_b}}", 404, "fastapi",
        {"content": b"\xff" * 1000}, op="lora_trainer_finetune_status"),
    Row("get-body-webhook-get", "GET", "/webhook/get", 200, "ok",
        {"json": {"webhook_id": "{hook_b}"}}, op="webhook_get"),
    # --- hostile archives where an image belongs -----------------------------------------
    *[
        Row(f"zip-{p.stem}-as-image", "POST", TRAINER, 400, "fastapi",
            _form(_image(f"{p.stem}.png", p.read_bytes())), "not a readable image",
            op="lora_trainer_finetune_create")
        for p in sorted(BAD_ZIPS.glob("*.zip"))
    ],
    # --- signatures -----------------------------------------------------------------------
    Row("signature-tampered", "PUT", "{tampered}", 403, "s3", {"content": b"PK"},
        "SignatureDoesNotMatch"),
    Row("signature-expired", "PUT", "{presigned}", 403, "s3", {"content": b"PK"},
        "Request has expired", before=_advance(3601)),
    Row("signature-other-key-name", "PUT", "{renamed}", 403, "s3", {"content": b"PK"}),
    Row("signature-as-get", "GET", "{presigned}", 403, "s3"),
    Row("signature-missing", "PUT", "{s3_url}", 403, "s3", {"content": b"PK"}, "AccessDenied"),
    # --- another tenant's ids -----------------------------------------------------------
    Row("cross-tenant-details", "GET", "/finetune/request/details", 404, "segmind",
        {"json": {"request_id": "{job_b}"}}, op="finetune_details"),
    Row("cross-tenant-access-update", "PUT", "/finetune/request/access-update", 404, "segmind",
        {"data": {"request_id": "{job_b}", "segmind_public": "True"}},
        op="finetune_access_update"),
    Row("cross-tenant-trainer-status", "GET", f"{TRAINER}/{{trainer_b}}", 404, "fastapi",
        op="lora_trainer_finetune_status"),
    Row("cross-tenant-webhook-update", "POST", "/webhook/update", 404, "segmind",
        {"json": {"webhook_id": "{hook_b}", "webhook_url": "http://127.0.0.1:9/x",
                  "event": {"types": ["FINETUNE"]}}}, op="webhook_update"),
    Row("cross-tenant-webhook-inactive", "GET", "/webhook/inactive", 404, "segmind",
        {"params": {"webhook_id": "{hook_b}"}}, op="webhook_inactive"),
    Row("cross-tenant-webhook-logs", "GET", "/webhook/dispatch-logs", 404, "segmind",
        {"params": {"webhook_id": "{hook_b}"}}, op="webhook_dispatch_logs"),
    Row("cross-tenant-webhook-test", "POST", "/webhook/test", 404, "segmind",
        {"json": {"webhook_id": "{hook_b}"}}, op="webhook_test"),
    Row("cross-tenant-inference-on-private-model", "POST", V2, 403, "segmind",
        {"json": PARAMS | {"finetune_id": "{job_b}"}}, "private",
        op="inference_v2_submit_flux_dev_finetuned"),
]  # fmt: skip


def _fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**world) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


@pytest.fixture
def world(live_server: LiveServer) -> dict[str, str]:
    """Tenant B's finetune job, trainer job and webhook; tenant A's presigned upload URL."""
    b = httpx.Client(base_url=live_server.base_url, headers={"x-api-key": KEY_B}, timeout=30)
    a = httpx.Client(base_url=live_server.base_url, headers={"x-api-key": KEY_A}, timeout=30)
    with a, b:
        job = b.post("/finetune/request/submit", json=doc_submit_body("QWEN"))
        trainer = b.post(TRAINER, files=[_image("a.png")])
        hook = b.post(
            "/webhook/add",
            json={"webhook_url": "http://127.0.0.1:9/hook", "event": {"types": ["FINETUNE"]}},
        )
        urls = a.request(
            "GET", "/finetune/request/upload/pre-signed-url", json={"name": "faces.zip"}
        ).json()
    query = dict(parse_qsl(urlsplit(urls["presigned_url"]).query))
    signature = next(k for k in query if k.lower().endswith("signature"))
    return {
        "job_b": job.json()["request_id"],
        "trainer_b": str(trainer.json()["data"]["id"]),
        "hook_b": hook.json()["webhook_id"],
        "presigned": urls["presigned_url"],
        "s3_url": urls["s3_url"],
        "tampered": f"{urls['s3_url']}?{urlencode(query | {signature: '0' * 64})}",
        "renamed": urls["presigned_url"].replace("faces.zip", "other.zip"),
    }


def _send(server: LiveServer, row: Row, world: dict[str, str]) -> tuple[int, bytes, Any]:
    if row.raw is not None:
        status, body = raw_exchange(server.base_url, row.raw)
        return status, body, None
    kw = _fill(row.kw, world)
    headers = {"x-api-key": KEY_A, **kw.pop("headers", {})}
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        response = client.request(row.method, _fill(row.path, world), headers=headers, **kw)
    return response.status_code, response.content, response


def _check_shape(row: Row, body: bytes, response: httpx.Response | None) -> None:
    if row.shape == "http":  # uvicorn's own answer: the request never reached the app
        assert body == b"Invalid HTTP request received."
        return
    assert response is not None
    media = response.headers.get("content-type", "")
    if row.shape == "s3":
        assert media.startswith("application/xml") and b"<Error><Code>" in body, body[:300]
        assert row.phrase.encode() in body
        return
    if row.shape == "any":  # a file route: no vendor body, but never a page of our own
        return
    assert media.startswith("application/json"), media
    parsed = json.loads(body)
    if row.shape == "segmind":
        assert isinstance(parsed["error"], str) and parsed["error"], parsed
        assert row.phrase.lower() in parsed["error"].lower(), parsed
    elif row.shape == "fastapi":
        assert isinstance(parsed["detail"], str) and parsed["detail"], parsed
        assert row.phrase.lower() in parsed["detail"].lower(), parsed
    elif row.shape == "fastapi-422":
        items = parsed["detail"]
        assert items and all({"loc", "msg", "type"} <= set(item) for item in items), parsed
    else:
        assert row.shape == "ok" and 200 <= response.status_code < 300
    if row.op is not None:
        conforms(row.op, response)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input_is_refused_in_the_vendor_format_and_changes_nothing(
    live_server: LiveServer, world: dict[str, str], row: Row
) -> None:
    if row.before is not None:
        with httpx.Client(base_url=live_server.base_url, timeout=30) as client:
            row.before(client, world)
    keys = [KEY_A, KEY_B]
    before = snapshot(live_server.base_url, keys)
    status, body, response = _send(live_server, row, world)
    assert status == row.status, body[:500]
    _check_shape(row, body, response)
    assert snapshot(live_server.base_url, keys) == before
    assert healthy(live_server.base_url)


def test_the_catalog_covers_every_class_of_bad_input() -> None:
    """Every class of bad input the project promises to answer well, each with at least one
    row (a row's id names its class)."""
    classes = [
        "json-", "deep-", "50mb", "xml-to", "invalid-utf8", "headers-", "unicode-", "nul-",
        "seconds-", "unknown-field", "get-body", "traversal", "zip-", "signature-tampered",
        "signature-expired", "cross-tenant",
    ]  # fmt: skip
    for name in classes:
        assert any(name in row.id for row in ROWS), name
