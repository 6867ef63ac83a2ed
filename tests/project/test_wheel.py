"""The wheel is the whole tool: installed into a fresh environment and run from outside the
source tree, `tunemock` has its help, its harness and the demo, with nothing from the checkout."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_server.testing.live import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding only the built wheel; its dependencies come from this test run's
    environment through a path entry (no registry is asked), never the checkout itself."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(work / "dist"), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next((work / "dist").glob("tunemock-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    inner = subprocess.run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    # a plain path line: the outer site-packages' own .pth files (the editable checkout's
    # among them) are not processed through it, so the checkout stays out of sight
    (Path(inner) / "outer-deps.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    yield venv


def _run(venv: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(venv / "bin" / "tunemock"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=venv.parent, env=env,
    )  # fmt: skip


def test_the_wheel_runs_from_its_own_files(wheel_env: Path) -> None:
    probe = "import mock_server; print(mock_server.__file__)"
    where = subprocess.run(
        [str(wheel_env / "bin" / "python"), "-c", probe],
        capture_output=True, text=True, timeout=60, cwd=wheel_env.parent,
    ).stdout  # fmt: skip
    assert where.startswith(str(wheel_env)), where


def test_help_and_check_help_work_after_a_plain_install(wheel_env: Path) -> None:
    for args in (["--help"], ["-h"], ["check", "--help"], ["serve", "--help"], ["run", "--help"]):
        done = _run(wheel_env, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_the_demo_and_the_harness_from_the_wheel(wheel_env: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    server = subprocess.Popen(
        [str(wheel_env / "bin" / "tunemock"), "serve", "--demo", "--port", str(port)],
        cwd=wheel_env.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/_mock/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        listed = httpx.get(f"{base}/finetune/request/list", headers={"x-api-key": "demo-key"})
        assert listed.status_code == 200 and len(listed.json()) >= 3, listed.text
        report = wheel_env.parent / "report"
        checked = _run(
            wheel_env, "check", "--base-url", base, "--max-examples", "2", "--report", str(report),
            timeout=300,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
        assert json.loads((report / "tunemock-check.json").read_text())["ok"] is True
    finally:
        server.terminate()
        server.wait(timeout=30)
