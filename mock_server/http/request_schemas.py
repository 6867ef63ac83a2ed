"""Each operation's request rules compiled once from its spec: its parameters, its body's media
types, their schema checks (schema_check.py) and the text-to-type coercion of forms and
parameters."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mock_server.http.schema_check import MAX_HOPS, Detail, SchemaCheck, fragment
from mock_server.spec import Operation, SpecDocument
from mock_server.spec.walk import escape

FORM_MEDIA_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

#: What stands in for an uploaded file when a binary field is checked against its schema.
FILE_PLACEHOLDER = "(uploaded file)"

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def is_json(media_type: str | None) -> bool:
    return media_type is not None and (
        media_type == "application/json" or media_type.endswith("+json")
    )


def deref(doc: SpecDocument, pointer: str, node: Any) -> tuple[str, Any]:
    """Follow `$ref`s from `node` (found at `pointer`) to the node they finally name."""
    for _ in range(MAX_HOPS):
        if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
            break
        pointer = fragment(node["$ref"])
        node = doc.resolve(pointer)
    return pointer, node


def _schema_parts(doc: SpecDocument, schema: Any) -> Iterator[Mapping[str, Any]]:
    """A schema and the schemas it is made of through `$ref` and `allOf`, breadth first."""
    queue = [schema]
    for _ in range(MAX_HOPS):
        if not queue:
            return
        node = queue.pop(0)
        if not isinstance(node, Mapping):
            continue
        yield node
        if isinstance(node.get("$ref"), str):
            queue.append(doc.resolve(fragment(node["$ref"])))
        queue.extend(node.get("allOf") or ())


def _keyword(doc: SpecDocument, schema: Any, key: str) -> Any:
    return next((part[key] for part in _schema_parts(doc, schema) if key in part), None)


def _types(declared: Any) -> frozenset[str]:
    if isinstance(declared, str):
        return frozenset({declared})
    return frozenset(str(t) for t in declared) if isinstance(declared, list) else frozenset()


def coerce_text(types: frozenset[str], text: str) -> Any:
    """`text` as the integer, number or boolean its schema asks for; unchanged when it does not
    read as one (or the schema also allows a string), so the schema check reports it."""
    if not types or "string" in types:
        return text
    try:
        if types & {"integer", "number"} and _INTEGER.fullmatch(text):
            return int(text)
        if "number" in types and _NUMBER.fullmatch(text) and math.isfinite(float(text)):
            return float(text)
    except ValueError:  # more digits than int() converts
        return text
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


@dataclass(frozen=True)
class FieldShape:
    """What one form field or parameter holds: its JSON types (of each item, for arrays)."""

    types: frozenset[str] = frozenset()
    array: bool = False
    binary: bool = False  # an uploaded file is expected (format binary or contentMediaType)

    def read(self, value: Any) -> tuple[Any, Any]:
        """(value for the handler, value for the schema check) of one received value."""
        if isinstance(value, str):
            coerced = coerce_text(self.types, value)
            return coerced, coerced
        # An uploaded file: a binary field only needs it present; any other field is text, and
        # an object in its place makes the schema report the mismatch at the right keyword.
        if self.binary:
            return value, FILE_PLACEHOLDER
        return value, {"uploaded_file": getattr(value, "filename", None)}


#: Fields a form schema does not declare: kept as sent, files accepted.
_UNDECLARED = FieldShape(binary=True)


def _is_binary(doc: SpecDocument, schema: Any) -> bool:
    return any(
        part.get("format") == "binary" or "contentMediaType" in part
        for part in _schema_parts(doc, schema)
    )


def field_shape(doc: SpecDocument, schema: Any) -> FieldShape:
    types = _types(_keyword(doc, schema, "type"))
    if "array" in types:
        items = _keyword(doc, schema, "items") or {}
        return FieldShape(_types(_keyword(doc, items, "type")), True, _is_binary(doc, items))
    return FieldShape(types, False, _is_binary(doc, schema))


@dataclass(frozen=True)
class ParamPlan:
    """One declared parameter: where it comes from, its shape and its compiled schema."""

    name: str
    location: str  # query, path, header or cookie
    required: bool
    pointer: str  # the spec file and the parameter object in it
    shape: FieldShape
    split_commas: bool  # style simple, or form without explode: `a,b,c`
    check: SchemaCheck | None

    def read(self, values: Sequence[str]) -> tuple[Any, list[Detail]]:
        """The coerced value (None when absent) and what is wrong with it."""
        if not values:
            if not self.required:
                return None, []
            return None, [
                {
                    "path": f"{self.location}.{self.name}",
                    "rule": "required",
                    "pointer": f"{self.pointer}/required",
                    "message": f"Missing required {self.location} parameter {self.name}",
                }
            ]
        if self.shape.array:
            items = [p for v in values for p in v.split(",")] if self.split_commas else values
            value: Any = [self.shape.read(item)[0] for item in items]
            return value, self.check.problems(value) if self.check else []
        value = self.shape.read(values[-1])[0]
        return value, self.check.problems(value) if self.check else []


@dataclass(frozen=True)
class MediaPlan:
    """One declared request media type: its schema check and, for forms, its fields' shapes."""

    media_type: str
    check: SchemaCheck | None
    fields: Mapping[str, FieldShape] = field(default_factory=dict)

    def form_values(
        self, items: Iterable[tuple[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(body for the handler, instance for the schema check) of a parsed form's items."""
        grouped: dict[str, list[Any]] = {}
        for key, value in items:
            grouped.setdefault(key, []).append(value)
        body: dict[str, Any] = {}
        instance: dict[str, Any] = {}
        for key, values in grouped.items():
            shape = self.fields.get(key, _UNDECLARED)
            # A repeated field that is not an array keeps its last value, as Starlette's form does.
            pairs = [shape.read(v) for v in (values if shape.array else values[-1:])]
            body[key] = [b for b, _ in pairs] if shape.array else pairs[0][0]
            instance[key] = [i for _, i in pairs] if shape.array else pairs[0][1]
        return body, instance


@dataclass(frozen=True)
class BodyPlan:
    required: bool
    media: Mapping[str, MediaPlan]  # by lower-case media type, as declared (may be `image/*`)

    @property
    def accepted(self) -> str:
        return " or ".join(plan.media_type for plan in self.media.values())

    def plan_for(self, media_type: str | None) -> MediaPlan | None:
        if media_type is None:
            return None
        wildcard = media_type.split("/", 1)[0] + "/*"
        return self.media.get(media_type) or self.media.get(wildcard) or self.media.get("*/*")


@dataclass(frozen=True)
class OperationPlan:
    body: BodyPlan | None
    params: tuple[ParamPlan, ...]


def _parameter_objects(doc: SpecDocument, operation: Operation) -> Iterator[tuple[str, Any]]:
    """(pointer, parameter) of the path item's and the operation's parameters; the operation's
    own win on (name, in), as OpenAPI says."""
    found: dict[tuple[str, str], tuple[str, Any]] = {}
    for base in (operation.pointer.rsplit("/", 1)[0], operation.pointer):
        for index, raw in enumerate(doc.resolve(base).get("parameters") or ()):
            pointer, param = deref(doc, f"{base}/parameters/{index}", raw)
            found[(str(param["name"]), str(param["in"]))] = (pointer, param)
    yield from found.values()


def _param_plan(doc: SpecDocument, pointer: str, param: Mapping[str, Any]) -> ParamPlan:
    name, location = str(param["name"]), str(param["in"])
    style = param.get("style", "form" if location in ("query", "cookie") else "simple")
    schema = param.get("schema")
    check = None
    if isinstance(schema, Mapping):
        check = SchemaCheck(doc, f"{pointer}/schema", schema, prefix=(location, name))
    return ParamPlan(
        name=name,
        location=location,
        required=bool(param.get("required")),
        pointer=f"{doc.path.name}{pointer}",
        shape=field_shape(doc, schema) if schema is not None else FieldShape(),
        split_commas=style != "form" or not param.get("explode", True),
        check=check,
    )


def _media_plan(doc: SpecDocument, pointer: str, media_type: str, media: Any) -> MediaPlan:
    schema = media.get("schema") if isinstance(media, Mapping) else None
    if not isinstance(schema, Mapping):
        return MediaPlan(media_type, None)
    check = SchemaCheck(doc, f"{pointer}/schema", schema)
    if media_type.lower() not in FORM_MEDIA_TYPES:
        return MediaPlan(media_type, check)
    fields: dict[str, FieldShape] = {}
    for part in _schema_parts(doc, schema):
        for name, prop in (part.get("properties") or {}).items():
            fields.setdefault(str(name), field_shape(doc, prop))
    return MediaPlan(media_type, check, fields)


def compile_operation(doc: SpecDocument, operation: Operation) -> OperationPlan:
    """Everything needed to check a request to `operation`, built once at start."""
    params = tuple(_param_plan(doc, p, o) for p, o in _parameter_objects(doc, operation))
    raw_body = operation.raw.get("requestBody")
    if raw_body is None:
        return OperationPlan(None, params)
    pointer, request_body = deref(doc, f"{operation.pointer}/requestBody", raw_body)
    media = {
        ct.split(";", 1)[0].strip().lower(): _media_plan(
            doc, f"{pointer}/content/{escape(ct)}", ct, obj
        )
        for ct, obj in (request_body.get("content") or {}).items()
    }
    return OperationPlan(BodyPlan(bool(request_body.get("required")), media), params)
