"""Credits per tenant (an API key's id, mock_server.tenancy): a balance (unlimited unless
configured or set through the admin API) that paid operations draw from, atomically, so a
refused request changes nothing.

What an operation costs comes from the config's cost table (see `CostTable`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mock_server.errors import ConfigError, InsufficientCredits
from mock_server.store import Store
from mock_server.tenancy import TenantIds, is_tenant_id

_PREFIX = "credits:"
_KNOWN = "credits-keys"  # every tenant whose credits were ever set, for admin views and export

log = logging.getLogger("tunemock.credits")


def _lookup(facts: Mapping[str, Any], dotted: str) -> Any:
    """`advance_parameters.steps` → facts["advance_parameters"]["steps"] (None if absent)."""
    node: Any = facts
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


@dataclass(frozen=True)
class CostRule:
    """`base + sum(rate * request[field])`, for requests whose fields match `when`."""

    when: Mapping[str, Any]
    base: float
    per: Mapping[str, float]

    def matches(self, facts: Mapping[str, Any]) -> bool:
        for dotted, wanted in self.when.items():
            have = _lookup(facts, dotted)
            allowed = wanted if isinstance(wanted, list) else [wanted]
            if have not in allowed:
                return False
        return True

    def cost(self, facts: Mapping[str, Any]) -> float:
        total = self.base
        for dotted, rate in self.per.items():
            value = _lookup(facts, dotted)
            if isinstance(value, int | float) and not isinstance(value, bool):
                total += rate * float(value)
        return total


class CostTable:
    """Per operation (`finetune`, `lora-trainer`, `inference`) either a flat number or a list
    of rules, first match wins (no match: free), e.g.

        finetune:
          - {when: {base_model: FLUX_PRO}, base: 20, per: {advance_parameters.steps: 0.01}}
          - {base: 10}
        inference:
          - {when: {hardware: fast}, base: 2, per: {steps: 0.04}}
          - {base: 1}
    """

    def __init__(self, costs: Mapping[str, Any]) -> None:
        self._rules = {op: _rules(op, spec) for op, spec in costs.items()}

    def cost_of(self, operation: str, facts: Mapping[str, Any]) -> float:
        for rule in self._rules.get(operation, ()):
            if rule.matches(facts):
                return max(0.0, rule.cost(facts))
        return 0.0

    def describe(self) -> dict[str, list[dict[str, Any]]]:
        return {
            op: [{"when": dict(r.when), "base": r.base, "per": dict(r.per)} for r in rules]
            for op, rules in self._rules.items()
        }


def _rules(operation: str, spec: Any) -> tuple[CostRule, ...]:
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        return (CostRule({}, float(spec), {}),)
    if not isinstance(spec, Sequence) or isinstance(spec, str):
        raise ConfigError(f"costs.{operation}: a number or a list of rules, not {spec!r}")
    rules = []
    for i, raw in enumerate(spec):
        where = f"costs.{operation}[{i}]"
        if not isinstance(raw, Mapping) or set(raw) - {"when", "base", "per"}:
            raise ConfigError(f"{where}: a rule has only when, base and per")
        when, per = raw.get("when") or {}, raw.get("per") or {}
        if not isinstance(when, Mapping) or not isinstance(per, Mapping):
            raise ConfigError(f"{where}: when and per map field names to values")
        try:
            rates = {str(k): float(v) for k, v in per.items()}
            rules.append(CostRule(dict(when), float(raw.get("base", 0.0)), rates))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: base and per rates must be numbers ({exc})") from exc
    return tuple(rules)


class Credits:
    def __init__(
        self,
        store: Store,
        tenants: TenantIds,
        default: float | None,
        key_settings: Mapping[str, Mapping[str, Any]],
        costs: Mapping[str, Any],
    ) -> None:
        self._store = store
        self._tenants = tenants
        self._keys = list(key_settings)  # a state from before tenant ids charged them by name
        self._default = default
        # the config names keys; the store knows their tenants
        self._per_tenant = {
            tenants.of(k): v["credits"] for k, v in key_settings.items() if "credits" in v
        }
        self.costs = CostTable(costs)

    def balance(self, tenant: str) -> float | None:
        """The tenant's credits; None means unlimited."""
        stored = self._store.get_meta(_PREFIX + tenant)
        if stored is not None:
            return float(stored)
        configured = self._per_tenant.get(tenant, self._default)
        return None if configured is None else float(configured)

    def set(self, tenant: str, credits: float | None) -> float | None:
        self._store.set_meta(_PREFIX + tenant, credits)
        self._store.update_meta(_KNOWN, lambda known: sorted({*(known or []), tenant}))
        return self.balance(tenant)

    def convert_key_names(self) -> None:
        """A state from before tenant ids kept balances under `credits:<key>`: each moves to
        its key's id (unless that has one already: a worker converting at the same time, or
        a charge since), and the key's value goes, name and all."""
        known = [str(k) for k in self._store.get_meta(_KNOWN) or []]
        for key in {*known, *self._keys}:
            if is_tenant_id(key):
                continue
            value = self._store.get_meta(_PREFIX + key)
            if value is None:
                continue
            self._store.update_meta(_PREFIX + self._tenants.of(key), _unless_set(value))
            self._store.delete_meta(_PREFIX + key)
        if any(not is_tenant_id(k) for k in known):
            self._store.update_meta(
                _KNOWN, lambda old: sorted({self._tenants.given(str(k)) for k in old or []})
            )

    def known_tenants(self) -> list[str]:
        """Tenants with credits of their own (configured or set), sorted."""
        stored = self._store.get_meta(_KNOWN) or []
        return sorted({*self._per_tenant, *stored})

    def charge(self, tenant: str, operation: str, facts: Mapping[str, Any]) -> float:
        """Take what the operation costs for this request (`facts`: its fields), or raise
        InsufficientCredits and take nothing; what was taken."""
        cost = self.costs.cost_of(operation, facts)
        start = self.balance(tenant) if cost > 0 else None
        if start is None:  # free, or unlimited credits
            return 0.0

        def take(current: Any) -> float:
            have = float(current) if current is not None else start
            if have < cost:
                raise InsufficientCredits(
                    f"Insufficient credits: {operation} costs {cost:g}, the key has {have:g}"
                )
            return have - cost

        self._store.update_meta(_PREFIX + tenant, take)
        return cost

    def give_back(self, tenant: str, amount: float) -> None:
        """Return what a charge took (a balance reset since stays reset)."""
        self._store.update_meta(
            _PREFIX + tenant, lambda now: None if now is None else float(now) + amount
        )


@contextmanager
def charged(
    credits: Credits | None, tenant: str, operation: str, facts: Mapping[str, Any]
) -> Iterator[None]:
    """The operation's cost taken for the block (InsufficientCredits: the block never runs),
    and given back if the block raises: a request that fails after its charge (its job not
    stored: the state database went away) bought nothing."""
    taken = credits.charge(tenant, operation, facts) if credits is not None else 0.0
    try:
        yield
    except BaseException:
        if credits is not None and taken:
            try:
                credits.give_back(tenant, taken)
            except Exception:  # the store that failed the block may fail this too
                log.exception("could not give back %g credits of a failed %s", taken, operation)
        raise


def _unless_set(value: Any) -> Callable[[Any], Any]:
    """A meta change that sets `value` where nothing is set yet."""
    return lambda now: value if now is None else now
