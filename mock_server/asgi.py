"""Entry point for uvicorn worker processes (`tunemock serve --workers N`), and what every
serving process does once its app is built."""

from __future__ import annotations

import gc
import os

from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.config import Config

#: The parent `tunemock serve` puts its resolved Config here for the workers it spawns.
CONFIG_ENV = "TUNEMOCK_SERVE_CONFIG_JSON"


def freeze_startup_heap() -> None:
    """Leave what start-up built (modules, specs, compiled validators: ~50k objects, kept for
    the life of the process) out of every later garbage collection.

    A full collection walks every tracked object; with those in, each one took ~30 ms, and
    a busy mock runs one every few big requests: the p99 of a 1,000-job list. Frozen, ~4 ms.
    Called by serving processes only, never by `create_app`: tests build hundreds of apps in
    one process, and frozen objects are never freed."""
    gc.collect()
    gc.freeze()


def app_from_env() -> Starlette:
    """uvicorn factory: the app for the config the parent process resolved."""
    app = create_app(Config.from_json(os.environ[CONFIG_ENV]))
    freeze_startup_heap()
    return app
