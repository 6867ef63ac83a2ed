"""Request bodies for the fine-tune tests, taken from the contract's own doc examples."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import httpx

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


#: A Flux Pro LoRA fine-tune in the SDK's keywords, but for its name and data source: short
#: enough that an hour of the mock's clock trains it.
SDK_FLUX_PRO_LORA: dict[str, Any] = {
    "instance_prompt": "1MAN, in a suit",
    "trigger_word": "1MAN",
    "base_model": "FLUX_PRO",
    "train_type": "LORA",
    "machine_type": "NVIDIA_H100",
    "theme": "GENERAL",
    "advance_parameters": {"iterations": 150},
}


def dataset_zip() -> bytes:
    """A dataset the mock's intake accepts: a zip of one caption."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "TOK")
    return buffer.getvalue()


def sdk_upload_and_submit(
    client: Any, put: Callable[..., httpx.Response], name: str
) -> dict[str, Any]:
    """Through the SDK, the docs' data path up to training: a presigned upload of
    `dataset_zip` (`put`: the caller's HTTP client's PUT), then `SDK_FLUX_PRO_LORA` of it
    under `name`; the submit's answer."""
    urls = client.finetune.upload_presigned_url("faces.zip")
    assert put(urls["presigned_url"], content=dataset_zip()).status_code == 200
    answer: dict[str, Any] = client.finetune.submit(
        name=name, data_source_path=urls["s3_url"], **SDK_FLUX_PRO_LORA
    )
    return answer
