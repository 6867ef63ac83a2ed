"""JSON Schema validators over spec schemas, with `$ref`s resolved inside their own document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

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


def first_problem(validator: Draft202012Validator, instance: Any) -> str | None:
    """The most relevant way `instance` fails (with where), or None when it is valid."""
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    while error.validator in ("oneOf", "anyOf") and error.context:
        # no branch fits: explain the branch that came closest (fewest errors), which is
        # the one the discriminator picked when the value names its branch
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        closest = min(branches.values(), key=len)
        error = best_match(closest) or closest[0]
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message
