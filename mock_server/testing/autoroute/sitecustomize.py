"""Imported by Python at start-up in every process `tunemock run` starts (this folder is put
first on PYTHONPATH): when TUNEMOCK_URL is set and the `segmind` SDK is installed, the SDK is
routed to the mock before the program runs, so the program itself is unchanged.

Python imports only the first `sitecustomize` on its path, so the one this shadows (a
distribution's or a virtualenv's) is run afterwards."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _route() -> None:
    base_url = os.environ.get("TUNEMOCK_URL")
    if not base_url or importlib.util.find_spec("segmind") is None:
        return
    from mock_server.testing.sdk import route_process

    route_process(base_url)


def _run_the_shadowed_one() -> None:
    for entry in sys.path:
        if not entry or Path(entry).resolve() == _HERE:
            continue
        candidate = Path(entry) / "sitecustomize.py"
        if candidate.is_file():
            spec = importlib.util.spec_from_file_location("_shadowed_sitecustomize", candidate)
            if spec and spec.loader:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


_route()
_run_the_shadowed_one()
