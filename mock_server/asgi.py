"""Entry point for uvicorn worker processes (`tunemock serve --workers N`)."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.config import Config

#: The parent `tunemock serve` puts its resolved Config here for the workers it spawns.
CONFIG_ENV = "TUNEMOCK_SERVE_CONFIG_JSON"


def app_from_env() -> Starlette:
    """uvicorn factory: the app for the config the parent process resolved."""
    return create_app(Config.from_json(os.environ[CONFIG_ENV]))
