"""401 vs 403 from the config's key settings: a disabled key is 401, a key without a
permission for an operation group is 403, both in the vendor's format."""

from __future__ import annotations

from pathlib import Path

import pytest
from segmind.exceptions import SegmindError

from mock_server.config import build_config
from mock_server.testing.live import start_server, stop_server
from mock_server.testing.sdk import segmind_client
from tests.fixtures.contract import conforms

pytestmark = pytest.mark.anyio

CONFIG = """
keys:
  good: {}
  old: {disabled: true}
  reader: {forbidden: [finetune_submit, segmind-platform]}
  trainer-only: {forbidden: ["*"]}
"""


def _settings(tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "keys.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    config = build_config(path)
    return {"api_keys": config.api_keys, "key_settings": config.key_settings}


async def test_disabled_keys_401_and_forbidden_groups_403(make_client, tmp_path: Path) -> None:
    async with make_client(datasets="skip", **_settings(tmp_path)) as client:

        async def list_as(key: str) -> int:
            answer = await client.get("/finetune/request/list", headers={"x-api-key": key})
            return answer.status_code

        disabled = await client.get("/finetune/request/list", headers={"x-api-key": "old"})
        submit = await client.post(
            "/finetune/request/submit", json={}, headers={"x-api-key": "reader"}
        )
        webhooks = await client.get("/webhook/get", headers={"x-api-key": "reader"})
        trainer = await client.get(
            "/lora-trainer/finetune/x", headers={"x-api-key": "trainer-only"}
        )
        codes = {k: await list_as(k) for k in ("good", "old", "reader", "trainer-only", "stranger")}
        jobs = (await client.get("/_mock/jobs")).json()
    assert codes == {"good": 200, "old": 401, "reader": 200, "trainer-only": 403, "stranger": 401}
    assert conforms("finetune_list", disabled)["error"] == "API key disabled"
    assert "finetune_submit" in conforms("finetune_submit", submit)["error"]
    assert "segmind-platform" in conforms("webhook_get", webhooks)["error"]
    assert trainer.status_code == 403 and "detail" in trainer.json()  # FastAPI's shape
    assert jobs == []  # the refused submit made nothing


def test_the_sdk_sees_401_and_403(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    server = start_server("--config", str(path), "--datasets", "skip")
    try:
        with (
            segmind_client(server.base_url, api_key="old") as client,
            pytest.raises(SegmindError) as disabled,
        ):
            client.finetune.list()
        with (
            segmind_client(server.base_url, api_key="reader") as client,
            pytest.raises(SegmindError) as forbidden,
        ):
            client.webhooks.get()
    finally:
        stop_server(server)
    assert disabled.value.status == 401
    assert forbidden.value.status == 403
