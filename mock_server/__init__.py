"""tunemock's mock server: an offline, stateful stand-in for hosted fine-tuning APIs.

Public names: `create_app(config)` builds the Starlette app; `Config` holds its settings;
`load_specs()` loads the OpenAPI contract the app is driven by.
"""

from mock_server.app import create_app
from mock_server.config import Config
from mock_server.spec import load_specs

__all__ = ["Config", "create_app", "load_specs"]
