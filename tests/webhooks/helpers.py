"""Checks shared by the webhook tests: a payload against the spec's `webhooks:` section."""

from __future__ import annotations

from typing import Any

from mock_server.spec import load_specs
from mock_server.spec.schemas import schema_validator

_BUNDLE = load_specs()
_DOC = _BUNDLE.documents["segmind-finetune"]
_SCHEMAS = {
    hook.name: hook.raw["post"]["requestBody"]["content"]["application/json"]["schema"]
    for hook in _BUNDLE.webhooks
    if hook.family == "segmind-finetune"
}


def assert_valid_event(payload: dict[str, Any]) -> None:
    """The payload validates against the webhook schema its `event` names."""
    event = payload["event"]
    errors = list(schema_validator(_DOC, _SCHEMAS[event]).iter_errors(payload))
    assert not errors, f"{event}: {errors[0].message}"
