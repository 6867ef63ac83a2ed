"""spec.defaults: the plan worked out once per schema fills exactly what a walk of the schema
fills (the walk below is the function as it was before plans), on every doc example of the
contract's bodies with each field dropped in turn; and its result shares nothing mutable
with the body or the spec."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from mock_server.spec import load_specs
from mock_server.spec.defaults import _deref, apply_defaults, branch_for
from mock_server.spec.examples import SpecExample, spec_examples
from mock_server.spec.loader import SpecDocument, load_document

BUNDLE = load_specs()


def walked(doc: SpecDocument, schema: Mapping[str, Any], value: Any) -> Any:
    """The reference: the schema walked afresh on every call."""
    schema = branch_for(doc, schema, value)
    if not isinstance(value, Mapping):
        return copy.deepcopy(value)
    out = {k: copy.deepcopy(v) for k, v in value.items()}
    parts = [schema, *(_deref(doc, p) for p in schema.get("allOf", []))]
    properties = {n: p for part in parts for n, p in (part.get("properties") or {}).items()}
    for name, declared in properties.items():
        prop = _deref(doc, declared)
        default = declared.get("default", prop.get("default"))
        if name not in out and default is not None:
            out[name] = copy.deepcopy(default)
        if name in out and isinstance(out[name], Mapping):
            out[name] = walked(doc, prop, out[name])
    for name, declared in properties.items():
        by = _deref(doc, declared).get("x-default-by")
        if name not in out and by and out.get(by["property"]) in by["values"]:
            out[name] = by["values"][out[by["property"]]]
    return out


def _bodies() -> Iterator[SpecExample]:
    for example in spec_examples(BUNDLE):
        if (
            example.schema is not None
            and "/requestBody/" in example.pointer
            and not example.raw
            and example.negative is None
            and isinstance(example.value, Mapping)
        ):
            yield example


def _dropped(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, Mapping):
        for key in value:
            yield {k: v for k, v in value.items() if k != key}


BODIES = list(_bodies())


def test_there_are_bodies_with_defaults_to_fill() -> None:
    filled = [
        e
        for e in BODIES
        for v in _dropped(e.value)
        if walked(BUNDLE.documents[e.family], e.schema, v) != v
    ]
    assert len(filled) >= 5  # the comparison below compares fillings, not copies only


@pytest.mark.parametrize("example", BODIES, ids=lambda e: f"{e.family}:{e.where}")
def test_the_plan_fills_what_the_walk_fills(example: SpecExample) -> None:
    doc = BUNDLE.documents[example.family]
    for value in _dropped(example.value):
        expected = walked(doc, example.schema, value)
        assert apply_defaults(doc, example.schema, value) == expected
        assert apply_defaults(doc, example.schema, value) == expected  # the kept plan, again


OWN = """
openapi: 3.1.0
components:
  schemas:
    Body:
      type: object
      properties:
        tags: {type: array, default: [a]}
        inner: {$ref: '#/components/schemas/Inner'}
    Inner:
      type: object
      properties:
        sizes: {type: object, default: {w: 1}}
"""


def _mutate_all(value: Any) -> None:
    if isinstance(value, dict):
        for inner in value.values():
            _mutate_all(inner)
        value["changed"] = True
    elif isinstance(value, list):
        for inner in value:
            _mutate_all(inner)
        value.append("changed")


def test_the_result_shares_nothing_mutable(tmp_path: Path) -> None:
    (tmp_path / "own.yaml").write_text(OWN)
    doc = load_document(tmp_path / "own.yaml")
    schema = {"$ref": "#/components/schemas/Body"}
    body = {"inner": {"deep": [{"x": [1]}]}, "more": [[1], {"y": 2}]}
    before = json.loads(json.dumps(body))
    first = apply_defaults(doc, schema, body)
    assert first["tags"] == ["a"] and first["inner"]["sizes"] == {"w": 1}
    _mutate_all(first)
    assert body == before  # the body's parts were copied
    again = apply_defaults(doc, schema, body)
    assert again == walked(doc, schema, before)
    assert again["tags"] == ["a"] and again["inner"]["sizes"] == {"w": 1}  # and the spec's
