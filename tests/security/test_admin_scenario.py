"""Scenario documents are outside input: a "billion laughs" YAML (aliases nested a few deep,
under 1 KB) is refused before it expands, on the admin API and with --scenario; an export
masks keys unless asked for them, and is written off the event loop."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import httpx
import psutil
import pytest

from mock_server.tenancy import is_tenant_id, mask_secret
from mock_server.testing.live import free_port, start_server, stop_server
from tests.fixtures.server import running_app

KEY = "sk-scenario-0123456789abcdef"


def billion_laughs(depth: int = 6, width: int = 9) -> str:
    """Each level an alias list of the one before: `width ** depth` leaves once expanded,
    where a scenario takes any object (a fine-tune's request: checked, stored, exported)."""
    levels = ["laughs0: &laughs0 [" + ",".join(['"lol"'] * width) + "]"]
    for n in range(1, depth + 1):
        aliases = ", ".join([f"*laughs{n - 1}"] * width)
        levels.append(f"laughs{n}: &laughs{n} [{aliases}]")
    request = (
        "{name: lol, data_source_path: 'https://e.test/d.zip', instance_prompt: lol, "
        "base_model: FLUX, train_type: LORA, theme: KONTEXT, machine_type: NVIDIA_H100, "
        + ", ".join(levels)
        + "}"
    )
    return f"name: lol\ntenants: [{{api_key: k, finetunes: [{{request: {request}}}]}}]\n"


LAUGHS = billion_laughs()


def test_the_document_is_the_issues_size() -> None:
    assert 800 <= len(LAUGHS.encode()) <= 1000  # under 1 KB, loaded: 9 ** 6 strings


@pytest.mark.anyio
async def test_a_billion_laughs_scenario_is_refused_with_400_and_loads_nothing() -> None:
    async with running_app(key=KEY, clock="virtual", datasets="skip") as client:
        answer = await client.post(
            "/_mock/scenario", content=LAUGHS, headers={"content-type": "application/yaml"}
        )
        assert answer.status_code == 400
        assert "aliases" in answer.json()["error"]
        assert (await client.get("/_mock/jobs")).json() == []
        deep = await client.post(
            "/_mock/scenario", content="[" * 100_000, headers={"content-type": "text/yaml"}
        )
        assert deep.status_code == 400


def test_serve_refuses_a_billion_laughs_scenario_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mock_server",
            "serve",
            "--port",
            str(free_port()),
            "--scenario",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "aliases" in done.stderr and "Traceback" not in done.stderr


class _PeakRss:
    """The largest resident size of a process seen while the block runs, sampled every
    millisecond: portable where the kernel's own peak (Linux's VmHWM) is not, and a billion
    laughs held in memory lasts far longer than a millisecond."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except psutil.NoSuchProcess:  # it exited: its peak is what was seen
                return

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.timeout(90)
def test_loading_and_exporting_laughs_keeps_the_servers_peak_rss_and_health() -> None:
    server = start_server("--clock", "virtual", "--datasets", "skip")
    try:
        base = server.base_url
        ok = httpx.post(f"{base}/_mock/scenario", json={"name": "warm", "tenants": []})
        assert ok.status_code == 200
        httpx.get(f"{base}/_mock/scenario", timeout=30)  # the export's own code paths, warm
        before = psutil.Process(server.process.pid).memory_info().rss
        with _PeakRss(server.process.pid) as seen:
            for _ in range(3):
                answer = httpx.post(
                    f"{base}/_mock/scenario",
                    content=LAUGHS,
                    headers={"content-type": "application/yaml"},
                    timeout=30,
                )
                assert answer.status_code == 400
                assert httpx.get(f"{base}/_mock/scenario", timeout=30).status_code == 200
                assert httpx.get(f"{base}/_mock/health", timeout=5).status_code == 200
        grown_mb = (seen.peak - before) / 2**20
        assert grown_mb < 50, f"peak RSS grew {grown_mb:.0f} MB"
    finally:
        stop_server(server)


@pytest.mark.anyio
async def test_an_export_masks_keys_unless_asked_and_the_token_guards_them() -> None:
    document = {"name": "keys", "tenants": [{"api_key": KEY, "credits": 3}]}
    async with running_app(clock="virtual", datasets="skip", admin_token="tok") as client:
        admin = {"x-admin-token": "tok"}
        assert (await client.post("/_mock/scenario", json=document, headers=admin)).is_success
        masked = await client.get("/_mock/scenario", headers=admin)
        assert masked.status_code == 200
        assert KEY not in masked.text and mask_secret(KEY) in masked.text
        as_json = await client.get("/_mock/scenario", params={"format": "json"}, headers=admin)
        # masked: the key's mask and the start of its tenant id, which loads as a tenant of its
        # own (not an id, so not this one)
        label = as_json.json()["tenants"][0]["api_key"]
        assert label.startswith(mask_secret(KEY) + "~") and not is_tenant_id(label)
        full = await client.get("/_mock/scenario", params={"keys": "full"}, headers=admin)
        assert KEY in full.text
        refused = await client.get("/_mock/scenario", params={"keys": "full"})
        assert refused.status_code == 401 and KEY not in refused.text
