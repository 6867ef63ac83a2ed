"""Walk a spec tree and name places in it the way a reader of the docs would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mock_server.spec.index import HTTP_METHODS

# Keys that only give a schema its structure; dropped from human-readable locations.
_STRUCTURAL = {
    "properties",
    "items",
    "schema",
    "content",
    "allOf",
    "anyOf",
    "oneOf",
    "requestBody",
    "responses",
    "paths",
    "components",
    "schemas",
    "parameters",
    "headers",
    "post",
    "application/json",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    "text/plain",
    "$defs",
    "mapping",
    "webhooks",
}


def unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def walk(node: Any, pointer: str = "#") -> Iterator[tuple[str, Any]]:
    """Every (JSON pointer, node) pair of a tree, parents before children."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{pointer}/{escape(str(key))}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{pointer}/{i}")


def describe(pointer: str, node_name: str | None = None) -> str:
    """A short label for a pointer: `POST /finetune/request/submit > advance_parameters.steps`."""
    parts = [unescape(p) for p in pointer.lstrip("#").strip("/").split("/") if p]
    head = ""
    rest = parts
    if len(parts) >= 3 and parts[0] == "paths" and parts[2] in HTTP_METHODS:
        head = f"{parts[2].upper()} {parts[1]}"
        rest = parts[3:]
    elif len(parts) >= 2 and parts[0] == "paths":
        head = parts[1]
        rest = parts[2:]
    elif len(parts) >= 2 and parts[0] == "webhooks":
        head = f"webhook {parts[1]}"
        rest = parts[2:]
    elif len(parts) >= 3 and parts[0] == "components":
        head = f"{parts[1].rstrip('s')} {parts[2]}"
        rest = parts[3:]
    tail = [p for p in rest if p not in _STRUCTURAL and not p.isdigit()]
    label = ".".join(tail)
    if head and label:
        return f"{head} > {label}"
    return head or label or (node_name or "(document)")
