"""`format:` keywords hold: the mock refuses a request whose `format: uri` field is no URI,
and the harness (the same `schema_validator`) flags a response whose one is not."""

from __future__ import annotations

import httpx
import pytest
from jsonschema import FormatChecker

from mock_server.spec import load_specs
from mock_server.spec.schemas import schema_validator

NOT_A_URI = "https://\u011a\u0116h\u00a2"  # what schemathesis sent: letters no URI may hold


def test_every_format_the_contract_uses_has_a_checker() -> None:
    # without the checkers' packages (rfc3986-validator, rfc3339-validator) jsonschema passes
    # any string
    used = {"uri", "date-time", "uuid"}
    assert used <= set(FormatChecker().checkers)
    checker = FormatChecker()
    assert not checker.conforms(NOT_A_URI, "uri")
    assert checker.conforms("https://example.com/hook?a=1", "uri")


@pytest.mark.anyio
async def test_a_webhook_url_that_is_no_uri_is_refused(mock_client: httpx.AsyncClient) -> None:
    answer = await mock_client.post(
        "/webhook/add", json={"webhook_url": NOT_A_URI, "event": {"types": ["FINETUNE"]}}
    )
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["details"][0]["path"] == "webhook_url"
    assert body["details"][0]["rule"] == "format"
    listed = await mock_client.get("/webhook/get")
    assert listed.status_code == 200 and NOT_A_URI not in listed.text


def test_the_harness_flags_a_response_url_that_is_no_uri() -> None:
    spec = load_specs()
    doc = spec.documents["segmind-inference"]
    schema = doc.resolve("#/components/schemas/InferenceSubmitted")
    validator = schema_validator(doc, schema)
    good = {"request_id": "r1", "status_url": "https://h/s", "response_url": "https://h/r"}
    assert not list(validator.iter_errors(good))
    errors = [e.validator for e in validator.iter_errors({**good, "status_url": NOT_A_URI})]
    assert errors == ["format"]
