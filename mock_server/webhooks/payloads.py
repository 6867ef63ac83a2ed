"""Event payloads, built from a job and checked against the spec's `webhooks:` before they
leave (a payload that breaks the contract is never sent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from mock_server.clock import iso
from mock_server.finetune.domain import FinetuneJob, artifact_path_of
from mock_server.lifecycle import Transition
from mock_server.spec import SpecBundle, SpecDocument
from mock_server.spec.schemas import schema_validator

FAMILY = "segmind-finetune"
TEST_EVENT = "TEST"


class PayloadBreaksContract(Exception):
    """A built payload does not validate against its webhook schema (a mock bug)."""


class Payloads:
    def __init__(self, spec: SpecBundle) -> None:
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}
        self._fields: dict[str, set[str]] = {}
        for hook in spec.webhooks:
            doc = spec.documents[hook.family]
            schema = hook.raw["post"]["requestBody"]["content"]["application/json"]["schema"]
            self._validators[hook.family, hook.name] = schema_validator(doc, schema)
            if hook.family == FAMILY:
                self._fields[hook.name] = _fields_of(doc, schema)

    def check(
        self, event: str, payload: Mapping[str, Any], family: str = FAMILY
    ) -> Mapping[str, Any]:
        """The payload, if it validates against the family's webhook named `event`."""
        errors = list(self._validators[family, event].iter_errors(payload))
        if errors:
            raise PayloadBreaksContract(f"{event} payload: {errors[0].message}")
        return payload

    def finetune_event(self, job: FinetuneJob, transition: Transition) -> Mapping[str, Any]:
        event = transition.state
        payload: dict[str, Any] = {
            "event": event,
            job.id_keys["submit"]: job.id,
            "name": job.request.get("name"),
            "base_model": job.request.get("base_model"),
            "status": event,
            "error_message": None,
            "timestamp": iso(transition.at),
        }
        # the documented URL fields, on the events whose schema has them
        if "trained_model_url" in self._fields[event]:
            payload["trained_model_url"] = f"{job.base_url}{artifact_path_of(job)}"
        if "inference_api_url" in self._fields[event]:
            # where the mock serves inference for a fine-tuned model (seed 003)
            payload["inference_api_url"] = f"{job.base_url}/v1/flux-dev-finetuned"
        return self.check(event, payload)

    def test_event(self, tenant_jobs: list[FinetuneJob], now_iso: str) -> Mapping[str, Any]:
        payload: dict[str, Any] = {
            "event": TEST_EVENT,
            "message": "Sample payload from tunemock: your webhook receives events.",
            "timestamp": now_iso,
        }
        if tenant_jobs:
            job = tenant_jobs[0]
            payload[job.id_keys["submit"]] = job.id
            payload["name"] = job.request.get("name")
        return self.check(TEST_EVENT, payload)


def _fields_of(doc: SpecDocument, schema: Mapping[str, Any]) -> set[str]:
    """Every property a (possibly allOf-composed, $ref'd) object schema names."""
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        if "$ref" in node:
            stack.append(doc.resolve(node["$ref"]))
        found |= set(node.get("properties", {})) | set(node.get("required", []))
        stack.extend(node.get("allOf", []))
    return found
