"""tunemock's contract harness: checks any base URL against the OpenAPI contract in `openapi/`.

The harness itself (`tunemock check`, `run_checks`) arrives with issue 9; it reads the
contract through the same loader as the mock, re-exported here.
"""

from mock_server.spec import SpecBundle, load_specs

__all__ = ["SpecBundle", "load_specs"]
