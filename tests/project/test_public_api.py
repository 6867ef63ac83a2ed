"""The few names users import are exported on purpose, and the layers import only downward."""

from __future__ import annotations

import ast
from pathlib import Path

import contracts
import mock_server

ROOT = Path(__file__).resolve().parents[2]


def test_mock_server_exports() -> None:
    assert sorted(mock_server.__all__) == ["Config", "create_app", "load_specs"]
    for name in mock_server.__all__:
        assert getattr(mock_server, name) is not None


def test_contracts_exports() -> None:
    assert sorted(contracts.__all__) == [
        "CheckFailure",
        "Outcome",
        "Report",
        "SpecBundle",
        "assert_contract",
        "load_specs",
        "run_checks",
    ]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_spec_layer_knows_no_http_framework() -> None:
    """ARCHITECTURE.md: mock_server.spec is shared with the harness and holds no server code."""
    for path in (ROOT / "mock_server" / "spec").glob("*.py"):
        assert not _imports(path) & {"starlette", "uvicorn"}, path.name


def test_the_harness_does_not_import_the_server_app() -> None:
    for path in (ROOT / "contracts").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {
            m
            for m in modules
            if m.startswith("mock_server.")
            and not m.startswith(("mock_server.spec", "mock_server.lifecycle"))
        }, path.name


#: Modules below the HTTP edge: rules, state, time. They never see a request or a response.
DOMAIN = [
    "mock_server/clock.py",
    "mock_server/runtime.py",
    "mock_server/lifecycle/*.py",
    "mock_server/store/*.py",
    "mock_server/finetune/domain.py",
    "mock_server/finetune/render.py",
    "mock_server/storage/service.py",
    "mock_server/storage/signing.py",
    "mock_server/storage/blobs.py",
    "mock_server/storage/artifacts.py",
    "mock_server/admin/jobs.py",
]


def test_the_domain_knows_no_http_framework() -> None:
    paths = [p for pattern in DOMAIN for p in ROOT.glob(pattern)]
    assert len(paths) >= len(DOMAIN)
    for path in paths:
        assert not _imports(path) & {"starlette", "uvicorn", "httpx"}, path.name
