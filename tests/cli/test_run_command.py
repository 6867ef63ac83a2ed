"""`tunemock run -- COMMAND`: an unchanged SDK script reaches the mock (never the internet)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_server.testing.live import LiveServer, start_server, stop_server

DEMO_MODEL = "7a1c0d2e-4b5f-4c6d-8e9f-000000000001"

#: Exactly what an app written for the real service does: no base URL, no tunemock import.
UNCHANGED_APP = textwrap.dedent(
    f"""
    from segmind import SegmindClient

    client = SegmindClient()
    print(len(client.finetune.list()))
    result = client.run(
        "flux-dev-finetuned", prompt="TOK with red hair", finetune_id="{DEMO_MODEL}",
        steps=25, seed=1, scheduler="simple", sampler_name="euler", aspect_ratio="1:1",
        lora_strength=1,
    )
    print(sorted(result) if isinstance(result, dict) else type(result).__name__)
    """
)


@pytest.fixture
def demo_server() -> Iterator[LiveServer]:
    server = start_server("--timing", "instant", "--demo")
    try:
        yield server
    finally:
        stop_server(server)


def _clean_env(pythonpath: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TUNEMOCK_URL", "SEGMIND_API_KEY")}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return env


def _tunemock_run(
    *args: str, cwd: Path, pythonpath: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = _clean_env(pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "run", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def test_an_unchanged_sdk_script_reaches_the_mock(demo_server: LiveServer, tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(UNCHANGED_APP, encoding="utf-8")
    done = _tunemock_run(
        "--url",
        demo_server.base_url,
        "--api-key",
        "demo-key",
        "--",
        sys.executable,
        str(script),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    listed = int(done.stdout.split()[0])
    assert listed >= 3  # the demo tenant's fine-tunes
    journal = httpx.get(f"{demo_server.base_url}/_mock/requests", params={"limit": 50}).json()
    paths = [(row["method"], row["path"]) for row in journal]
    assert ("GET", "/finetune/request/list") in paths
    assert ("POST", "/v2/flux-dev-finetuned") in paths


def test_without_the_wrapper_the_same_script_would_not_use_the_mock(tmp_path: Path) -> None:
    """The routing comes from `tunemock run` alone: the same interpreter, without it, keeps
    the SDK's own hosts (checked without sending anything)."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from segmind import SegmindClient\nfrom segmind.finetune import Finetune\n"
        "print(SegmindClient().base_url, Finetune.base_url)\n",
        encoding="utf-8",
    )
    plain = subprocess.run(
        [sys.executable, str(probe)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    routed = _tunemock_run(
        "--url", "http://127.0.0.1:9", "--", sys.executable, str(probe), cwd=tmp_path
    )
    assert "segmind.com" in plain.stdout
    assert routed.stdout.split() == [
        "http://127.0.0.1:9/v1",
        "http://127.0.0.1:9/finetune/request",
    ], routed.stderr


def test_an_explicit_base_url_still_wins(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from segmind import SegmindClient\n"
        "print(SegmindClient(base_url='http://127.0.0.1:7/v1').base_url)\n",
        encoding="utf-8",
    )
    routed = _tunemock_run(
        "--url", "http://127.0.0.1:9", "--", sys.executable, str(probe), cwd=tmp_path
    )
    assert routed.stdout.strip() == "http://127.0.0.1:7/v1", routed.stderr


def test_a_missing_command_or_a_url_without_scheme_is_one_line(tmp_path: Path) -> None:
    missing = _tunemock_run("--", "no-such-program-here", cwd=tmp_path)
    assert missing.returncode == 127
    assert missing.stderr.strip().splitlines() == [
        "tunemock run: no-such-program-here: command not found"
    ]
    schemeless = _tunemock_run("--url", "127.0.0.1:8000", "--", "true", cwd=tmp_path)
    assert schemeless.returncode == 2 and "http://" in schemeless.stderr


def _another_python(tmp_path: Path, sdk_dir: str) -> str:
    """A Python that is not tunemock's (the one this virtualenv was made from), which finds
    the SDK in `sdk_dir` (put on PYTHONPATH) but no tunemock."""
    python = str(getattr(sys, "_base_executable", sys.executable))
    check = "import segmind\ntry:\n import mock_server.testing\nexcept ImportError:\n print('no')"
    found = subprocess.run(
        [python, "-c", check],
        capture_output=True,
        text=True,
        env=_clean_env(sdk_dir),
        cwd=tmp_path,
        timeout=60,
    )
    assert found.stdout.strip() == "no", found.stdout + found.stderr  # no tunemock there
    return python


def test_a_python_without_tunemock_is_routed_too(tmp_path: Path) -> None:
    import segmind

    site = str(Path(segmind.__file__).resolve().parent.parent)  # the SDK and what it needs
    python = _another_python(tmp_path, site)
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from segmind.finetune import Finetune\nprint(Finetune.base_url)\n", encoding="utf-8"
    )
    routed = _tunemock_run(
        "--url", "http://127.0.0.1:9", "--", python, str(probe), cwd=tmp_path, pythonpath=site
    )
    assert routed.returncode == 0, routed.stderr
    assert routed.stderr == ""
    assert routed.stdout.split() == ["http://127.0.0.1:9/finetune/request"]


def test_an_sdk_that_cannot_be_routed_stops_the_command_in_one_line(tmp_path: Path) -> None:
    sdk = tmp_path / "other-sdk"
    (sdk / "segmind").mkdir(parents=True)
    (sdk / "segmind" / "__init__.py").write_text("# an SDK of another shape\n", encoding="utf-8")
    python = _another_python(tmp_path, str(sdk))
    program = ("-c", "print('the program ran')")
    done = _tunemock_run(
        "--url", "http://127.0.0.1:9", "--", python, *program, cwd=tmp_path, pythonpath=str(sdk)
    )
    assert done.returncode == 3
    assert done.stdout == ""  # it never ran, so it never reached the real service
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"tunemock run: cannot route the segmind SDK in {python} (")
    assert f"run the command with {sys.executable}" in line
