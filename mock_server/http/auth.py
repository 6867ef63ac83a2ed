"""API keys at the edge: `x-api-key` → tenant for the operations whose spec requires it. The
tenant is the key's salted id (mock_server.tenancy): past this point nothing sees the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from mock_server.http.call import Call
from mock_server.http.render import error_response
from mock_server.tenancy import TenantIds


class ApiKeyAuth:
    """401 without a key, with an unknown one (when the config lists keys) or a disabled one;
    403 when the key's settings forbid the operation's group (operationId, family or "*")."""

    def __init__(
        self,
        tenants: TenantIds,
        accepted: frozenset[str],
        key_settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.tenants = tenants
        self.accepted = accepted
        self.settings = key_settings or {}

    def _problem(self, key: str, op_id: str, family: str) -> tuple[int, str] | None:
        if not key:
            return 401, "Missing API key: send it in the x-api-key header"
        if self.accepted and key not in self.accepted:
            return 401, "Invalid API key"
        settings = self.settings.get(key)
        if not settings:
            return None
        if settings.get("disabled"):
            return 401, "API key disabled"
        forbidden = settings.get("forbidden") or ()
        group = next((g for g in (op_id, family, "*") if g in forbidden), None)
        if group is not None:
            return 403, f"This API key has no permission for {op_id} (forbidden: {group})"
        return None

    def refusal(self, call: Call) -> Response | None:
        """The answer refusing the request, or None after naming its tenant in `call`."""
        op = call.found[0] if call.found is not None else None
        if op is None or not op.secured:
            return None
        key = call.api_key.strip()
        problem = self._problem(key, op.operation_id, op.family)
        if problem:
            return error_response(op.family, *problem)
        call.tenant = self.tenants.of(key)
        return None
