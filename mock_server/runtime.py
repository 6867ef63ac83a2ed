"""What every domain service shares: the store, the clock, the timing profile and the spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.clock import Clock
from mock_server.config import Config
from mock_server.errors import SpecError
from mock_server.lifecycle import Lifecycle, TimingProfile, load_timing
from mock_server.spec import SpecBundle
from mock_server.spec.walk import walk
from mock_server.store import Store, open_store

#: Which lifecycle each family's jobs follow (the family's one schema with x-lifecycle).
LIFECYCLE_OF_FAMILY = {
    "segmind-finetune": "finetune",
    "segmind-inference": "inference",
    "lora-trainer": "lora-trainer",
}


def lifecycles_from_spec(bundle: SpecBundle) -> dict[str, Lifecycle]:
    """Every x-lifecycle of the contract, by lifecycle name."""
    found: dict[str, Lifecycle] = {}
    for family, name in LIFECYCLE_OF_FAMILY.items():
        schemas = [
            node
            for _, node in walk(bundle.documents[family].raw.get("components", {}))
            if isinstance(node, dict) and "x-lifecycle" in node and "enum" in node
        ]
        if len(schemas) != 1:
            raise SpecError(f"{family}: expected one schema with x-lifecycle, found {len(schemas)}")
        found[name] = Lifecycle.from_schema(name, schemas[0])
    return found


@dataclass
class Runtime:
    config: Config
    spec: SpecBundle
    store: Store
    clock: Clock
    timing: TimingProfile
    lifecycles: Mapping[str, Lifecycle]

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
        )

    def schema(self, family: str, name: str) -> Mapping[str, Any]:
        """A component schema of a family's spec."""
        node: Mapping[str, Any] = self.spec.documents[family].resolve(
            f"#/components/schemas/{name}"
        )
        return node
