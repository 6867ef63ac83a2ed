"""Entry point for uvicorn worker processes (`tunemock serve --workers N`), and what every
serving process does once its app is built."""

from __future__ import annotations

import gc
import os

from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.cli.processes import die_with_parent
from mock_server.config import Config

#: The parent `tunemock serve` puts its resolved Config here for the workers it spawns.
CONFIG_ENV = "TUNEMOCK_SERVE_CONFIG_JSON"
#: ... and its own pid: a worker ends when that process does
MASTER_ENV = "TUNEMOCK_SERVE_MASTER_PID"


_YOUNG_COLLECTION_EVERY = 10_000  # allocations (CPython's default: 700)


def freeze_startup_heap() -> None:
    """Leave what start-up built (modules, specs, compiled validators, kept for the life of
    the process) out of every later garbage collection.

    A full collection walks every tracked object, and a busy mock runs one every few big
    requests: with the start-up heap in, those collections set the slowest answers. Called
    by serving processes only, never by `create_app`: tests build hundreds of apps in one
    process, and frozen objects are never freed.

    And young collections less often than CPython's default: with many requests in flight,
    the frequent ones found their objects alive and moved them on to older generations,
    which brings full collections nearer. (Figures: bench/RESULTS.md.)"""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])


def app_from_env() -> Starlette:
    """uvicorn factory: the app for the config the parent process resolved."""
    if MASTER_ENV in os.environ:
        die_with_parent(int(os.environ[MASTER_ENV]))
    app = create_app(Config.from_json(os.environ[CONFIG_ENV]))
    freeze_startup_heap()
    return app
