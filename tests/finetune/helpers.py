"""Request bodies for the fine-tune tests, taken from the contract's own doc examples."""

from __future__ import annotations

from typing import Any

from mock_server.spec import load_specs
from mock_server.testing.bodies import doc_submit_body

_SUBMIT = (
    load_specs().operation("finetune_submit").raw["requestBody"]["content"]["application/json"]
)


def doc_verbatim_body(model_suffix: str) -> str:
    """The docs' broken submit curl body, verbatim (not JSON)."""
    raw: str = _SUBMIT["examples"][f"doc_verbatim_{model_suffix}"]["value"]
    return raw


def sdk_submit_doc_body(client: Any, model: str) -> dict[str, Any]:
    """Submit the docs' example body for `model` through the SDK's keyword API; its answer."""
    body = doc_submit_body(model)
    answer: dict[str, Any] = client.finetune.submit(
        name=body["name"],
        data_source_path=body["data_source_path"],
        instance_prompt=body["instance_prompt"],
        trigger_word=body.get("trigger_word", "TOK"),
        base_model=model,
        train_type=body.get("train_type", "LORA"),
        machine_type=body.get("machine_type", "NVIDIA_H100"),
        theme=body.get("theme"),
        advance_parameters=body.get("advance_parameters"),
    )
    return answer
