"""Request bodies for the fine-tune tests, taken from the contract's own doc examples."""

from __future__ import annotations

import copy
from typing import Any

from mock_server.spec import load_specs

_SUBMIT = (
    load_specs().operation("finetune_submit").raw["requestBody"]["content"]["application/json"]
)


def doc_submit_body(model: str) -> dict[str, Any]:
    """The docs' submit example for a base model (FLUX, FLUX_PRO, QWEN), repaired to JSON."""
    for example in _SUBMIT["examples"].values():
        value = example["value"]
        usable = not example.get("x-negative") and isinstance(value, dict)
        if usable and value.get("base_model") == model:
            body = copy.deepcopy(value)
            body["data_source_path"] = "https://datasets.example.test/faces.zip"
            return body
    raise KeyError(model)


def doc_verbatim_body(model_suffix: str) -> str:
    """The docs' broken submit curl body, verbatim (not JSON)."""
    raw: str = _SUBMIT["examples"][f"doc_verbatim_{model_suffix}"]["value"]
    return raw
