"""What every domain service shares: the store, the clock, the timing profile, the spec and
the tenant ids of API keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.clock import Clock
from mock_server.config import Config
from mock_server.lifecycle import Lifecycle, TimingProfile, load_timing
from mock_server.lifecycle.from_spec import lifecycles_from_spec
from mock_server.spec import SpecBundle
from mock_server.store import Store, open_store
from mock_server.tenancy import TenantIds, ensure_secret


@dataclass
class Runtime:
    config: Config
    spec: SpecBundle
    store: Store
    clock: Clock
    timing: TimingProfile
    lifecycles: Mapping[str, Lifecycle]
    tenants: TenantIds  # API key -> the tenant id the store knows

    @classmethod
    def build(cls, config: Config, spec: SpecBundle, store: Store | None = None) -> Runtime:
        store = store or open_store(config.state)
        return cls(
            config=config,
            spec=spec,
            store=store,
            clock=Clock(store, config.clock),
            timing=load_timing(config.timing),
            lifecycles=lifecycles_from_spec(spec),
            tenants=TenantIds(ensure_secret(store)),
        )

    def schema(self, family: str, name: str) -> Mapping[str, Any]:
        """A component schema of a family's spec."""
        node: Mapping[str, Any] = self.spec.documents[family].resolve(
            f"#/components/schemas/{name}"
        )
        return node
