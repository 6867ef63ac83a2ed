"""Each operation's request rules compiled once from its spec: parameter and body schema checks,
text-to-type coercion for forms and parameters, and failures as `{path, rule, pointer, message}`."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import ValidationError

from mock_server.spec import Operation, SpecDocument
from mock_server.spec.schemas import QuickCheck, schema_validator
from mock_server.spec.walk import escape

Detail = dict[str, Any]

FORM_MEDIA_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

#: What stands in for an uploaded file when a binary field is checked against its schema.
FILE_PLACEHOLDER = "(uploaded file)"

_MAX_MESSAGE = 300  # jsonschema messages embed the value's repr, which may be megabytes long
_MAX_HOPS = 32  # bound on $ref/allOf chains, so a cyclic spec cannot hang compilation
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def is_json(media_type: str | None) -> bool:
    return media_type is not None and (
        media_type == "application/json" or media_type.endswith("+json")
    )


def _fragment(ref: str) -> str:
    """`#/...` of a `$ref` (also once schema_validator rebased it) or of a bare schema name."""
    return ref[ref.index("#") :] if "#" in ref else f"#/components/schemas/{ref}"


def deref(doc: SpecDocument, pointer: str, node: Any) -> tuple[str, Any]:
    """Follow `$ref`s from `node` (found at `pointer`) to the node they finally name."""
    for _ in range(_MAX_HOPS):
        if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
            break
        pointer = _fragment(node["$ref"])
        node = doc.resolve(pointer)
    return pointer, node


def _schema_parts(doc: SpecDocument, schema: Any) -> Iterator[Mapping[str, Any]]:
    """A schema and the schemas it is made of through `$ref` and `allOf`, breadth first."""
    queue = [schema]
    for _ in range(_MAX_HOPS):
        if not queue:
            return
        node = queue.pop(0)
        if not isinstance(node, Mapping):
            continue
        yield node
        if isinstance(node.get("$ref"), str):
            queue.append(doc.resolve(_fragment(node["$ref"])))
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


def _sort_key(path: Iterable[Any]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path)


def dotted(path: Iterable[Any]) -> str:
    """`advance_parameters.iterations`, `data_urls[0]`; `(body)` for the body itself."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _discriminator(error: ValidationError) -> Mapping[str, Any] | None:
    if error.validator not in ("oneOf", "anyOf") or not isinstance(error.schema, Mapping):
        return None
    found = error.schema.get("discriminator")
    return found if isinstance(found, Mapping) and "propertyName" in found else None


def _mapping(branches: Sequence[Any], discriminator: Mapping[str, Any]) -> dict[str, str]:
    """Discriminator value -> `#/...` of its branch; OpenAPI's implicit names when unmapped."""
    explicit = discriminator.get("mapping")
    if isinstance(explicit, Mapping):
        return {str(k): _fragment(str(v)) for k, v in explicit.items()}
    refs = [_fragment(b["$ref"]) for b in branches if isinstance(b, Mapping) and "$ref" in b]
    return {ref.rsplit("/", 1)[-1]: ref for ref in refs}


def _branch_index(branches: Sequence[Any], target: str) -> int | None:
    for index, branch in enumerate(branches):
        if isinstance(branch, Mapping) and _fragment(str(branch.get("$ref", ""))) == target:
            return index
    return None


def _missing_property(error: ValidationError) -> list[str]:
    """The property a `required` error is about, so its path names the field, not its parent."""
    if error.validator != "required" or not isinstance(error.validator_value, list):
        return []
    named = [p for p in error.validator_value if error.message == f"{p!r} is a required property"]
    return [str(named[0])] if named else []


def _message(error: ValidationError) -> str:
    """jsonschema's message, or for a `contains` of listed values one naming them (its own
    says only "does not contain items matching the given schema")."""
    wanted = error.validator_value
    if error.validator != "contains" or not isinstance(wanted, Mapping):
        return str(error.message)
    values = wanted.get("enum", [wanted["const"]] if "const" in wanted else None)
    if not isinstance(values, list):
        return str(error.message)
    why = f" ({wanted['description']})" if isinstance(wanted.get("description"), str) else ""
    return f"{error.instance!r} holds none of {values!r}{why}"


class SchemaCheck:
    """One schema of one spec, compiled once; `problems()` lists every way a value fails it."""

    def __init__(
        self, doc: SpecDocument, pointer: str, schema: Mapping[str, Any], prefix: Sequence[str] = ()
    ) -> None:
        self._doc = doc
        self._pointer = pointer
        self._schema = schema
        self._prefix = tuple(prefix)
        self._validator = schema_validator(doc, schema)
        self._quick = QuickCheck(doc, schema)

    @property
    def pointer(self) -> str:
        """Where the schema sits: the spec file and the pointer in it."""
        return f"{self._doc.path.name}{self._pointer}"

    def problems(self, instance: Any) -> list[Detail]:
        """Every failure, sorted by where it sits in the value. May raise RecursionError."""
        if self._quick.holds(instance):  # most requests are valid: skip the slow validator
            return []
        errors = self._validator.iter_errors(instance)
        found = [pair for error in errors for pair in self._explain(error)]
        found.sort(key=lambda pair: pair[0])
        return [detail for _, detail in found]

    def _explain(self, error: ValidationError) -> Iterator[tuple[Any, Detail]]:
        """Details of one error; a discriminated oneOf answers with its chosen branch's errors."""
        discriminator = _discriminator(error)
        if discriminator is None or not isinstance(error.instance, Mapping):
            yield self._as_is(error)
            return
        prop = str(discriminator["propertyName"])
        mapping = _mapping(error.validator_value, discriminator)
        at = self._keyword_pointer(error.absolute_schema_path).rsplit("/", 1)[0] + "/discriminator"
        if prop not in error.instance:
            message = f"{prop!r} is a required property (one of {', '.join(mapping)})"
            yield self._detail(
                [*error.absolute_path, prop], "required", message, f"{at}/propertyName"
            )
            return
        value = error.instance[prop]
        target = mapping.get(value) if isinstance(value, str) else None
        if target is None:
            message = f"{value!r} is not one of {list(mapping)!r}"
            yield self._detail([*error.absolute_path, prop], "enum", message, f"{at}/mapping")
            return
        index = _branch_index(error.validator_value, target)
        if index is None:  # the mapping names a schema that is not one of the branches
            yield self._as_is(error)
            return
        # No errors from the chosen branch means it holds: oneOf only failed because another
        # branch matched too, and the discriminator settles that.
        for sub in error.context or ():
            if sub.relative_schema_path[0] == index:
                yield from self._explain(sub)

    def _as_is(self, error: ValidationError) -> tuple[Any, Detail]:
        pointer = self._keyword_pointer(error.absolute_schema_path)
        path = [*error.absolute_path, *_missing_property(error)]
        return self._detail(path, str(error.validator), _message(error), pointer)

    def _detail(
        self, path: Iterable[Any], rule: str, message: str, pointer: str
    ) -> tuple[Any, Detail]:
        full = [*self._prefix, *path]
        return _sort_key(full), {
            "path": dotted(full),
            "rule": rule,
            "pointer": f"{self._doc.path.name}{pointer}",
            "message": _short(message),
        }

    def _keyword_pointer(self, schema_path: Iterable[Any]) -> str:
        """Where the failing keyword sits in the spec: the schema path walked from the start,
        through each `$ref` it crosses (jsonschema leaves `$ref` out of schema paths)."""
        pointer = self._pointer
        node: Any = self._schema
        for step in schema_path:
            key = str(step)
            for _ in range(_MAX_HOPS):
                if not isinstance(node, Mapping) or key in node or "$ref" not in node:
                    break
                pointer = _fragment(str(node["$ref"]))
                node = self._resolve(pointer)
            if isinstance(node, Mapping):
                node = node.get(key)
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                node = None
            pointer = f"{pointer}/{escape(key)}"
        return pointer

    def _resolve(self, pointer: str) -> Any:
        try:
            return self._doc.resolve(pointer)
        except (KeyError, IndexError, ValueError, TypeError):
            return None  # best effort: the pointer still names the right file and schema


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
