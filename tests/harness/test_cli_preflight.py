"""`tunemock check` refuses a pointless run at once: an unknown --spec, a base URL without a
scheme, a target that does not answer. One line naming the problem, exit 2, no suite run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contracts.preflight import preflight
from mock_server.spec.loader import VENDOR_FAMILIES
from mock_server.testing.live import free_port
from tests.harness.stub import fixed_server


def tunemock_check(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def only_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stdout + done.stderr).splitlines()
    assert len(lines) == 1, done.stdout + done.stderr
    return lines[0]


def test_a_misspelt_spec_is_one_line_with_the_known_names(tmp_path: Path) -> None:
    # the port is closed too: the spec names are checked first, without a request
    done = tunemock_check(
        "--base-url",
        f"http://127.0.0.1:{free_port()}",
        "--spec",
        "segmind-finetun",
        "--report",
        str(tmp_path / "out"),
    )
    assert done.returncode == 2
    line = only_line(done)
    assert "segmind-finetun'" in line and "unknown --spec" in line
    assert all(name in line for name in VENDOR_FAMILIES)
    assert not (tmp_path / "out").exists()  # no run, no report


@pytest.mark.parametrize("url", ["127.0.0.1:8020", "localhost:8020", "ftp://127.0.0.1/x"])
def test_a_base_url_without_an_http_scheme_is_one_line(url: str) -> None:
    done = tunemock_check("--base-url", url)
    assert done.returncode == 2
    line = only_line(done)
    assert url in line and "http(s) URL" in line


def test_an_unreachable_target_is_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = tunemock_check("--base-url", url)
    assert done.returncode == 2
    line = only_line(done)
    assert line.startswith(f"tunemock check: cannot connect to {url}")


def test_a_known_spec_and_a_reachable_target_pass_the_preflight() -> None:
    with fixed_server(404, b'{"error": "not here"}') as url:
        preflight(url, ["segmind-platform"])  # a 404 is still an HTTP API answering


def test_a_family_url_is_preflighted_like_the_base_url() -> None:
    with fixed_server(404, b'{"error": "not here"}') as url:
        closed = f"http://127.0.0.1:{free_port()}"
        misspelt = tunemock_check("--base-url", url, "--family-url", f"lora-trainr={url}")
        no_scheme = tunemock_check("--base-url", url, "--family-url", "lora-trainer=127.0.0.1:1")
        silent = tunemock_check("--base-url", url, "--family-url", f"lora-trainer={closed}")
        preflight(url, [], {"lora-trainer": url})
    assert misspelt.returncode == no_scheme.returncode == silent.returncode == 2
    assert "unknown --family-url 'lora-trainr' (did you mean lora-trainer?)" in only_line(misspelt)
    assert "--family-url lora-trainer= '127.0.0.1:1'" in only_line(no_scheme)
    assert only_line(silent).startswith(f"tunemock check: cannot connect to {closed}")
