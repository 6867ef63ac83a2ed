"""Fill a validated body with the defaults its schema declares (the spec is the only source)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from mock_server.spec.loader import SpecDocument


def _deref(doc: SpecDocument, schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = doc.resolve(schema["$ref"])
    return schema


def branch_for(doc: SpecDocument, schema: Mapping[str, Any], value: Any) -> Mapping[str, Any]:
    """The `oneOf` branch a discriminated body belongs to (the schema itself otherwise)."""
    schema = _deref(doc, schema)
    disc = schema.get("discriminator")
    if disc and isinstance(value, Mapping):
        target = disc.get("mapping", {}).get(value.get(disc["propertyName"]))
        if target:
            return _deref(doc, {"$ref": target})
    return schema


def apply_defaults(doc: SpecDocument, schema: Mapping[str, Any], value: Any) -> Any:
    """A copy of `value` with every absent property that declares a `default` filled in,
    recursively through objects (and `allOf` parts, and the discriminated branch)."""
    schema = branch_for(doc, schema, value)
    if not isinstance(value, Mapping):
        return copy.deepcopy(value)
    out = {k: copy.deepcopy(v) for k, v in value.items()}
    parts = [schema, *(_deref(doc, p) for p in schema.get("allOf", []))]
    properties = {n: p for part in parts for n, p in (part.get("properties") or {}).items()}
    for name, declared in properties.items():
        prop = _deref(doc, declared)
        # a `default` may sit beside a `$ref` (OpenAPI 3.1), where it wins
        default = declared.get("default", prop.get("default"))
        if name not in out and default is not None:
            out[name] = copy.deepcopy(default)
        if name in out and isinstance(out[name], Mapping):
            out[name] = apply_defaults(doc, prop, out[name])
    # defaults that depend on another field (x-default-by), once plain defaults are in
    for name, declared in properties.items():
        by = _deref(doc, declared).get("x-default-by")
        if name not in out and by and out.get(by["property"]) in by["values"]:
            out[name] = by["values"][out[by["property"]]]
    return out
