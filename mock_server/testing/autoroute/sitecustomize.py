"""Imported by Python at start-up in every process `tunemock run` starts (this folder is put
first on PYTHONPATH): when TUNEMOCK_URL is set and the `segmind` SDK is installed, the SDK is
routed to the mock before the program runs, so the program itself is unchanged.

The command may run a Python that has the SDK but not tunemock (another virtualenv, the
system's): the router (`../sdk.py`, standard library only) is loaded from its file, not
imported from `mock_server`. A Python whose SDK cannot be routed stops with one line saying
why and what to do, before the program runs: unrouted, it would reach the real service.

Python imports only the first `sitecustomize` on its path, so the one this shadows (a
distribution's or a virtualenv's) is run afterwards."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

_HERE = Path(__file__).resolve().parent
#: what `tunemock run` exits with when the SDK cannot be routed (the program never ran)
_CANNOT_ROUTE = 3


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _route() -> None:
    base_url = os.environ.get("TUNEMOCK_URL")
    if not base_url or importlib.util.find_spec("segmind") is None:
        return
    try:
        sdk = _load("_tunemock_sdk_router", _HERE.parent / "sdk.py")
        sdk.route_process(base_url)
    except Exception as exc:  # an SDK or a Python of another shape: say so, run nothing
        ours = os.environ.get("TUNEMOCK_RUN_PYTHON") or "the Python tunemock is installed in"
        sys.stderr.write(
            f"tunemock run: cannot route the segmind SDK in {sys.executable} "
            f"({type(exc).__name__}: {exc}); run the command with {ours}, "
            "or install tunemock[sdk] in this Python\n"
        )
        sys.stderr.flush()
        os._exit(_CANNOT_ROUTE)  # SystemExit here is a fatal error of Python's start-up


def _run_the_shadowed_one() -> None:
    for entry in sys.path:
        if not entry or Path(entry).resolve() == _HERE:
            continue
        candidate = Path(entry) / "sitecustomize.py"
        if candidate.is_file():
            _load("_shadowed_sitecustomize", candidate)
            return


_route()
_run_the_shadowed_one()
