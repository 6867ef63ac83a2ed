"""Fault rules: which requests go wrong, and how (DESIGN.md "Faults"). Kept in the store so
every worker applies the same rules and `count` runs down once across them; a rule's
`match.api_key` is kept as the key's tenant id, as every record is. No HTTP here."""

from __future__ import annotations

import fnmatch
import random
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mock_server.errors import InvalidInput, NotFound
from mock_server.store import Store
from mock_server.tenancy import TenantIds, is_tenant_id

KIND = "fault"
ADMIN = "admin"  # the store tenant fault rules live under


@dataclass(frozen=True)
class Action:
    status: int | None = None
    latency_ms: float = 0.0
    drop: bool = False
    truncate: bool = False
    slow_body_ms: float = 0.0

    @property
    def label(self) -> str:
        parts = [
            f"status={self.status}" if self.status else "",
            f"latency={self.latency_ms:g}ms" if self.latency_ms else "",
            "drop" if self.drop else "",
            "truncate" if self.truncate else "",
            f"slow-body={self.slow_body_ms:g}ms" if self.slow_body_ms else "",
        ]
        return ",".join(p for p in parts if p)


def action_of(raw: Mapping[str, Any]) -> Action:
    return Action(
        status=int(raw["status"]) if raw.get("status") else None,
        latency_ms=float(raw.get("latency_ms") or 0),
        drop=bool(raw.get("drop")),
        truncate=bool(raw.get("truncate")),
        slow_body_ms=float(raw.get("slow_body_ms") or 0),
    )


_HEADER_PART = re.compile(r"^(status=(\d{3})|latency=(\d+)ms|drop|truncate|slow-body=(\d+)ms)$")


def parse_header(value: str) -> Action:
    """The one-off `x-mock-fault` header: status=503, latency=800ms, drop, truncate,
    slow-body=2000ms (comma-separated to combine)."""
    raw: dict[str, Any] = {}
    for part in (p.strip() for p in value.split(",") if p.strip()):
        found = _HEADER_PART.match(part)
        if not found:
            raise InvalidInput(f"x-mock-fault: cannot read {part!r}")
        if found.group(2):
            raw["status"] = found.group(2)
        elif found.group(3):
            raw["latency_ms"] = found.group(3)
        elif found.group(4):
            raw["slow_body_ms"] = found.group(4)
        else:
            raw[part] = True
    return action_of(raw)


class Faults:
    def __init__(
        self, store: Store, tenants: TenantIds, configured: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        self._store = store
        self._tenants = tenants
        self._configured = list(configured)
        self.after_reset()

    def after_reset(self) -> None:
        """The config file's rules are there from the start, and again after a reset."""
        if not self.list():
            for rule in self._configured:
                self.add(rule)

    def add(self, rule: Mapping[str, Any]) -> Mapping[str, Any]:
        fault_id = f"fault_{uuid.uuid4().hex[:12]}"
        doc = {"id": fault_id, "probability": 1.0, "count": None, **rule}
        match = rule.get("match") or {}
        if match.get("api_key"):
            doc["match"] = {**match, "api_key": self._tenants.given(str(match["api_key"]))}
        return self._store.insert(KIND, ADMIN, fault_id, doc).doc

    def shown(self, rule: Mapping[str, Any]) -> Mapping[str, Any]:
        """A rule as the admin API answers it: its key as the user gave it, where known."""
        match = rule.get("match") or {}
        if not match.get("api_key"):
            return rule
        return {**rule, "match": {**match, "api_key": self._tenants.shown(match["api_key"])}}

    def convert_key_names(self) -> None:
        """A state from before tenant ids kept a rule's `match.api_key` as the key: it
        becomes the key's id, as `add` keeps it now."""

        def to_id(doc: Mapping[str, Any]) -> Mapping[str, Any]:
            match = doc.get("match") or {}
            if not match.get("api_key"):
                return doc
            return {**doc, "match": {**match, "api_key": self._tenants.given(match["api_key"])}}

        for rule in self.list():
            key = (rule.get("match") or {}).get("api_key")
            if key and not is_tenant_id(str(key)):
                self._store.update(KIND, rule["id"], ADMIN, to_id)

    def list(self) -> Sequence[Mapping[str, Any]]:
        return [r.doc for r in reversed(self._store.list(KIND, None))]

    def delete(self, fault_id: str) -> None:
        if not self._store.delete(KIND, fault_id, None):
            raise NotFound(f"No fault {fault_id}")

    def clear(self) -> None:
        for rule in self.list():
            self._store.delete(KIND, rule["id"], None)

    def pick(self, method: str, path: str, api_key: str | None) -> tuple[str, Action] | None:
        """The first rule matching this request that fires, its count run down atomically."""
        if not self._store.count(KIND, None):  # every request asks; most mocks have no rules
            return None
        tenant = self._tenants.of(api_key) if api_key else None
        for rule in self.list():
            match = rule.get("match") or {}
            if match.get("method") and match["method"].upper() != method.upper():
                continue
            if match.get("path") and not fnmatch.fnmatchcase(path, match["path"]):
                continue
            if match.get("api_key") and match["api_key"] != tenant:
                continue
            if random.random() >= float(rule.get("probability", 1.0)):
                continue
            if self._spend(rule["id"]):
                return rule["id"], action_of(rule.get("action") or {})
        return None

    def _spend(self, fault_id: str) -> bool:
        """Use one of the rule's `count` (null = unlimited); False when none is left."""

        class Spent(Exception):
            pass

        def take(doc: Mapping[str, Any]) -> Mapping[str, Any]:
            if doc.get("count") is None:
                return doc
            if int(doc["count"]) <= 0:
                raise Spent
            return {**doc, "count": int(doc["count"]) - 1}

        try:
            return self._store.update(KIND, fault_id, None, take) is not None
        except Spent:
            return False
