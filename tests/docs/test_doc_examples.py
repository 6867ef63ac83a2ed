"""Every request example of the five vendor doc pages, kept as data in fixtures/doc-examples/,
replayed against a live `tunemock serve` - and checked to be the pages' own text, all of it.

The format (fields, `substitute` sources, `expect` shapes) is described in
fixtures/doc-examples/README.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from tests.docs.doc_pages import curl_blocks, json_samples, python_sample_lines, sdk_request
from tests.fixtures.contract import conforms
from tests.fixtures.server import LiveServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO / "fixtures" / "doc-examples"
SEEDS_DIR = REPO / "fixtures" / "seeds"

API_KEY = "doc-examples-key"
REPAIRED_DATASET = "https://example.com/dataset.zip"
EXPECTED_FILES = {
    "000-kontext.yaml": "000",
    "001-flux-pro.yaml": "001",
    "002-qwen.yaml": "002",
    "003-inference.yaml": "003",
    "004-lora-trainer.yaml": "004",
}
# The substitution vocabulary: where a placeholder's real value comes from (README.md).
SOURCES = {"submitted_job", "submitted_job.cloud_storage_url", "available_finetune"}
PLACEHOLDERS = {"FINETUNE_ID", "REQUEST_ID", "FINETUNE_REQUEST_ID", "CLOUD_STORAGE_URL"}
ORIGINS = {"curl", "python_sdk", "built_from_fields"}
SHAPES = {"same_keys", "same_url", "status_only", "has_keys"}

FILES: dict[str, dict[str, Any]] = {
    path.name: yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in sorted(EXAMPLES_DIR.glob("*.yaml"))
}
SEEDS: dict[str, str] = {p.name: p.read_text(encoding="utf-8") for p in SEEDS_DIR.glob("*.txt")}
CASES = [
    pytest.param(name, example, id=example["id"])
    for name, doc in FILES.items()
    for example in doc["examples"]
]


def _seed_of(file_name: str) -> str:
    return SEEDS[FILES[file_name]["source"]]


# --- replaying ---------------------------------------------------------------------------


def _find(reference: str, file_name: str) -> dict[str, Any]:
    """An example by `id` or `file#id`."""
    other, _, example_id = reference.rpartition("#")
    return next(e for e in FILES[other or file_name]["examples"] if e["id"] == example_id)


def _repaired(example: Mapping[str, Any]) -> str:
    repair = example["repair"]
    text: str = example["body_text"]
    assert text.count(repair["find"]) == 1, f"{example['id']}: repair.find must occur once"
    return text.replace(repair["find"], repair["replace"])


def _substitute_text(text: str, subs: Mapping[str, str]) -> str:
    """Replace the JSON string values of the named fields, leaving every other byte alone."""
    if not subs:
        return text
    parsed = json.loads(text)
    for field, value in subs.items():
        literal = json.dumps(parsed[field])
        assert text.count(literal) == 1, f"{field}: {literal} must occur once in the body"
        text = text.replace(literal, json.dumps(value))
    return text


def _parts(form: Mapping[str, Any]) -> list[tuple[str, tuple[None, str]]]:
    """A form as multipart text parts (curl --form), one part per item of a list value."""
    return [
        (name, (None, str(item)))
        for name, value in form.items()
        for item in (value if isinstance(value, list) else [value])
    ]


def _send(
    client: httpx.Client,
    example: Mapping[str, Any],
    values: Mapping[str, str],
    body_text: str | None = None,
) -> httpx.Response:
    """Send the example as stored: its headers and body, after substituting `values`."""
    headers = {k: v.replace("{api_key}", API_KEY) for k, v in example["headers"].items()}
    substitute = (example.get("substitute") or {}) if values else {}
    subs = {field: values[source] for field, source in substitute.items()}
    kwargs: dict[str, Any] = {"headers": headers}
    if body_text is not None or "body_text" in example:
        kwargs["content"] = _substitute_text(body_text or example["body_text"], subs)
    elif "body" in example:
        kwargs["json"] = {**example["body"], **subs}
    elif "form" in example:
        kwargs["files"] = _parts({**example["form"], **subs})
    request = client.build_request(example["method"], example["path"], **kwargs)
    sent = request.headers.get("content-type")
    assert (sent.split(";")[0] if sent else None) == example["content_type"]
    return client.send(request, follow_redirects=bool(example.get("follow_redirects")))


def _prepare(client: httpx.Client, server: LiveServer, file_name: str) -> dict[str, str]:
    """Create the job the file's placeholders stand for; answer the substitution values."""
    setup = FILES[file_name].get("setup")
    if setup is None:
        return {}
    submit = _find(setup["job_from"], file_name)
    answer = _send(client, submit, {}, body_text=_repaired(submit))
    assert answer.status_code == 200, answer.text
    job_id = answer.json().get("finetune_id") or answer.json()["request_id"]
    server.advance(setup["advance_seconds"])
    details = client.request(
        "GET", "/finetune/request/details", headers=_key(), json={"request_id": job_id}
    )
    finetune = conforms("finetune_details", details)["finetune"]
    assert finetune["status"] == "AVAILABLE" and finetune["cloud_storage_url"], finetune
    return {
        "submitted_job": job_id,
        "submitted_job.cloud_storage_url": finetune["cloud_storage_url"],
        "available_finetune": job_id,
    }


def _key() -> dict[str, str]:
    return {"x-api-key": API_KEY}


# --- checking answers --------------------------------------------------------------------


def _missing_keys(sample: Any, answer: Any, free_form: Mapping[str, str], where: str) -> list[str]:
    """Key paths of the sample the answer lacks, nested objects and object lists included."""
    if isinstance(sample, dict):
        if not isinstance(answer, dict):
            return [f"{where}: not an object"]
        missing = []
        for key, value in sample.items():
            path = f"{where}.{key}"
            if key not in answer:
                missing.append(path)
            elif key not in free_form:
                missing += _missing_keys(value, answer[key], free_form, path)
        return missing
    if isinstance(sample, list) and sample and isinstance(sample[0], dict):
        if not isinstance(answer, list) or not answer:
            return [f"{where}: no items where the sample has some"]
        return [
            path
            for i, item in enumerate(answer)
            for path in _missing_keys(sample[0], item, free_form, f"{where}[{i}]")
        ]
    return []


def _dig(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        assert isinstance(body, dict) and part in body, f"answer lacks {dotted}: {body}"
        body = body[part]
    return body


def _check(
    expect: Mapping[str, Any], example: Mapping[str, Any], response: httpx.Response, op: str
) -> Any:
    """Assert an `expect` block on an answer; return the parsed body."""
    assert response.status_code == expect["status"], (
        f"{example['id']}: {response.status_code} {response.text[:500]}"
    )
    body = conforms(op, response)
    if "error_contains" in expect:
        assert isinstance(body, dict) and isinstance(body.get("error"), str), body
        assert expect["error_contains"] in body["error"], body
    shape = expect.get("shape")
    if shape == "same_keys":
        missing = _missing_keys(
            example["response_sample"], body, expect.get("free_form") or {}, "<body>"
        )
        assert not missing, f"{example['id']}: answer lacks {missing}: {body}"
    elif shape == "same_url":
        sample, got = urlsplit(example["response_sample"]["text"]), urlsplit(body.strip())
        assert got.scheme in {"http", "https"} and got.netloc, body
        assert PurePosixPath(got.path).suffix == PurePosixPath(sample.path).suffix, body
        assert set(parse_qs(sample.query)) <= set(parse_qs(got.query)), body
    elif shape == "has_keys":
        for dotted in expect["keys"]:
            _dig(body, dotted)
        for dotted, value in (expect.get("values") or {}).items():
            assert _dig(body, dotted) == value, body
    return body


def _sdk_wait(
    client: httpx.Client, server: LiveServer, example: Mapping[str, Any], submitted: Any
) -> None:
    """What `segmind.run` / `job.wait()` do after the submit: poll status_url (the virtual
    clock moved by the SDK's 1 s interval between polls) up to its 600 s deadline, then read
    response_url."""
    for _ in range(600):
        status = client.get(submitted["status_url"], headers=_key())
        if conforms("inference_v2_status", status)["status"] in {"COMPLETED", "FAILED"}:
            break
        server.advance(1)
    result = client.get(submitted["response_url"], headers=_key())
    _check(example["expect"]["after_wait"], example, result, "inference_v2_result")


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize(("file_name", "example"), CASES)
def test_doc_example_replays_as_documented(
    live_server: LiveServer, file_name: str, example: dict[str, Any]
) -> None:
    op = example["operation"]
    with httpx.Client(base_url=live_server.base_url, timeout=10) as client:
        values = _prepare(client, live_server, file_name)
        if "as_written" in example:  # the placeholders (or the gap) exactly as the doc has them
            _check(example["as_written"], example, _send(client, example, {}), op)
        submitted = _check(example["expect"], example, _send(client, example, values), op)
        if "expect_repaired" in example:
            repaired = _send(client, example, values, body_text=_repaired(example))
            _check(example["expect_repaired"], example, repaired, op)
        if example.get("follow") == "sdk_wait":
            _sdk_wait(client, live_server, example, submitted)


def test_there_is_one_file_per_seed_and_it_names_its_seed() -> None:
    assert set(FILES) == set(EXPECTED_FILES)
    assert {doc["source"] for doc in FILES.values()} == set(SEEDS)
    for name, doc in FILES.items():
        assert doc["source"].startswith(EXPECTED_FILES[name] + "_"), name
        assert doc["examples"], name
    ids = [example["id"] for doc in FILES.values() for example in doc["examples"]]
    assert len(ids) == len(set(ids)), "example ids are unique"


@pytest.mark.parametrize("file_name", sorted(EXPECTED_FILES))
def test_every_curl_block_is_an_example_stored_verbatim(file_name: str) -> None:
    """Count `curl ` per page against the curl examples, then compare block by block."""
    seed = _seed_of(file_name)
    stored = [e for e in FILES[file_name]["examples"] if e["origin"] == "curl"]
    assert len(stored) == seed.count("curl ")
    blocks = curl_blocks(seed)
    assert len(blocks) == seed.count("curl ")
    for block, example in zip(blocks, stored, strict=True):
        headers = {k: v.replace("{api_key}", "YOUR_API_KEY") for k, v in example["headers"].items()}
        assert block == {
            "method": example["method"],
            "path": example["path"],
            "headers": headers,
            "content_type": example["content_type"],
            "body_text": example.get("body_text"),
            "form": example.get("form"),
        }, example["id"]
        assert example["follow_redirects"] is True  # every block says --location


def test_the_python_sample_is_stored_verbatim_call_by_call() -> None:
    seed = _seed_of("003-inference.yaml")
    lines = python_sample_lines(seed)
    stored = [e for e in FILES["003-inference.yaml"]["examples"] if e["origin"] == "python_sdk"]
    assert len(stored) == seed.count("segmind.run(") + seed.count(".submit_async(") == 2
    for example in stored:
        first, last = example["sample_lines"]
        assert example["code"] == "\n".join(lines[n] for n in range(first, last + 1))
        slug, body = sdk_request(example["code"])
        assert (example["method"], example["path"]) == ("POST", f"/v2/{slug}")
        assert example["body"] == body and example["content_type"] == "application/json"
        assert "finetune_id" not in body  # the gap the substitution fills
        for read in example["sample_reads"]:
            assert all(part in example["code"] for part in read.split(".")), read


def test_the_trainer_example_is_built_from_documented_fields_only() -> None:
    seed = _seed_of("004-lora-trainer.yaml")
    assert "curl " not in seed and "Request samples\ncurl\nJavaScript\n" in seed  # empty tabs
    (example,) = FILES["004-lora-trainer.yaml"]["examples"]
    assert example["built_from_fields"] is True and example["built_from_fields_reason"]
    assert example["origin"] == "built_from_fields" and example["doc_path"] == "/finetune"
    assert f"post{example['doc_path']}" in seed
    assert example["path"] == "/lora-trainer" + example["doc_path"]
    for field, value in example["form"].items():
        assert f"\n{field}\n" in seed, f"{field} is not a documented field"
        default = re.search(rf"\n{field}\n[^\n]*\nDefault: (\S+)", seed)
        if default and not isinstance(value, list):  # a defaulted field is sent at its default
            assert str(json.loads(default[1])) == value, field


@pytest.mark.parametrize(("file_name", "example"), CASES)
def test_example_is_well_formed_and_its_sample_is_the_docs(
    file_name: str, example: dict[str, Any]
) -> None:
    seed = _seed_of(file_name)
    assert example["origin"] in ORIGINS and example["section"] in seed
    assert example["headers"]["x-api-key"] == "{api_key}"
    body_fields = {k for k in ("body_text", "body", "form") if k in example}
    allowed = {None: set(), "application/json": {"body_text", "body"}}.get(
        example["content_type"], {"form"}
    )
    assert body_fields <= allowed and len(body_fields) == (1 if allowed else 0), body_fields
    for field, source in (example.get("substitute") or {}).items():
        assert source in SOURCES, source
        stored = example.get("form") or json.loads(example.get("body_text") or "{}")
        assert stored.get(field, "(absent)") in PLACEHOLDERS | {"(absent)"}, field
    for key in ("expect", "as_written", "expect_repaired"):
        if key in example:
            expect = example[key]
            assert isinstance(expect["status"], int)
            assert expect.get("shape") in SHAPES or "error_contains" in expect, expect
    if "repair" in example:
        repaired = json.loads(_repaired(example))
        assert repaired["data_source_path"] == REPAIRED_DATASET
        with pytest.raises(json.JSONDecodeError):
            json.loads(example["body_text"])
    sample = example["response_sample"]
    if isinstance(sample, dict) and set(sample) == {"text"}:
        assert re.search(r"Sample Response\s*" + re.escape(sample["text"]) + r"\n", seed)
    elif sample == 200:
        # seed 002 runs it into the next title: "Sample Response 2006. Download ..."
        assert re.search(r"Sample Response\s*(?:```)?\s*200(?:\D|6\. Download)", seed)
    elif sample is None:
        assert example["origin"] == "python_sdk" and example["sample_reads"]
    else:
        assert sample in json_samples(seed), f"{example['id']}: not a sample of {file_name}"
