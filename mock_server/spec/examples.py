"""The doc examples kept in the specs, and whether each one holds against its own schema."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.spec.index import HTTP_METHODS, SpecBundle
from mock_server.spec.loader import SpecDocument
from mock_server.spec.schemas import schema_validator
from mock_server.spec.walk import describe, escape


@dataclass(frozen=True)
class SpecExample:
    """One named example of one media type (request body, response body or webhook payload)."""

    family: str
    pointer: str  # of the media type object
    name: str
    media_type: str
    value: Any = field(repr=False)
    raw: bool  # value is the raw body text (x-raw), not a JSON value
    negative: str | None  # why the doc's own example is broken, when it is
    sources: tuple[str, ...]
    schema: Mapping[str, Any] | None = field(repr=False)

    @property
    def where(self) -> str:
        return f"{describe(self.pointer)} [{self.media_type}] example {self.name!r}"


def _media_types(doc: SpecDocument) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(pointer, media type, media object) for every request/response/webhook body."""

    def of_operation(op_ptr: str, op: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
        body = op.get("requestBody") or {}
        for ct, media in (body.get("content") or {}).items():
            yield f"{op_ptr}/requestBody/content/{escape(ct)}", ct, media
        for status, resp in (op.get("responses") or {}).items():
            for ct, media in (resp.get("content") or {}).items():
                yield f"{op_ptr}/responses/{status}/content/{escape(ct)}", ct, media

    for section in ("paths", "webhooks"):
        for key, item in (doc.raw.get(section) or {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    yield from of_operation(f"#/{section}/{escape(key)}/{method}", item[method])
    for name, resp in ((doc.raw.get("components") or {}).get("responses") or {}).items():
        for ct, media in (resp.get("content") or {}).items():
            yield f"#/components/responses/{escape(name)}/content/{escape(ct)}", ct, media


def spec_examples(bundle: SpecBundle) -> Iterator[SpecExample]:
    """Every named example (`examples:` map) in every spec."""
    for doc in bundle.documents.values():
        for pointer, ct, media in _media_types(doc):
            for name, ex in (media.get("examples") or {}).items():
                if "$ref" in ex:
                    ex = doc.resolve(ex["$ref"])
                if "value" not in ex:
                    continue
                yield SpecExample(
                    family=doc.name,
                    pointer=pointer,
                    name=name,
                    media_type=ct,
                    value=ex["value"],
                    raw=bool(ex.get("x-raw")),
                    negative=ex.get("x-negative"),
                    sources=tuple(ex.get("x-source") or ()),
                    schema=media.get("schema"),
                )


def example_problems(bundle: SpecBundle, example: SpecExample) -> list[str]:
    """Why `example` does not validate against its schema (empty list: it does).

    A raw example is first parsed as JSON for JSON media types; a parse failure is a problem
    like any schema violation, so a broken doc sample shows up here with its reason.
    """
    value = example.value
    if example.raw and "json" in example.media_type:
        try:
            value = json.loads(value)
        except (TypeError, ValueError) as exc:
            return [f"not valid JSON: {exc}"]
    if example.schema is None:
        return []
    doc = bundle.documents[example.family]
    validator = schema_validator(doc, example.schema)
    return [
        f"{'/'.join(map(str, err.absolute_path)) or '(body)'}: {err.message}"
        for err in validator.iter_errors(value)
    ]
