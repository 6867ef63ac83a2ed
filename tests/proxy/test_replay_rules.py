"""`tunemock serve --replay FILE` on a hand-made recording: answers go to the request that
names their job, in recorded order, byte for byte; the rest is the mock's, and the journal
says who answered; a broken file or several workers stop the start with one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mock_server.cli import main
from mock_server.testing.live import free_port
from tests.fixtures.server import running_app

pytestmark = pytest.mark.anyio
UPSTREAM = "https://api.segmind.com"


def _details(job_id: str, status: str) -> dict[str, Any]:
    # spacing and key order of their own: the bytes, not a re-encoding, come back
    text = f'{{"finetune":  {{"finetune_id": "{job_id}", "status": "{status}", '
    text += f'"url": "{UPSTREAM}/x"}}}}'
    return {
        "operation": "finetune_details",
        "upstream": UPSTREAM,
        "tenant": "tenant-1",
        "request": {
            "method": "GET",
            "url": "/finetune/request/details",
            "headers": [["x-api-key", "[redacted]"]],
            "body": {"text": json.dumps({"request_id": job_id})},
        },
        "response": {
            "status": 200,
            "headers": [["content-type", "application/json"], ["set-cookie", "[redacted]"]],
            "body": {"text": text},
        },
    }


def _write(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


async def test_answers_follow_their_job_in_recorded_order(tmp_path: Path) -> None:
    recording = _write(
        tmp_path,
        [
            _details("job-b", "REQUESTED"),
            _details("job-a", "TRAINING"),
            _details("job-a", "FAILED"),
        ],
    )
    async with running_app("k", replay=recording) as client:

        async def details(job_id: str) -> Any:
            return await client.request(
                "GET", "/finetune/request/details", json={"request_id": job_id}
            )

        first_a, b, second_a, third_a = [
            await details(j) for j in ("job-a", "job-b", "job-a", "job-a")
        ]
        journal = (await client.get("/_mock/requests")).json()
    assert first_a.json()["finetune"]["status"] == "TRAINING"
    assert second_a.json()["finetune"]["status"] == "FAILED"
    assert b.json()["finetune"]["status"] == "REQUESTED"
    expected = _details("job-b", "REQUESTED")["response"]["body"]["text"]
    assert b.content == expected.replace(UPSTREAM, "http://mock.test").encode()
    assert "set-cookie" not in b.headers  # a redacted header is not sent again
    assert third_a.status_code == 404  # the recording had no more: the mock does not know it
    assert "error" in third_a.json()
    vendor = [e for e in reversed(journal) if not e["path"].startswith("/_mock")]
    assert [e["replay"] for e in vendor] == ["recorded", "recorded", "recorded", "mock"]
    assert all("replay" not in e for e in journal if e["path"].startswith("/_mock"))


async def test_a_request_the_recording_never_saw_goes_to_the_mock(tmp_path: Path) -> None:
    recording = _write(tmp_path, [_details("job-a", "TRAINING")])
    async with running_app("k", replay=recording) as client:
        listed = await client.get("/finetune/request/list")
        (entry,) = (await client.get("/_mock/requests")).json()
    assert listed.status_code == 200 and listed.json() == []
    assert entry["replay"] == "mock"


def test_a_broken_recording_or_several_workers_stop_the_start(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"cut\n{"operation": null}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--replay", str(broken)])
    assert result.exit_code == 1, result.output
    assert "--replay" in result.output and "broken.jsonl:1: not a JSON line" in result.output
    good = _write(tmp_path, [])
    # a free port, never the default 8000: were this refusal ever to come after the bind,
    # it must not meet another test's or the user's mock there
    args = ["serve", "--port", str(free_port()), "--replay", str(good), "--workers", "2"]
    args += ["--state", str(tmp_path / "s")]
    workers = CliRunner().invoke(main, args)
    assert workers.exit_code == 2 and "one process" in workers.output
