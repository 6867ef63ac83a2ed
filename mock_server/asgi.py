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
    """Leave what start-up built (modules, specs, compiled validators: ~50k objects, kept for
    the life of the process) out of every later garbage collection.

    A full collection walks every tracked object; with those in, each one took ~30 ms, and
    a busy mock runs one every few big requests: the p99 of a 1,000-job list. Frozen, ~4 ms.
    Called by serving processes only, never by `create_app`: tests build hundreds of apps in
    one process, and frozen objects are never freed.

    And a young collection every 10,000 allocations instead of 700: with 32 requests in
    flight, each of the frequent ones found their objects alive and moved them on, and the
    objects moved on bring full collections nearer. SQLite submits (`bench/throughput.py`'s
    load, back to back): p99 16.6-17.9 → 10.5-14.1 ms, longest answer 34-36 → 16-18 ms;
    the other routes within noise."""
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
