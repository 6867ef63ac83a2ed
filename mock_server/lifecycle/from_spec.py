"""Every job lifecycle of the contract, read from the spec's `x-lifecycle` schemas."""

from __future__ import annotations

from mock_server.errors import SpecError
from mock_server.lifecycle.machine import Lifecycle
from mock_server.spec import SpecBundle
from mock_server.spec.walk import walk

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
