"""One schema of one spec compiled into a check that lists every way a value fails it, each
failure as `{path, rule, pointer, message}`: the field, the keyword, where the keyword sits
in the spec, and jsonschema's message (bounded)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from jsonschema.exceptions import ValidationError

from mock_server.spec import SpecDocument
from mock_server.spec.schemas import QuickCheck, schema_validator
from mock_server.spec.walk import escape

Detail = dict[str, Any]

MAX_HOPS = 32  # bound on $ref/allOf chains, so a cyclic spec cannot hang compilation
_MAX_MESSAGE = 300  # jsonschema messages embed the value's repr, which may be megabytes long


def fragment(ref: str) -> str:
    """`#/...` of a `$ref` (also once schema_validator rebased it) or of a bare schema name."""
    return ref[ref.index("#") :] if "#" in ref else f"#/components/schemas/{ref}"


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
        return {str(k): fragment(str(v)) for k, v in explicit.items()}
    refs = [fragment(b["$ref"]) for b in branches if isinstance(b, Mapping) and "$ref" in b]
    return {ref.rsplit("/", 1)[-1]: ref for ref in refs}


def _branch_index(branches: Sequence[Any], target: str) -> int | None:
    for index, branch in enumerate(branches):
        if isinstance(branch, Mapping) and fragment(str(branch.get("$ref", ""))) == target:
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
            for _ in range(MAX_HOPS):
                if not isinstance(node, Mapping) or key in node or "$ref" not in node:
                    break
                pointer = fragment(str(node["$ref"]))
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
