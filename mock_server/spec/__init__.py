"""The contract, loaded once: the OpenAPI files of `openapi/`, indexed for mock and harness."""

from mock_server.spec.examples import SpecExample, example_problems, spec_examples
from mock_server.spec.index import Operation, SpecBundle, Webhook, load_specs
from mock_server.spec.inferred import InferredDecision, inferred_decisions, markdown_table
from mock_server.spec.loader import FAMILIES, SpecDocument, default_spec_dir

__all__ = [
    "FAMILIES",
    "InferredDecision",
    "Operation",
    "SpecBundle",
    "SpecDocument",
    "SpecExample",
    "Webhook",
    "default_spec_dir",
    "example_problems",
    "inferred_decisions",
    "load_specs",
    "markdown_table",
    "spec_examples",
]
