"""The spec files are valid OpenAPI 3.1, load in the tools users use, and carry provenance."""

from __future__ import annotations

import pytest
import schemathesis

from mock_server.errors import SpecError
from mock_server.spec import FAMILIES, SpecBundle, inferred_decisions, load_specs
from mock_server.spec.loader import load_document
from mock_server.spec.walk import walk


@pytest.mark.parametrize("family", FAMILIES)
def test_openapi_spec_validator_accepts_each_file(bundle: SpecBundle, family: str) -> None:
    doc = bundle.documents[family]
    assert doc.raw["openapi"].startswith("3.1")
    doc.validate()  # raises SpecError on any violation


def test_an_invalid_spec_is_rejected_with_the_file_named(tmp_path) -> None:
    broken = tmp_path / "segmind-finetune.yaml"
    broken.write_text("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"segmind-finetune\.yaml"):
        load_document(broken).validate()


def test_a_missing_spec_file_is_named(tmp_path) -> None:
    with pytest.raises(SpecError, match="missing spec files"):
        load_specs(tmp_path)


@pytest.mark.parametrize("family", FAMILIES)
def test_schemathesis_loads_each_file(bundle: SpecBundle, family: str) -> None:
    schema = schemathesis.openapi.from_path(str(bundle.documents[family].path))
    ids = {result.ok().definition.raw.get("operationId") for result in schema.get_all_operations()}
    assert ids == {op.operation_id for op in bundle.operations if op.family == family}


def test_every_operation_has_an_x_source(bundle: SpecBundle) -> None:
    missing = [op.operation_id for op in bundle.operations if not op.sources]
    assert missing == []
    assert [w.name for w in bundle.webhooks if not w.sources] == []


def test_operation_ids_are_unique_across_families(bundle: SpecBundle) -> None:
    ids = [op.operation_id for op in bundle.operations]
    assert len(ids) == len(set(ids))


def test_every_x_inferred_gives_a_reason(bundle: SpecBundle) -> None:
    decisions = list(inferred_decisions(bundle))
    assert decisions, "the contract has guesses; they must be marked"
    vague = [d.pointer for d in decisions if len(d.reason.split()) < 4]
    assert vague == [], "a reason is a sentence saying why, not a flag"


def test_inferred_enum_values_are_part_of_their_enum(bundle: SpecBundle) -> None:
    for doc in bundle.documents.values():
        for pointer, node in walk(doc.raw):
            if isinstance(node, dict) and "x-inferred-values" in node:
                assert "x-inferred" in node, pointer
                assert set(node["x-inferred-values"]) <= set(node.get("enum", [])), pointer


def test_only_local_refs_so_each_file_stands_alone(bundle: SpecBundle) -> None:
    for doc in bundle.documents.values():
        for pointer, node in walk(doc.raw):
            if isinstance(node, dict) and isinstance(node.get("$ref"), str):
                assert node["$ref"].startswith("#/"), f"{doc.name}{pointer}"
                doc.resolve(node["$ref"])  # resolves, or KeyError
