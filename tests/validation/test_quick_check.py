"""The fast validity check (jsonschema-rs) in front of `jsonschema` never lets through a value
that `jsonschema` rejects: every doc example of the real contract, and variations of each."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from mock_server.spec import SpecBundle, load_specs
from mock_server.spec.examples import SpecExample, spec_examples
from mock_server.spec.loader import load_document
from mock_server.spec.schemas import QuickCheck, schema_validator

TINY = Path(__file__).with_name("tiny-spec.yaml")
BUNDLE = load_specs()
REPLACEMENTS: tuple[Any, ...] = (None, 0, -1, 1.5, 2**70, "", "x", "not-a-date", True, [], {})


def _json_examples() -> Iterator[SpecExample]:
    for example in spec_examples(BUNDLE):
        if example.schema is not None and "json" in example.media_type:
            yield example


def _value(example: SpecExample) -> Any:
    if not example.raw:
        return example.value
    try:
        return json.loads(example.value)
    except (TypeError, ValueError):
        return example.value


def variations(value: Any) -> Iterator[Any]:
    """The value, then each top-level field dropped or swapped for a value of another type."""
    yield value
    if isinstance(value, Mapping):
        for key in value:
            yield {k: v for k, v in value.items() if k != key}
            for other in REPLACEMENTS:
                yield {**value, key: other}
        yield {**value, "undeclared_field": 1}
    for other in REPLACEMENTS:
        yield other


def _assert_agrees(bundle: SpecBundle, family: str, schema: Mapping[str, Any], value: Any) -> None:
    doc = bundle.documents[family]
    quick = QuickCheck(doc, schema)
    slow = schema_validator(doc, schema)
    for variant in variations(value):
        if quick.holds(variant):
            errors = [e.message for e in slow.iter_errors(variant)]
            assert errors == [], f"jsonschema-rs accepted {variant!r}; jsonschema: {errors}"


@pytest.mark.parametrize("example", list(_json_examples()), ids=lambda ex: ex.where)
def test_quick_check_accepts_nothing_jsonschema_rejects(example: SpecExample) -> None:
    assert example.schema is not None
    _assert_agrees(BUNDLE, example.family, example.schema, _value(example))


def test_quick_check_accepts_the_valid_doc_examples() -> None:
    # the point of it: valid bodies skip the slow validator
    valid = [
        ex
        for ex in _json_examples()
        if not ex.negative and not ex.raw and ex.family != "mock-admin" and ex.schema is not None
    ]
    assert valid
    for ex in valid:
        assert ex.schema is not None
        quick = QuickCheck(BUNDLE.documents[ex.family], ex.schema)
        slow_ok = not list(
            schema_validator(BUNDLE.documents[ex.family], ex.schema).iter_errors(ex.value)
        )
        assert quick.holds(ex.value) == slow_ok, ex.where


def test_a_recursive_schema_is_left_to_jsonschema() -> None:
    # jsonschema stops at a depth that the edge answers as "nested too deeply"; the quick
    # check must not wave such a value through
    doc = load_document(TINY)
    tree = {"$ref": "#/components/schemas/Tree"}
    assert "Tree" in doc.raw["components"]["schemas"]
    assert not QuickCheck(doc, tree).holds([])
