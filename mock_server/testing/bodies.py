"""Request bodies from the contract's own doc examples, for tests and benchmarks: the
values come from openapi/, so they stay valid when the spec changes."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from typing import Any

from mock_server.spec import load_specs

#: Placeholder dataset URL (use `--datasets skip`, or replace it with a real one).
DATASET_URL = "https://datasets.example.test/faces.zip"


@cache
def _examples(operation_id: str) -> Mapping[str, Any]:
    """An operation's JSON request examples (the shipped spec, read once)."""
    op = load_specs().operation(operation_id)
    examples: Mapping[str, Any] = op.raw["requestBody"]["content"]["application/json"]["examples"]
    return examples


def doc_submit_body(model: str, data_source_path: str = DATASET_URL) -> dict[str, Any]:
    """The docs' fine-tune submit example for a base model (FLUX, FLUX_PRO, QWEN)."""
    for example in _examples("finetune_submit").values():
        value = example["value"]
        usable = not example.get("x-negative") and isinstance(value, dict)
        if usable and value.get("base_model") == model:
            body: dict[str, Any] = copy.deepcopy(value)
            body["data_source_path"] = data_source_path
            return body
    raise KeyError(model)


def doc_v2_body(finetune_id: str) -> dict[str, Any]:
    """The docs' v2 Flux Dev Finetuned example, for the given fine-tuned model."""
    examples = _examples("inference_v2_submit_flux_dev_finetuned")
    body: dict[str, Any] = copy.deepcopy(examples["doc"]["value"])
    body["finetune_id"] = finetune_id
    return body
