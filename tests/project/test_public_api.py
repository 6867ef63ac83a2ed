"""The few names users import are exported on purpose, and the layers import only downward."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def test_the_harness_does_not_import_the_server_app() -> None:
    for path in (ROOT / "contracts").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {
            m
            for m in modules
            if m.startswith("mock_server.")
            and not m.startswith(("mock_server.spec", "mock_server.lifecycle"))
            and m != "mock_server.cli.options"
        }, path.name


#: The web framework (serving) and the HTTP client (calling out) by their top-level names.
WEB = frozenset({"starlette", "uvicorn"})
CLIENT = frozenset({"httpx"})
EVERY = None  # every module of the part may


@dataclass(frozen=True)
class Rule:
    """Which modules of one part of mock_server (a package, or a top-level module) may import
    the web framework and which the HTTP client; every other module imports neither.
    Rules, state and time sit below the HTTP edge: they never see a request or a response,
    and a family's HTTP lives in its `routes.py` (ARCHITECTURE.md)."""

    web: frozenset[str] | None = frozenset()
    client: frozenset[str] | None = frozenset()


def _only(*modules: str) -> frozenset[str]:
    return frozenset(modules)


FAMILY = Rule(web=_only("routes.py"))  # an API family: HTTP in routes.py, domain below it
SERVER = Rule(web=EVERY, client=EVERY)  # the edge and what starts or drives a server

#: Every package and top-level module of mock_server, with its rule. A part added without
#: one fails test_every_part_of_the_server_has_an_import_rule: say where it sits first.
RULES: dict[str, Rule] = {
    # the contract, read by the harness too: no server code
    "spec": Rule(),
    # below the edge: domain values, rules, state and time
    "lifecycle": Rule(),
    "store": Rule(),
    "clock.py": Rule(),
    "config.py": Rule(),
    "config_check.py": Rule(),
    "credits.py": Rule(),
    "errors.py": Rule(),
    "faults.py": Rule(),
    "runtime.py": Rule(),
    "texts.py": Rule(),
    "services.py": Rule(),
    "tenancy.py": Rule(),  # a key becomes a tenant id: hashing only
    "tenancy_upgrade.py": Rule(),  # an old state's keys become ids, through the store
    # API families: HTTP in routes.py only
    "finetune": FAMILY,
    "inference": FAMILY,
    "trainer": FAMILY,
    "files": FAMILY,
    "storage": FAMILY,
    "scenario": FAMILY,
    "replay": Rule(),  # recordings read back; the edge's http/replay.py sends the answers
    "ui": FAMILY,
    "admin": Rule(web=_only("routes.py", "dashboard_ops.py")),
    "webhooks": Rule(web=_only("routes.py"), client=_only("sender.py")),
    # every call out of the mock, and the dataset fetch that goes through it
    "outbound": Rule(client=EVERY),
    "datasets": Rule(client=_only("fetch.py", "intake.py")),
    # the edge, the app, the processes that serve it, and what users test with
    "http": Rule(web=EVERY),
    "app.py": Rule(web=EVERY),
    "asgi.py": Rule(web=EVERY),
    "cli": SERVER,
    "proxy": SERVER,
    "testing": SERVER,
    "__init__.py": Rule(),
    "__main__.py": Rule(),
}

SERVER_ROOT = ROOT / "mock_server"


def _parts() -> set[str]:
    packages = {p.parent.name for p in SERVER_ROOT.glob("*/__init__.py")}
    return packages | {p.name for p in SERVER_ROOT.glob("*.py")}


def _modules(part: str) -> list[Path]:
    path = SERVER_ROOT / part
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_every_part_of_the_server_has_an_import_rule() -> None:
    parts = _parts()
    assert not parts - RULES.keys(), (
        f"parts of mock_server with no rule in RULES: {parts - RULES.keys()}"
    )
    assert not RULES.keys() - parts, f"rules for parts that are gone: {RULES.keys() - parts}"
    for part, rule in RULES.items():  # a rule names modules that exist
        names = {p.name for p in _modules(part)}
        for allowed in (rule.web, rule.client):
            assert allowed is EVERY or allowed <= names, (part, allowed - names)


@pytest.mark.parametrize("part", sorted(RULES))
def test_each_module_imports_only_what_its_part_allows(part: str) -> None:
    rule = RULES[part]
    for path in _modules(part):
        imported = _imports(path)
        if rule.web is not EVERY and path.name not in rule.web:
            assert not imported & WEB, f"{path.relative_to(ROOT)} imports {imported & WEB}"
        if rule.client is not EVERY and path.name not in rule.client:
            assert not imported & CLIENT, f"{path.relative_to(ROOT)} imports {imported & CLIENT}"


def _full_imports(path: Path) -> set[str]:
    """Dotted names a module imports (`from a.b import c` gives a.b and a.b.c)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_only_the_store_knows_its_implementations() -> None:
    """Outside mock_server/store, the store is its interface (`mock_server.store`): nothing
    picks or reaches into the memory or the SQLite implementation."""
    for path in SERVER_ROOT.rglob("*.py"):
        if path.is_relative_to(SERVER_ROOT / "store"):
            continue
        reached = {
            name
            for name in _full_imports(path)
            if name.startswith(("mock_server.store.memory", "mock_server.store.sqlite"))
        }
        assert not reached, f"{path.relative_to(ROOT)} imports {reached}"
