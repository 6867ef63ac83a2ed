"""Scenarios: documents that pre-load state (tenants, credits, webhooks, jobs in any state)
and the current state exported as one."""

from mock_server.scenario.document import checked, parse, read_file
from mock_server.scenario.export import export
from mock_server.scenario.load import ScenarioLoader, ScenarioServices

__all__ = ["ScenarioLoader", "ScenarioServices", "checked", "export", "parse", "read_file"]
