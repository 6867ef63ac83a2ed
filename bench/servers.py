"""Start, probe, measure and stop the servers the benchmarks compare (tunemock, the bare app,
Prism), and run the load generator against them in its own process."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PRISM_DIR = BENCH / ".prism"  # git-ignored: npm installs Prism here, not globally
PRISM_VERSION = "5.14.2"
PRISM_JS = PRISM_DIR / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
API_KEY = "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    startup_s: float  # from spawn to the first 200 on its probe

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the process and its children have used so far."""
        return sum(_cpu_s(pid) for pid in _tree(self.process.pid))

    def rss_mb(self) -> float:
        """Resident memory of the process and its children (npx/uvicorn may fork)."""
        return sum(_rss_kb(pid) for pid in _tree(self.process.pid)) / 1024


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                ppid = int(_stat_fields(int(entry.name))[1])
                children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces): state, ppid, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_s(pid: int) -> float:
    with contextlib.suppress(OSError):
        fields = _stat_fields(pid)
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(
    name: str,
    cmd: list[str],
    port: int,
    probe: str,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Server:
    """Spawn `cmd` and poll GET `probe` every 5 ms until it answers 200."""
    started = time.perf_counter()
    process = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,  # Prism logs every request; an unread pipe would stall it
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}{probe}"
    with httpx.Client(timeout=1.0, headers={"x-api-key": API_KEY}) as client:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode}: {' '.join(cmd)}")
            with contextlib.suppress(httpx.TransportError):
                if client.get(url).status_code == 200:
                    return Server(name, process, port, time.perf_counter() - started)
            time.sleep(0.005)
    stop_process(process)
    raise SystemExit(f"{name} gave no 200 on {probe} within {timeout:.0f}s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start_tunemock(name: str, *args: str, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "mock_server", "serve", "--port", str(port), *args]
    return start(name, cmd, port, "/_mock/health", env)


def start_bare() -> Server:
    port = free_port()
    cmd = [sys.executable, str(BENCH / "bare_app.py"), "--port", str(port)]
    return start("bare uvicorn", cmd, port, "/_mock/health")


def ensure_prism() -> Path:
    """Install Prism into bench/.prism the first time (npm registry); the CLI's entry script."""
    if not PRISM_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm not found: Prism cannot be installed (use --no-prism)")
        PRISM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund", "--silent",
             f"@stoplight/prism-cli@{PRISM_VERSION}"],
            check=True,
        )  # fmt: skip
    return PRISM_JS


def start_prism(spec: str, probe: str) -> Server:
    """Prism 5 static mocking of one of our OpenAPI 3.1 files (it parses them as they are)."""
    node = shutil.which("node") or "node"
    port = free_port()
    cmd = [node, str(ensure_prism()), "mock", "-h", "127.0.0.1", "-p", str(port), spec]
    return start(f"Prism ({Path(spec).name})", cmd, port, probe)


def load(
    server: Server, requests: list[dict[str, Any]], connections: int, seconds: float, warmup: float
) -> dict[str, Any]:
    """Drive `requests` round-robin at `server` from a separate loadgen.py process."""
    spec = {
        "host": "127.0.0.1",
        "port": server.port,
        "connections": connections,
        "seconds": seconds,
        "warmup": warmup,
        "requests": requests,
    }
    out = subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py"), "--spec", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result
