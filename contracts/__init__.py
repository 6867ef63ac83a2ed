"""tunemock's contract harness: checks any base URL (the mock, staging, the vendor) against
the OpenAPI contract in `openapi/`, statelessly, statefully, and through its webhooks.

    report = run_checks("http://127.0.0.1:8000")
    assert report.ok, report.failures
"""

from contracts.errors import CheckFailure
from contracts.report import Outcome, Report
from contracts.runner import assert_contract, run_checks
from mock_server.spec import SpecBundle, load_specs

__all__ = [
    "CheckFailure",
    "Outcome",
    "Report",
    "SpecBundle",
    "assert_contract",
    "load_specs",
    "run_checks",
]
