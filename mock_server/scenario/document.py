"""A scenario document: parsed from YAML or JSON text and checked against the `Scenario`
schema of openapi/mock-admin.yaml (the same check for `--scenario FILE` and the admin API)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mock_server.errors import InvalidInput
from mock_server.spec import SpecBundle
from mock_server.spec.schemas import first_problem, schema_validator

ADMIN_FAMILY = "mock-admin"


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases (`*name`): a scenario never needs one, and a
    ~1 KB document of aliases nested a few deep ("billion laughs") expands to gigabytes
    when loaded, exported or validated. The pure-Python loader: the C one's composer
    cannot be told to refuse them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not accepted in a scenario", event.start_mark
            )
        return super().compose_node(parent, index)


def parse(text: str | bytes) -> Any:
    """YAML (without aliases) or JSON (JSON is YAML, but its own parser gives better errors
    on it); InvalidInput for either's problems, nesting too deep included."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"scenario: not UTF-8 text ({exc})") from exc
    try:
        if text.lstrip().startswith(("{", "[")):
            return json.loads(text)
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInput(f"scenario: not valid YAML or JSON ({exc})") from exc
    except RecursionError:  # both parsers recurse once per level of nesting
        raise InvalidInput("scenario: not valid YAML or JSON (nested too deeply)") from None


def checked(spec: SpecBundle, document: Any) -> Mapping[str, Any]:
    """The document, or InvalidInput with the first way it breaks the Scenario schema."""
    doc = spec.documents[ADMIN_FAMILY]
    schema = doc.resolve("#/components/schemas/Scenario")
    if document is None:
        document = {}
    try:
        problem = first_problem(schema_validator(doc, schema), document)
    except RecursionError:
        problem = "nested too deeply"
    if problem:
        raise InvalidInput(f"scenario: {problem}")
    assert isinstance(document, Mapping)
    return document


def read_file(spec: SpecBundle, path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"scenario {path}: {exc}") from exc
    return checked(spec, parse(text))
