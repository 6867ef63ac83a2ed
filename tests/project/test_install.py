"""A plain install gives the whole tool: every library that `mock_server` and `contracts`
import is a dependency of the distribution, not of an extra; the SDK helpers say in one line
what to install when the optional SDK is missing."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
#: Modules that run only where their extra is installed: the pytest plugin runs inside
#: pytest, and the SDK router and the PostgreSQL store say what to install (tested below).
OPTIONAL = {"pytest", "segmind", "psycopg", "psycopg_pool"}


def _imported_top_level(package: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-")


def test_every_imported_library_is_a_core_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_canonical(Requirement(r).name) for r in project["dependencies"]}
    provided = packages_distributions()
    missing = {}
    for module in _imported_top_level("mock_server") | _imported_top_level("contracts"):
        if module in sys.stdlib_module_names or module in OPTIONAL:
            continue
        if module in {"mock_server", "contracts"}:
            continue
        dists = {_canonical(d) for d in provided.get(module, [])}
        # a library pulled in by a declared one (e.g. anyio by starlette) must be declared too
        if not dists & declared:
            missing[module] = sorted(dists)
    assert not missing, f"imported but only reachable through extras or by chance: {missing}"


@pytest.mark.parametrize(
    ("module", "call", "extra"),
    [
        (
            "segmind",
            "from mock_server.testing.sdk import route; route('http://127.0.0.1:9')",
            "sdk",
        ),
        (
            "psycopg",
            "from mock_server.store import open_store; "
            "open_store('postgresql://me:secret@127.0.0.1:9/db')",
            "postgres",
        ),
    ],
)
def test_an_optional_part_says_what_to_install_when_its_package_is_missing(
    module: str, call: str, extra: str
) -> None:
    script = f"import sys; sys.modules[{module!r}] = None\n{call}\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert f"pip install 'tunemock[{extra}]'" in last, done.stderr
    assert "secret" not in done.stderr  # a password in a URL never reaches a message
