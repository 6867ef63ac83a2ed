"""What the contract says matches what the docs say: enums, counts, lifecycles, links, webhooks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mock_server.spec import SpecBundle
from mock_server.spec.walk import walk


def _request_schema(bundle: SpecBundle, operation_id: str, media: str = "application/json") -> Any:
    op = bundle.operation(operation_id)
    schema = op.raw["requestBody"]["content"][media]["schema"]
    doc = bundle.documents[op.family]
    return doc.resolve(schema["$ref"]) if "$ref" in schema else schema


def _deref(bundle: SpecBundle, family: str, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = bundle.documents[family].resolve(node["$ref"])
    return node


@pytest.mark.parametrize("field", ["aspect_ratio", "sampler_name"])
def test_inference_enums_have_the_documented_total_count(bundle, seed_text, field) -> None:
    # the page says e.g. `aspect_ratiorequired ... Allowed values (13 total):`
    page = seed_text["003"]
    block = page[re.search(rf"{field}(required|optional)", page).start() :]
    allowed = re.search(r"Allowed values \((\d+) total\):", block)
    documented_total = int(allowed.group(1))
    listed = re.findall(r'"([^"]+)"', block[allowed.end() : block.index("+")])
    schema = _deref(
        bundle,
        "segmind-inference",
        _request_schema(bundle, "inference_v1_flux_dev_finetuned")["properties"][field],
    )
    assert len(schema["enum"]) == documented_total
    assert listed == schema["enum"][: len(listed)], "documented values first, in the doc's order"
    assert set(schema["x-inferred-values"]) == set(schema["enum"]) - set(listed)


def test_inference_ranges_and_defaults_come_from_the_page(bundle) -> None:
    props = _request_schema(bundle, "inference_v1_flux_dev_finetuned")["properties"]
    steps = _deref(bundle, "segmind-inference", props["steps"])
    strength = _deref(bundle, "segmind-inference", props["lora_strength"])
    assert (steps["minimum"], steps["maximum"], steps["default"]) == (1, 100, 25)
    assert (strength["minimum"], strength["maximum"], strength["default"]) == (-10, 10, 1)
    hardware = _deref(bundle, "segmind-inference", props["hardware"])
    assert set(hardware["enum"]) == {"fast", "cost"} and hardware["default"] == "cost"


def _lifecycles(bundle: SpecBundle) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for doc in bundle.documents.values():
        for pointer, node in walk(doc.raw):
            if isinstance(node, dict) and "x-lifecycle" in node:
                found.append((f"{doc.name}{pointer}", node))
    return found


def test_each_family_with_jobs_declares_a_lifecycle(bundle) -> None:
    families = {where.split("#")[0] for where, _ in _lifecycles(bundle)}
    assert families == {"segmind-finetune", "segmind-inference", "lora-trainer"}


def test_lifecycles_are_closed_and_every_state_reaches_a_terminal(bundle) -> None:
    for where, schema in _lifecycles(bundle):
        states = set(schema["enum"])
        life = schema["x-lifecycle"]
        assert life["initial"] in states, where
        assert set(life["terminal"]) <= states, where
        for source, targets in life["edges"].items():
            assert source in states and set(targets) <= states, where
            assert source not in life["terminal"], f"{where}: terminal {source} has edges"
        for state in states:  # reachability of a terminal from every state
            frontier, seen = {state}, set()
            while frontier - seen:
                seen |= frontier
                frontier = {t for s in frontier for t in life["edges"].get(s, [])}
            assert seen & set(life["terminal"]), f"{where}: {state} never ends"


def test_finetune_status_has_the_documented_states(bundle) -> None:
    (schema,) = [s for w, s in _lifecycles(bundle) if w.startswith("segmind-finetune")]
    documented = {"REQUESTED", "TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE"}
    assert documented <= set(schema["enum"])
    assert set(schema["x-lifecycle"]["webhook_events"]) == {
        "TRAINING_COMPLETED",
        "INFERENCE_QUEUED",
        "AVAILABLE",
    }


def test_v2_states_and_failed_as_422(bundle) -> None:
    (schema,) = [s for w, s in _lifecycles(bundle) if w.startswith("segmind-inference")]
    assert set(schema["enum"]) == {"QUEUED", "PROCESSING", "COMPLETED", "FAILED"}
    for op_id in ("inference_v2_status", "inference_v2_result"):
        responses = bundle.operation(op_id).raw["responses"]
        assert {"200", "404", "422"} <= set(map(str, responses)), op_id


def test_submit_is_one_of_the_three_models_discriminated_by_base_model(bundle) -> None:
    schema = _request_schema(bundle, "finetune_submit")
    assert schema["discriminator"]["propertyName"] == "base_model"
    assert set(schema["discriminator"]["mapping"]) == {"FLUX", "FLUX_PRO", "QWEN"}
    assert len(schema["oneOf"]) == 3


def test_get_with_a_json_body_as_the_sdk_sends_it(bundle) -> None:
    for op_id, field in [
        ("finetune_details", "request_id"),
        ("finetune_upload_presigned_url", "name"),
    ]:
        op = bundle.operation(op_id)
        assert op.method == "GET"
        assert field in _request_schema(bundle, op_id).get("required", []), op_id


def test_form_operations_accept_the_docs_multipart_and_the_sdks_urlencoded(bundle) -> None:
    for op_id in ("finetune_access_update", "finetune_file_download"):
        content = bundle.operation(op_id).raw["requestBody"]["content"]
        assert {"multipart/form-data", "application/x-www-form-urlencoded"} <= set(content), op_id
    download = bundle.operation("finetune_file_download").raw["responses"]["200"]["content"]
    assert "text/plain" in download


def _links(bundle: SpecBundle, op_id: str) -> dict[str, Any]:
    links: dict[str, Any] = {}
    for response in bundle.operation(op_id).raw["responses"].values():
        links.update(response.get("links", {}))
    return links


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("finetune_submit", "finetune_details"),
        ("finetune_upload_presigned_url", "finetune_submit"),
        ("finetune_details", "finetune_file_download"),
        ("inference_v2_submit_flux_dev_finetuned", "inference_v2_status"),
        ("inference_v2_status", "inference_v2_result"),
        ("lora_trainer_finetune_create", "lora_trainer_finetune_status"),
    ],
)
def test_links_make_the_stateful_flows_explicit(bundle, source, target) -> None:
    targets = {link.get("operationId") for link in _links(bundle, source).values()}
    assert target in targets


def test_finetune_webhooks_carry_the_documented_urls(bundle) -> None:
    hooks = {w.name: w for w in bundle.webhooks if w.family == "segmind-finetune"}
    assert {"TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE"} <= set(hooks)

    def props(name: str) -> set[str]:
        schema = hooks[name].raw["post"]["requestBody"]["content"]["application/json"]["schema"]
        schema = _deref(bundle, "segmind-finetune", schema)
        merged: set[str] = set(schema.get("properties", {}))
        for part in schema.get("allOf", []):
            merged |= set(_deref(bundle, "segmind-finetune", part).get("properties", {}))
        return merged

    assert "trained_model_url" in props("TRAINING_COMPLETED")
    assert "inference_api_url" in props("AVAILABLE")
