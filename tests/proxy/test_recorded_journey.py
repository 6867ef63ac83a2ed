"""One recorded journey (the SDK's whole journey through a `tunemock proxy` process, webhooks
included, ended by Ctrl-C) holds no key or signature, and is read back three ways:
`tunemock serve --replay` gives it back offline, byte for byte where the recording kept the
bytes; `tunemock spec --evidence` confirms the guesses it crossed; `tunemock scenario
--from-recording` makes a scenario `tunemock serve --scenario` loads."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

from mock_server.cli import main
from mock_server.proxy import redact
from mock_server.proxy.evidence import evidence, read_recording
from mock_server.replay.recording import body_bytes
from mock_server.spec import load_specs
from mock_server.testing.live import LiveServer, start_server, stop_server
from mock_server.testing.receiver import running_receiver
from tests.fixtures.server import KEY_A
from tests.proxy.helpers import proxy_process
from tests.proxy.journey import Journey, run_journey

SUBMIT_GUESS = "#/components/schemas/FinetuneSubmitResponseFinetuneId/x-inferred-required"
DETAILS_GUESS = "#/components/schemas/FinetuneDetails/x-inferred-required"
WEBHOOK_GUESS = "#/components/schemas/FinetuneWebhookPayload/x-inferred"


@dataclass
class Recorded:
    file: Path
    proxy_url: str
    journey: Journey


@pytest.fixture(scope="module")
def recorded(
    live_server_session: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Recorded]:
    upstream = live_server_session
    upstream.reset()
    record = tmp_path_factory.mktemp("recording") / "journey.jsonl"
    args = ["--upstream", upstream.base_url, "--record", str(record)]
    with (
        running_receiver() as receiver,
        proxy_process(*args, "--webhook-forward", receiver.url) as (proxy_url, process),
    ):

        def delivered() -> None:
            httpx.post(f"{upstream.base_url}/_mock/webhooks/flush", json={}).raise_for_status()
            receiver.wait_for(3)

        got = run_journey(
            proxy_url, KEY_A, upstream.advance, "https://app.example/hooks", delivered
        )
        assert httpx.get(f"{proxy_url}/_mock/violations").json() == []
        process.send_signal(signal.SIGINT)  # the recording ends as a person ends it: Ctrl-C
        process.wait(timeout=15)
    yield Recorded(record, proxy_url, got)


def _journal(base_url: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = httpx.get(f"{base_url}/_mock/requests?limit=1000").json()
    return list(reversed(entries))  # oldest first


def test_replay_serves_the_journey_back_offline(recorded: Recorded, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    made = CliRunner().invoke(
        main, ["scenario", "--from-recording", str(recorded.file), "-o", str(scenario)]
    )
    assert made.exit_code == 0, made.output
    # the upstream is not reached: the replaying mock knows only the file
    replay = start_server(
        "--replay", str(recorded.file), "--scenario", str(scenario), "--clock", "virtual"
    )
    try:
        again = run_journey(
            replay.base_url, "tenant-1", replay.advance, "https://app.example/hooks"
        )
        journal = [e for e in _journal(replay.base_url) if not str(e["path"]).startswith("/_mock")]
    finally:
        stop_server(replay)

    assert again.job_id == recorded.journey.job_id
    assert again.statuses == recorded.journey.statuses
    before, after = recorded.journey.answers, again.answers
    assert len(after) == len(before) == len(journal)
    flags = [str(e["replay"]) for e in journal]
    exchanges = [r for r in read_recording(recorded.file) if r.get("kind") != "webhook"]
    for entry, record, first, second in zip(journal, exchanges, before, after, strict=True):
        assert entry["path"] == second.request.url.path == first.request.url.path
        kept = body_bytes(record["response"]["body"])
        upstream = record["upstream"].encode()
        if kept is not None:  # what the client got through the proxy is what was recorded,
            # but for the secrets (signatures in URLs) redacted
            got = redact.text(first.content.decode(), [KEY_A]).encode()
            assert got == kept.replace(upstream, recorded.proxy_url.encode())
        if entry["replay"] == "recorded":
            assert kept is not None
            assert second.status_code == first.status_code, entry
            assert second.content == kept.replace(upstream, replay.base_url.encode()), entry
    by_path = dict(zip([str(e["path"]) for e in journal], flags, strict=True))
    for path in ("/finetune/request/submit", "/finetune/request/details", "/webhook/add"):
        assert by_path[path] == "recorded", path
    assert any(p.startswith("/v2/requests/") and f == "recorded" for p, f in by_path.items())
    # binary answers were recorded by size only: the mock answered them, and says so; it
    # knows the job from the recording's scenario, and refuses the redacted signature
    answered = [
        (str(e["path"]).split("/")[1], e["status"]) for e in journal if e["replay"] == "mock"
    ]
    assert answered == [("storage", 403), ("v1", 200)]
    assert flags.count("recorded") == len(journal) - 2


def test_evidence_confirms_the_submit_details_and_webhook_guesses(recorded: Recorded) -> None:
    records = list(read_recording(recorded.file))
    assert sum(1 for r in records if r.get("kind") == "webhook") == 3
    found = {v.decision.pointer: v.verdict for v in evidence(load_specs(), records)}
    assert found[SUBMIT_GUESS] == "confirmed"
    assert found[DETAILS_GUESS] == "confirmed"
    assert found[WEBHOOK_GUESS] == "confirmed"
    assert "contradicted" not in found.values()
    held = CliRunner().invoke(main, ["spec", "--evidence", str(recorded.file)])
    assert held.exit_code == 0, held.output


def test_the_recording_holds_no_key_or_signature_and_names_tenants(recorded: Recorded) -> None:
    text = recorded.file.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines()]  # every line whole
    signed = [a.text for a in recorded.journey.answers if "Signature=" in a.text]
    signatures = re.findall(r"(?:X-Amz-Signature|Signature)=([^&\"\s]+)", " ".join(signed))
    assert len(signatures) >= 2  # the upload URL's and the download URL's, as the client got
    for secret in [KEY_A, *signatures]:
        assert secret not in text, secret
    exchanges = [r for r in records if r.get("kind") != "webhook"]
    assert {r["tenant"] for r in exchanges if r["request"]["url"].startswith("/finetune")} == {
        "tenant-1"
    }
    hooks = [r for r in records if r.get("kind") == "webhook"]
    assert all(r["forwarded"]["status"] == 200 for r in hooks)
    assert [r["event"] for r in hooks] == ["TRAINING_COMPLETED", "INFERENCE_QUEUED", "AVAILABLE"]


def test_a_scenario_from_the_recording_loads(recorded: Recorded, tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["scenario", "--from-recording", str(recorded.file)])
    assert out.exit_code == 0, out.output
    document = yaml.safe_load(out.output)
    (tenant,) = document["tenants"]
    assert tenant["api_key"] == "tenant-1"
    (finetune,) = tenant["finetunes"]
    assert finetune["id"] == recorded.journey.job_id and finetune["status"] == "AVAILABLE"
    assert finetune["request"]["name"] == "proxied"
    (inference,) = tenant["inference"]
    assert inference["model"] == "flux-dev-finetuned" and inference["status"] == "COMPLETED"
    server = start_server("--scenario", _write(tmp_path, out.output), "--clock", "virtual")
    try:
        details = httpx.request(
            "GET",
            f"{server.base_url}/finetune/request/details",
            json={"request_id": finetune["id"]},
            headers={"x-api-key": "tenant-1"},
        )
    finally:
        stop_server(server)
    assert details.status_code == 200
    assert details.json()["finetune"]["status"] == "AVAILABLE"


def _write(folder: Path, text: str) -> str:
    path = folder / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)
