"""Named checks, each answering one question about one answer and raising CheckFailure
with `Received: ... / Documented: ...`. Built-ins are listed in RESPONSE_CHECKS (nothing
registers itself by import)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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


def reachable(lifecycle: Lifecycle, start: str) -> set[str]:
    """Every state a job in `start` can still reach (not `start` itself)."""
    seen: set[str] = set()
    frontier = {start}
    while frontier:
        seen |= frontier
        frontier = {t for s in frontier for t in lifecycle.edges.get(s, ())} - seen
    return seen - {start}


def first_status_legal(lifecycle: Lifecycle, status: object) -> None:
    """The first read after submit: the initial state, or one the job can have reached."""
    if status == lifecycle.initial or status in reachable(lifecycle, lifecycle.initial):
        return
    raise CheckFailure(
        "lifecycle_first_status",
        f"status {status!r} on the first read after submit",
        f"{lifecycle.initial} or a state reachable from it ({', '.join(lifecycle.states)})",
    )


def legal_progress(lifecycle: Lifecycle, before: str, after: object) -> None:
    """A later read of the same job: the same state, or one reachable from `before`. Reads
    are sparse (a poll interval or a clock move may pass several states), so a read may
    skip states, but never goes back and never leaves the lifecycle's graph."""
    if before == after:
        return
    if after in lifecycle.states and after in reachable(lifecycle, before):
        return
    if after in lifecycle.states and before in reachable(lifecycle, str(after)):
        raise CheckFailure(
            "lifecycle_never_backwards", f"{before} -> {after}", f"{lifecycle.name} never goes back"
        )
    onward = ", ".join(sorted(reachable(lifecycle, before))) or "none (terminal)"
    raise CheckFailure(
        "lifecycle_legal_edge",
        f"{before} -> {after}",
        f"{lifecycle.name} from {before} reaches only: {onward}",
    )


@dataclass(frozen=True)
class PresenceRule:
    """When a field exists in a job's answers, as the spec declares it (`x-present-from`,
    `x-kept-after-failure`; see openapi/CONVENTIONS.md)."""

    field: str
    present_from: str
    kept_after_failure: bool

    @classmethod
    def from_schema(cls, field: str, schema: Mapping[str, Any]) -> PresenceRule:
        declared = schema["properties"][field]
        return cls(field, declared["x-present-from"], bool(declared.get("x-kept-after-failure")))

    def expected(self, lifecycle: Lifecycle, status: object, reached: bool) -> bool | None:
        """True: the field must be set; False: it must be null; None: either (a failure
        whose history the harness did not see). `reached`: the job was seen at or past
        `present_from`."""
        path = lifecycle.happy_path()
        if status in path:
            return path.index(str(status)) >= path.index(self.present_from)
        if status == lifecycle.failure:
            if not self.kept_after_failure:
                return False
            return True if reached else None
        return None


def present_as_documented(
    rule: PresenceRule, lifecycle: Lifecycle, status: object, value: object, reached: bool
) -> None:
    must = rule.expected(lifecycle, status, reached)
    if must is None or (value is not None) == must:
        return
    kept = " (kept after a later failure)" if rule.kept_after_failure else ""
    raise CheckFailure(
        "storage_url_exactly_when_trained",
        f"status {status} with {rule.field} {value!r}",
        f"{rule.field} set from {rule.present_from} on{kept}, null before",
    )


def expect(check: str, condition: bool, received: str, documented: str) -> None:
    if not condition:
        raise CheckFailure(check, received, documented)
