"""Named checks, each answering one question about one answer and raising CheckFailure
with `Received: ... / Documented: ...`. Built-ins are listed in RESPONSE_CHECKS (nothing
registers itself by import)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from contracts.errors import CheckFailure
from mock_server.lifecycle import Lifecycle
from mock_server.spec import Operation, SpecBundle
from mock_server.spec.schemas import schema_validator

ResponseCheck = Callable[[SpecBundle, Operation, httpx.Response], None]


def _declared(bundle: SpecBundle, op: Operation, status: int) -> Mapping[str, Any] | None:
    responses: Mapping[str, Any] = op.raw.get("responses", {})
    found: Mapping[str, Any] | None = responses.get(str(status)) or responses.get(
        f"{str(status)[0]}XX"
    )
    if found is None:
        found = responses.get("default")
    if found and "$ref" in found:
        resolved: Mapping[str, Any] = bundle.documents[op.family].resolve(found["$ref"])
        return resolved
    return found


def not_a_server_error(bundle: SpecBundle, op: Operation, response: httpx.Response) -> None:
    if response.status_code >= 500 and str(response.status_code) not in op.raw["responses"]:
        raise CheckFailure(
            "not_a_server_error",
            f"{response.status_code} {response.text[:200]}",
            "no undocumented 5xx for any input",
        )


def status_code_documented(bundle: SpecBundle, op: Operation, response: httpx.Response) -> None:
    if _declared(bundle, op, response.status_code) is None:
        documented = ", ".join(sorted(map(str, op.raw.get("responses", {}))))
        raise CheckFailure(
            "status_code_documented", f"status {response.status_code}", f"one of {documented}"
        )


def content_type_documented(bundle: SpecBundle, op: Operation, response: httpx.Response) -> None:
    declared = _declared(bundle, op, response.status_code)
    content = (declared or {}).get("content") or {}
    if not content:
        return
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not any(_media_matches(media, option) for option in content):
        raise CheckFailure(
            "content_type_documented",
            f"Content-Type {media or '(none)'}",
            f"one of {', '.join(content)}",
        )


def _media_matches(media: str, option: str) -> bool:
    option = option.lower()
    return media == option or (option.endswith("/*") and media.startswith(option[:-1]))


def body_conforms(bundle: SpecBundle, op: Operation, response: httpx.Response) -> None:
    declared = _declared(bundle, op, response.status_code)
    content = (declared or {}).get("content") or {}
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    schema = (content.get(media) or {}).get("schema")
    if schema is None or "json" not in media:
        return
    try:
        body = response.json()
    except ValueError:
        raise CheckFailure(
            "body_conforms", "a body that is not JSON", f"{media} for status {response.status_code}"
        ) from None
    errors = sorted(
        schema_validator(bundle.documents[op.family], schema).iter_errors(body),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        first = errors[0]
        where = "/".join(map(str, first.absolute_path)) or "(body)"
        raise CheckFailure(
            "body_conforms",
            f"{where}: {first.message}",
            f"the {response.status_code} schema of {op.operation_id}",
        )


RESPONSE_CHECKS: Sequence[ResponseCheck] = (
    not_a_server_error,
    status_code_documented,
    content_type_documented,
    body_conforms,
)


# --- lifecycle invariants -------------------------------------------------------------------


def legal_edge(lifecycle: Lifecycle, before: str, after: str) -> None:
    """Status moves only along an edge of the lifecycle (or stays)."""
    if before == after:
        return
    if lifecycle.is_legal(before, after):
        return
    reachable = _reachable(lifecycle, after)
    if before in reachable:
        raise CheckFailure(
            "lifecycle_never_backwards", f"{before} -> {after}", f"{lifecycle.name} never goes back"
        )
    raise CheckFailure(
        "lifecycle_legal_edge",
        f"{before} -> {after}",
        f"{lifecycle.name} edges from {before}: "
        f"{', '.join(lifecycle.edges.get(before, ())) or 'none'}",
    )


def _reachable(lifecycle: Lifecycle, start: str) -> set[str]:
    seen, frontier = set(), {start}
    while frontier:
        seen |= frontier
        frontier = {t for s in frontier for t in lifecycle.edges.get(s, ())} - seen
    return seen - {start}


def expect(check: str, condition: bool, received: str, documented: str) -> None:
    if not condition:
        raise CheckFailure(check, received, documented)
