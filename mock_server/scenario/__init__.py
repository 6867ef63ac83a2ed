"""Scenarios: documents that pre-load state (tenants, credits, webhooks, jobs in any state)
and the current state exported as one."""

from pathlib import Path

from mock_server.scenario.document import checked, parse, read_file
from mock_server.scenario.export import export
from mock_server.scenario.load import ScenarioLoader, ScenarioServices

#: The demo `tunemock serve --demo` loads: shipped inside the package, so a wheel has it.
DEMO_SCENARIO = Path(__file__).resolve().parent / "demo.yaml"

__all__ = [
    "DEMO_SCENARIO",
    "ScenarioLoader",
    "ScenarioServices",
    "checked",
    "export",
    "parse",
    "read_file",
]
