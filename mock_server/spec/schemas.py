"""JSON Schema validators over spec schemas, with `$ref`s resolved inside their own document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from mock_server.spec.loader import SpecDocument


def _rebase(node: Any, base: str) -> Any:
    """Copy of a schema whose local `$ref`s point into the document's registry entry."""
    if isinstance(node, dict):
        return {
            k: (
                f"{base}{v}"
                if k == "$ref" and isinstance(v, str) and v.startswith("#")
                else _rebase(v, base)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v, base) for v in node]
    return node


def schema_validator(doc: SpecDocument, schema: Mapping[str, Any]) -> Draft202012Validator:
    """A 2020-12 validator for `schema`, a node of `doc` (OpenAPI 3.1 schemas are 2020-12)."""
    return Draft202012Validator(
        _rebase(dict(schema), doc.uri),
        registry=doc.registry,
        format_checker=FormatChecker(),
    )
