"""Credits per API key: a balance (unlimited unless configured or set through the admin
API) that paid operations draw from, atomically, so a refused request changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.errors import InsufficientCredits
from mock_server.store import Store

_PREFIX = "credits:"


class Credits:
    def __init__(
        self,
        store: Store,
        default: float | None,
        key_settings: Mapping[str, Mapping[str, Any]],
        costs: Mapping[str, float],
    ) -> None:
        self._store = store
        self._default = default
        self._per_key = {k: v["credits"] for k, v in key_settings.items() if "credits" in v}
        self._costs = dict(costs)

    def balance(self, api_key: str) -> float | None:
        """The key's credits; None means unlimited."""
        stored = self._store.get_meta(_PREFIX + api_key)
        if stored is not None:
            return float(stored)
        configured = self._per_key.get(api_key, self._default)
        return None if configured is None else float(configured)

    def set(self, api_key: str, credits: float | None) -> float | None:
        self._store.set_meta(_PREFIX + api_key, credits)
        return self.balance(api_key)

    def cost_of(self, operation: str) -> float:
        return float(self._costs.get(operation, 0.0))

    def charge(self, api_key: str, operation: str) -> None:
        """Take the operation's cost, or raise InsufficientCredits and take nothing."""
        cost = self.cost_of(operation)
        if cost <= 0 or self.balance(api_key) is None:
            return
        start = self.balance(api_key)

        def take(current: Any) -> float:
            have = float(current) if current is not None else float(start or 0.0)
            if have < cost:
                raise InsufficientCredits(
                    f"Insufficient credits: {operation} costs {cost:g}, the key has {have:g}"
                )
            return have - cost

        self._store.update_meta(_PREFIX + api_key, take)
