"""Which journal entries a verification query selects (`GET /_mock/requests` and
`/_mock/requests/count`): by operation, tenant, status, time and a JSON-body match.

An entry stores its method and path, not its operation: the operation is found again from
the spec, so the journal's shape (and the SQLite rows already written) stays as it is."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mock_server.errors import Conflict, InvalidInput
from mock_server.spec import SpecBundle
from mock_server.tenancy import TenantIds


@dataclass(frozen=True)
class JournalQuery:
    operation: str | None = None
    tenant: str | None = None
    status: int | None = None
    since: datetime | None = None  # entries at or after it (the mock's clock)
    body: Mapping[str, Any] = field(default_factory=dict)  # every field must be equal

    @classmethod
    def from_params(
        cls, spec: SpecBundle, tenants: TenantIds, params: Mapping[str, Any]
    ) -> JournalQuery:
        """The query of these parameters; `tenant` is a key or a tenant id, as entries show."""
        operation = params.get("operation")
        if operation is not None:
            try:
                spec.operation(str(operation))
            except KeyError:
                raise InvalidInput(
                    f"operation: no operationId {operation!r} in the specs"
                ) from None
        status = params.get("status")
        return cls(
            operation=operation,
            tenant=tenants.given(params["tenant"]) if params.get("tenant") else None,
            status=int(status) if status is not None else None,
            since=_instant("since", params.get("since")),
            body=_match(params.get("match")),
        )

    @property
    def filters(self) -> bool:
        return any((self.operation, self.tenant, self.status is not None, self.since, self.body))


def _instant(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: not an ISO 8601 date-time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _match(text: str | None) -> Mapping[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidInput("match: not JSON (a JSON object of body fields)") from None
    if not isinstance(value, dict):
        raise InvalidInput('match: a JSON object of body fields, e.g. {"base_model": "FLUX"}')
    return value


def select(
    entries: Iterable[Mapping[str, Any]], query: JournalQuery, spec: SpecBundle
) -> list[Mapping[str, Any]]:
    """The entries `query` selects, in the journal's order (newest first)."""
    operations: dict[tuple[str, str], str | None] = {}
    chosen = []
    for entry in entries:
        if query.status is not None and entry.get("status") != query.status:
            continue
        if query.tenant and entry.get("tenant") != query.tenant:
            continue
        if query.since and (_instant("at", entry.get("at")) or query.since) < query.since:
            continue
        if query.operation and _operation(entry, spec, operations) != query.operation:
            continue
        if query.body and not _body_matches(entry, query.body):
            continue
        chosen.append(entry)
    return chosen


def _operation(
    entry: Mapping[str, Any], spec: SpecBundle, seen: dict[tuple[str, str], str | None]
) -> str | None:
    key = (str(entry.get("method")), str(entry.get("path")))
    if key not in seen:
        found = spec.match(*key)
        seen[key] = found[0].operation_id if found else None
    return seen[key]


def _body_matches(entry: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    text = (entry.get("request") or {}).get("body")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        return False
    return isinstance(body, dict) and all(
        name in body and body[name] == value for name, value in wanted.items()
    )


def journal_on(size: int) -> None:
    """Verification needs the journal: with `journal_size` 0 nothing is recorded."""
    if size == 0:
        raise Conflict(
            "The request journal is off (journal_size 0): nothing was recorded to filter or "
            "count; start the mock with a journal_size above 0"
        )
