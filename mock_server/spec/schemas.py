"""JSON Schema validators over spec schemas, with `$ref`s resolved inside their own document."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jsonschema_rs
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


def _recursive(doc: SpecDocument, node: Any, seen: tuple[str, ...]) -> bool:
    """True when following local `$ref`s from `node` comes back to a ref already on the way."""
    if isinstance(node, list):
        return any(_recursive(doc, item, seen) for item in node)
    if not isinstance(node, Mapping):
        return False
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        if ref in seen:
            return True
        try:
            target = doc.resolve(ref)
        except (KeyError, IndexError, ValueError, TypeError):
            target = None
        if _recursive(doc, target, (*seen, ref)):
            return True
    return any(_recursive(doc, value, seen) for key, value in node.items() if key != "$ref")


def _python_format(checker: FormatChecker, name: str) -> Callable[[str], bool]:
    return lambda value: checker.conforms(value, name)


class QuickCheck:
    """The same schema compiled by jsonschema-rs, to answer "valid?" in compiled code instead
    of `jsonschema`'s interpreted walk of the schema (most requests are valid, and for them
    the answer is all that is needed).

    It only ever lets a value through: whatever it does not call valid goes to the `jsonschema`
    validator, which alone writes the errors. So where the two disagree, the answer is still
    `jsonschema`'s, as long as jsonschema-rs is never *more* lenient. To that end the formats
    `jsonschema` checks are checked by the very same `FormatChecker` functions, and any value
    jsonschema-rs cannot take (an integer past 64 bits) counts as "not known valid".
    A recursive schema is left to `jsonschema` alone: jsonschema-rs follows any depth, where
    `jsonschema` stops with a RecursionError that the edge answers as "nested too deeply"
    (a bound the handlers rely on)."""

    def __init__(self, doc: SpecDocument, schema: Mapping[str, Any]) -> None:
        checker = FormatChecker()
        self._validator: Any = None
        if _recursive(doc, schema, ()):
            return
        try:
            self._validator = jsonschema_rs.Draft202012Validator(
                _rebase(dict(schema), doc.uri),
                registry=doc.rs_registry,
                validate_formats=True,
                formats={name: _python_format(checker, name) for name in checker.checkers},
            )
        except Exception:  # a schema it cannot compile: every value goes to jsonschema
            self._validator = None

    def holds(self, instance: Any) -> bool:
        """True only when `instance` is valid; False when it is not, or unknown."""
        if self._validator is None:
            return False
        try:
            return bool(self._validator.is_valid(instance))
        except Exception:  # a value it cannot convert (huge ints, non-JSON types)
            return False


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
