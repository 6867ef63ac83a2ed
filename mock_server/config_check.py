"""The settings checked against one schema (openapi/tunemock-config.schema.yaml) at start: an
unknown name, a wrong type or an out-of-range value is one line naming it, and for a name the
closest valid one, instead of a server that starts and then fails every request."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from mock_server.errors import ConfigError
from mock_server.spec.loader import default_spec_dir
from mock_server.spec.parsed import load_yaml

SCHEMA_FILE = "tunemock-config.schema.yaml"


@functools.cache
def config_schema() -> Mapping[str, Any]:
    """The schema, read once (beside the shipped specs: it describes the tool, not an API)."""
    path = default_spec_dir() / SCHEMA_FILE
    loaded: Mapping[str, Any] = load_yaml(path)
    return loaded


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(config_schema(), format_checker=FormatChecker())


def closest(name: str, valid: Iterable[str]) -> str:
    """` (did you mean 'x'?)` with the valid name closest to `name`."""
    found = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.0)
    return f" (did you mean {found[0]!r}?)" if found else ""


def jsonable(value: Any) -> Any:
    """A setting's value as the schema sees it: paths as text, tuples as lists."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def _where(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path)


def _branch(error: ValidationError) -> ValidationError:
    """For a oneOf no branch of which fits: the closest branch's error (one whose type
    matched, so the message is about what is inside), else the error itself."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        inside = [e for e in error.context if not (e.validator == "type" and not e.path)]
        if not inside:
            return error
        error = best_match(inside) or inside[0]
    return error


def explain(error: ValidationError) -> str:
    """One line: where, what is wrong, and for an unknown name the closest valid one."""
    error = _branch(error)
    where = _where(error)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = list(
            (error.schema.get("properties") or {}) if isinstance(error.schema, Mapping) else ()
        )
        unknown = [str(k) for k in error.instance if k not in allowed]
        if unknown:
            inside = f"{where}: " if where else ""
            return f"{inside}unknown setting {unknown[0]!r}{closest(unknown[0], allowed)}"
    return f"{where}: {error.message}" if where else str(error.message)


def check_document(document: Mapping[str, Any], source: str) -> None:
    """ConfigError (one line, prefixed with `source`) unless `document` fits the schema."""
    error = best_match(_validator().iter_errors(jsonable(document)))
    if error is not None:
        raise ConfigError(f"{source}: {explain(error)}")


def check_groups(
    rate_limits: Mapping[str, Any],
    key_settings: Mapping[str, Mapping[str, Any]],
    groups: Iterable[str],
) -> None:
    """ConfigError when a rate limit or a key's `forbidden` list names a group that is no
    operationId, API family or "*" (it would silently limit or forbid nothing)."""
    valid = {*groups, "*"}
    named = [("rate_limits", group) for group in rate_limits]
    named += [
        (f"keys.{key}.forbidden", str(group))
        for key, settings in key_settings.items()
        for group in (settings.get("forbidden") or ())
    ]
    for where, group in named:
        if group not in valid:
            raise ConfigError(
                f"{where}: unknown group {group!r}{closest(group, valid)}; a group is an "
                'operationId, an API family or "*"'
            )
