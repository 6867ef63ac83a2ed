"""`tunemock serve` as a process: it refuses to open the admin surface to the network
unasked, says in one line when its port is taken, leaves no worker behind when its master
is killed, and no scratch folder behind when it is stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from mock_server.testing.live import free_port, start_server, stop_server

pytestmark = pytest.mark.timeout(90)


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_a_wildcard_bind_without_a_token_refuses_in_one_line() -> None:
    done = _serve("--host", "0.0.0.0", "--port", str(free_port()))
    assert done.returncode != 0
    line = _one_line(done.stderr + done.stdout)
    assert "--admin-token" in line and "--insecure-admin" in line
    assert "Traceback" not in done.stderr


def test_the_token_from_the_environment_counts() -> None:
    from mock_server.cli.serve_cmd import checked
    from mock_server.config import build_config

    old = os.environ.get("TUNEMOCK_ADMIN_TOKEN")
    os.environ["TUNEMOCK_ADMIN_TOKEN"] = "from-env"
    try:
        config = checked(build_config(host="0.0.0.0"))
    finally:
        if old is None:
            del os.environ["TUNEMOCK_ADMIN_TOKEN"]
        else:
            os.environ["TUNEMOCK_ADMIN_TOKEN"] = old
    assert config.admin_token == "from-env"
    assert config.allowed_hosts is None  # every name of the machine reaches a wildcard bind


def test_insecure_admin_is_the_explicit_way_out_and_hosts_follow_the_bind() -> None:
    from mock_server.cli.serve_cmd import checked
    from mock_server.config import build_config

    assert checked(build_config(host="10.1.2.3", insecure_admin=True)).allowed_hosts == (
        "10.1.2.3",
    )
    loopback = checked(build_config(host="127.0.0.1")).allowed_hosts
    assert loopback is not None and {"127.0.0.1", "localhost", "::1"} <= set(loopback)
    given = checked(build_config(host="127.0.0.1", allowed_hosts="mock.internal,127.0.0.1"))
    assert given.allowed_hosts == ("mock.internal", "127.0.0.1")


def test_a_port_in_use_is_one_line_and_no_banner() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = _serve("--port", str(port))
    assert done.returncode != 0
    line = _one_line(done.stderr + done.stdout)
    assert f"port {port}" in line and "--port" in line
    assert "listening" not in done.stderr


#: Mistakes found only once the app is built (the specs, the state, the files it reads), each
#: with what its one line says: each must be what a start says even when the port is taken.
LATE_MISTAKES = {
    "a rate limit on an unknown group": (
        ["--config", "{dir}/tunemock.yaml"],
        "did you mean 'finetune_list'",
    ),
    "a replay file that is no recording": (["--replay", "{dir}/broken.jsonl"], "not a JSON line"),
    "a scenario the schema refuses": (["--scenario", "{dir}/scenario.yaml"], "--scenario"),
    "a state file where no folder can be": (
        ["--state", "{dir}/tunemock.yaml/s.db"],
        "cannot start",
    ),
    "a flag out of range": (["--workers", "0"], "--workers"),
}


@pytest.mark.parametrize("mistake", LATE_MISTAKES)
def test_a_config_mistake_wins_over_a_port_in_use(mistake: str, tmp_path: Path) -> None:
    (tmp_path / "tunemock.yaml").write_text("rate_limits: {finetune_lst: {per_second: 1}}\n")
    (tmp_path / "broken.jsonl").write_text('{"cut\n{"operation": null}\n')
    (tmp_path / "scenario.yaml").write_text("tenants: 5\n")
    args, expected = LATE_MISTAKES[mistake]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = _serve("--port", str(port), *[a.format(dir=tmp_path) for a in args])
    assert done.returncode != 0
    line = _one_line(done.stderr + done.stdout)
    assert expected in line and "in use" not in line, line
    assert "Traceback" not in done.stderr


def _children(pid: int) -> list[int]:
    return [child.pid for child in psutil.Process(pid).children()]


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped yet (it serves nothing)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_workers_exit_when_the_master_is_killed_and_the_port_comes_back(
    tmp_path: Path,
) -> None:
    port = free_port()
    state = str(tmp_path / "state.db")
    server = start_server("--workers", "2", "--state", state, port=port, timeout=60)
    workers = _children(server.process.pid)
    try:
        assert len(workers) >= 2
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not all(_gone(w) for w in workers):
            time.sleep(0.05)
        assert [w for w in workers if not _gone(w)] == []
    finally:
        for w in workers:  # what a failure left serving
            if not _gone(w):
                os.kill(w, signal.SIGKILL)
        if server.process.stdout:
            server.process.stdout.close()
    again = start_server("--workers", "2", "--state", state, port=port, timeout=60)
    try:
        assert httpx.get(f"{again.base_url}/_mock/health", timeout=5).status_code == 200
    finally:
        stop_server(again)


def test_ctrl_c_removes_the_memory_modes_scratch_folder() -> None:
    server = start_server()
    pid = server.process.pid
    own = list(Path(tempfile.gettempdir()).glob(f"tunemock-storage-{pid}-*"))
    assert len(own) == 1  # named after its process
    urls = httpx.request(
        "GET",
        f"{server.base_url}/finetune/request/upload/pre-signed-url",
        json={"name": "x.zip"},
        headers={"x-api-key": "k-scratch"},
    )
    assert urls.status_code == 200
    put = httpx.put(urls.json()["presigned_url"], content=b"PK\x05\x06" + b"\0" * 18)
    assert put.status_code == 200, put.text
    assert any(p.is_file() for p in own[0].rglob("*"))  # the upload is in it
    os.kill(pid, signal.SIGINT)
    out, _ = server.process.communicate(timeout=20)
    if server.process.stdout:
        server.process.stdout.close()
    assert not own[0].exists(), out.decode(errors="replace")
    assert server.process.returncode == 0, out.decode(errors="replace")  # a stop, no error


def test_a_dead_processs_scratch_folder_is_swept_at_start(tmp_path: Path) -> None:
    from mock_server.storage import scratch

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    stale = tmp_path / f"tunemock-storage-{int(dead.stdout)}-abc"
    stale.mkdir()
    (stale / "blob").write_bytes(b"x" * 10)
    mine = tmp_path / f"tunemock-storage-{os.getpid()}-def"
    mine.mkdir()
    foreign = tmp_path / "tunemock-storage-oldstyle"
    foreign.mkdir()
    assert scratch.sweep(tmp_path) == [stale]
    assert not stale.exists() and mine.exists() and foreign.exists()
