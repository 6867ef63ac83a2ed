"""Find, load and validate the OpenAPI files in `openapi/` (one per API family)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mock_server.errors import SpecError
from mock_server.spec.parsed import load_yaml

#: Env var that points the loader at another folder of specs (e.g. a user's fork).
SPEC_DIR_ENV = "TUNEMOCK_SPEC_DIR"

#: The vendor API families, in the order tables list them. A family is one file `<name>.yaml`.
VENDOR_FAMILIES: tuple[str, ...] = (
    "segmind-finetune",
    "segmind-inference",
    "segmind-platform",
    "lora-trainer",
)
#: tunemock's own admin surface (/_mock), described and validated the same way.
ADMIN_FAMILY = "mock-admin"
FAMILIES: tuple[str, ...] = (*VENDOR_FAMILIES, ADMIN_FAMILY)


def default_spec_dir() -> Path:
    """The folder the specs are read from: env override, source checkout, or the wheel's copy."""
    override = os.environ.get(SPEC_DIR_ENV)
    if override:
        return Path(override)
    package_dir = Path(__file__).resolve().parent.parent
    checkout = package_dir.parent / "openapi"
    if (checkout / f"{FAMILIES[0]}.yaml").is_file():
        return checkout
    return package_dir / "_openapi"


_MISSING = object()


@dataclass(frozen=True)
class SpecDocument:
    """One loaded OpenAPI file: its family name, where it came from, and its raw tree."""

    name: str
    path: Path
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def uri(self) -> str:
        """Base URI under which `$ref`s of this document resolve."""
        return f"urn:tunemock:spec:{self.name}"

    @cached_property
    def registry(self) -> Registry[Any]:
        """A `referencing` registry holding this document, for JSON Schema validators."""
        resource: Resource[Any] = Resource.from_contents(
            dict(self.raw), default_specification=DRAFT202012
        )
        registry: Registry[Any] = Registry().with_resource(self.uri, resource)
        return registry

    @cached_property
    def rs_registry(self) -> jsonschema_rs.Registry:
        """The same for jsonschema-rs (`schemas.QuickCheck`), built once per document."""
        return jsonschema_rs.Registry([(self.uri, dict(self.raw))])

    @cached_property
    def _resolved(self) -> dict[str, Any]:
        return {}

    @cached_property
    def derived(self) -> dict[Any, Any]:
        """What other modules work out from the (read-only) document once, under keys of
        their own (spec.defaults: a plan per schema); it lives as long as the document."""
        return {}

    def resolve(self, pointer: str) -> Any:
        """The node at a JSON pointer (`#/components/schemas/X`) inside this document
        (remembered: the document is read-only, and submit resolves dozens of $refs)."""
        found = self._resolved.get(pointer, _MISSING)
        if found is _MISSING:
            found = self._resolved[pointer] = self._walk(pointer)
        return found

    def _walk(self, pointer: str) -> Any:
        node: Any = self.raw
        for part in pointer.lstrip("#").strip("/").split("/"):
            if not part:
                continue
            key = part.replace("~1", "/").replace("~0", "~")
            node = node[int(key)] if isinstance(node, list) else node[key]
        return node

    def validate(self) -> None:
        """Raise SpecError unless openapi-spec-validator accepts the file."""
        # imported here: it pulls pydantic and requests, slow to import, and only `tunemock spec`
        # and the tests call this; serving reads the specs without it
        from openapi_spec_validator import validate as validate_openapi

        try:
            validate_openapi(dict(self.raw), base_uri=self.path.resolve().as_uri())
        except Exception as exc:  # the validator raises several unrelated types
            raise SpecError(f"{self.path.name}: {exc}") from exc


def load_document(path: Path) -> SpecDocument:
    """Parse one spec file; raise SpecError on unreadable or non-mapping YAML."""
    try:
        raw = load_yaml(path)  # read at every start: parsed once per content
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot load {path}: {exc}") from exc
    if not isinstance(raw, dict) or "openapi" not in raw:
        raise SpecError(f"{path} is not an OpenAPI document")
    return SpecDocument(name=path.stem, path=path, raw=raw)


def load_documents(spec_dir: Path | None = None) -> dict[str, SpecDocument]:
    """Load every family's file from `spec_dir` (default: `default_spec_dir()`)."""
    folder = spec_dir or default_spec_dir()
    missing = [name for name in FAMILIES if not (folder / f"{name}.yaml").is_file()]
    if missing:
        raise SpecError(f"{folder}: missing spec files {', '.join(missing)}")
    return {name: load_document(folder / f"{name}.yaml") for name in FAMILIES}
