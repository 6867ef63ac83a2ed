"""Verification for tests, as WireMock's `verify`: what did the app send the mock?

    tunemock_server.assert_called("finetune_submit", times=1, base_model="FLUX_PRO")

Keyword arguments are fields the request's JSON body must hold with equal values; `tenant`
(the API key) and `status` (the answer's status) filter on the request itself. A failed
assertion lists the near misses: calls of the same operation that differ, field by field,
or the latest calls when the operation was never called."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

NEAR_MISSES = 5


def calls(
    base_url: str,
    operation: str,
    *,
    tenant: str | None = None,
    status: int | None = None,
    **body: Any,
) -> list[dict[str, Any]]:
    """The journal entries of `operation` that match, newest first."""
    params: dict[str, Any] = {"operation": operation, "limit": 10000}
    if tenant is not None:
        params["tenant"] = tenant
    if status is not None:
        params["status"] = status
    if body:
        params["match"] = json.dumps(body)
    answer = httpx.get(f"{base_url}/_mock/requests", params=params, timeout=30)
    if answer.status_code != 200:
        raise AssertionError(f"tunemock cannot verify calls: {answer.text}")
    found: list[dict[str, Any]] = answer.json()
    return found


def assert_called(
    base_url: str,
    operation: str,
    *,
    times: int | None = None,
    tenant: str | None = None,
    status: int | None = None,
    **body: Any,
) -> list[dict[str, Any]]:
    """Assert `operation` was called `times` times (None: at least once) as described."""
    found = calls(base_url, operation, tenant=tenant, status=status, **body)
    if (times is None and found) or len(found) == times:
        return found
    wanted = f"{times} call(s)" if times is not None else "at least one call"
    described = ", ".join(
        [f"{k}={v!r}" for k, v in body.items()]
        + [f"{k}={v!r}" for k, v in (("tenant", tenant), ("status", status)) if v is not None]
    )
    lines = [f"{operation}({described}): expected {wanted}, found {len(found)}"]
    lines += _near_misses(base_url, operation, found, body, tenant, status)
    raise AssertionError("\n".join(lines))


def _near_misses(
    base_url: str,
    operation: str,
    found: list[dict[str, Any]],
    body: Mapping[str, Any],
    tenant: str | None,
    status: int | None,
) -> list[str]:
    same_op = [e for e in calls(base_url, operation) if e not in found]
    if same_op:
        lines = ["near misses (same operation, newest first):"]
        for entry in same_op[:NEAR_MISSES]:
            lines.append(f"  - {_differences(entry, body, tenant, status)}")
        return lines
    latest = httpx.get(f"{base_url}/_mock/requests", params={"limit": NEAR_MISSES}).json()
    if not latest:
        return ["no call reached the mock at all (is the app pointed at it?)"]
    lines = [f"{operation} was never called; the latest calls were:"]
    lines += [f"  - {e['method']} {e['path']} -> {e['status']}" for e in latest]
    return lines


def _differences(
    entry: Mapping[str, Any], body: Mapping[str, Any], tenant: str | None, status: int | None
) -> str:
    sent = _body(entry)
    parts = []
    for name, value in body.items():
        if name not in sent:
            parts.append(f"{name}: missing (expected {value!r})")
        elif sent[name] != value:
            parts.append(f"{name}: {sent[name]!r} (expected {value!r})")
    if status is not None and entry.get("status") != status:
        parts.append(f"status: {entry.get('status')} (expected {status})")
    if tenant is not None:
        parts.append(f"tenant: {entry.get('tenant')}")
    return f"{entry['method']} {entry['path']} at {entry.get('at')}: " + (
        "; ".join(parts) or "differs"
    )


def _body(entry: Mapping[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads((entry.get("request") or {}).get("body") or "null")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
