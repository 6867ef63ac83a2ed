"""Entry point for uvicorn worker processes (`tunemock serve --workers N`)."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.cli.processes import die_with_parent
from mock_server.cli.upgrades import quiet_upgrade_warnings
from mock_server.config import Config

#: The parent `tunemock serve` puts its resolved Config here for the workers it spawns.
CONFIG_ENV = "TUNEMOCK_SERVE_CONFIG_JSON"
#: ... and its own pid: a worker ends when that process does
MASTER_ENV = "TUNEMOCK_SERVE_MASTER_PID"


def app_from_env() -> Starlette:
    """uvicorn factory: the app for the config the parent process resolved."""
    if MASTER_ENV in os.environ:
        die_with_parent(int(os.environ[MASTER_ENV]))
    quiet_upgrade_warnings()  # uvicorn set up this worker's logging before calling this
    return create_app(Config.from_json(os.environ[CONFIG_ENV]))
