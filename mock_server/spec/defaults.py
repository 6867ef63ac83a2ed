"""Fill a validated body with the defaults its schema declares (the spec is the only source)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NamedTuple

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


class _Plan(NamedTuple):
    """What one (branch) schema asks of apply_defaults, worked out once per schema: walking
    the schema's $refs, allOf parts and properties on every submit was a large share of
    it."""

    # (name, its default or None, its schema) for every declared property, in order
    properties: tuple[tuple[str, Any, Mapping[str, Any]], ...]
    # (name, x-default-by) of the properties whose default depends on another field
    by: tuple[tuple[str, Mapping[str, Any]], ...]


def _plan(doc: SpecDocument, schema: Mapping[str, Any]) -> _Plan:
    key = ("defaults", id(schema))
    kept = doc.derived.get(key)
    if kept is not None and kept[0] is schema:  # the schema is kept: its id stays its own
        plan: _Plan = kept[1]
        return plan
    parts = [schema, *(_deref(doc, p) for p in schema.get("allOf", []))]
    declared = {n: p for part in parts for n, p in (part.get("properties") or {}).items()}
    properties = []
    by = []
    for name, prop_ref in declared.items():
        prop = _deref(doc, prop_ref)
        # a `default` may sit beside a `$ref` (OpenAPI 3.1), where it wins
        properties.append((name, prop_ref.get("default", prop.get("default")), prop))
        if prop.get("x-default-by"):
            by.append((name, prop["x-default-by"]))
    plan = _Plan(tuple(properties), tuple(by))
    doc.derived[key] = (schema, plan)
    return plan


_ATOMS = (str, int, float, bool, type(None))


def _copy(value: Any) -> Any:
    """copy.deepcopy for what JSON decodes to, without deepcopy's memo (bodies are JSON: no
    shared or cyclic parts for the memo to find, and keeping it is most of deepcopy's
    work); anything else goes to deepcopy."""
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


def apply_defaults(doc: SpecDocument, schema: Mapping[str, Any], value: Any) -> Any:
    """A copy of `value` with every absent property that declares a `default` filled in,
    recursively through objects (and `allOf` parts, and the discriminated branch)."""
    schema = branch_for(doc, schema, value)
    if not isinstance(value, Mapping):
        return _copy(value)
    out = {k: _copy(v) for k, v in value.items()}
    plan = _plan(doc, schema)
    for name, default, prop in plan.properties:
        if name not in out and default is not None:
            out[name] = _copy(default)
        if name in out and isinstance(out[name], Mapping):
            out[name] = apply_defaults(doc, prop, out[name])
    # defaults that depend on another field (x-default-by), once plain defaults are in
    for name, by in plan.by:
        if name not in out and out.get(by["property"]) in by["values"]:
            out[name] = by["values"][out[by["property"]]]
    return out
