"""Evidence from a recording: the `x-inferred` decisions a conforming journey crosses are
confirmed, a drifted answer contradicts the guesses it breaks, the rest stay untouched."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mock_server.cli import main
from mock_server.proxy.evidence import Verdict, evidence, markdown, read_recording
from mock_server.proxy.hooks import check_delivery
from mock_server.spec import load_specs
from mock_server.testing.live import LiveServer
from tests.drift.proxy import running_proxy as drifting
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.server import KEY_A
from tests.proxy.helpers import running_proxy

HEADERS = {"x-api-key": KEY_A}
SUBMIT_GUESS = "#/components/schemas/FinetuneSubmitResponseFinetuneId/x-inferred-required"
DETAILS_GUESS = "#/components/schemas/FinetuneDetails/x-inferred-required"
WEBHOOK_GUESS = "#/components/schemas/FinetuneWebhookPayload/x-inferred"


def _journey(upstream: str, record: Path) -> None:
    with running_proxy(upstream, record=record) as proxy:
        submitted = httpx.post(
            f"{proxy.url}/finetune/request/submit", json=doc_submit_body("FLUX"), headers=HEADERS
        )
        job_id = submitted.json().get("finetune_id") or submitted.json().get("finetuneId")
        details = httpx.request(
            "GET",
            f"{proxy.url}/finetune/request/details",
            json={"request_id": job_id},
            headers=HEADERS,
        )
        assert details.status_code == 200


def _by_pointer(verdicts: list[Verdict]) -> dict[str, str]:
    return {v.decision.pointer: v.verdict for v in verdicts}


def test_a_conforming_journey_confirms_the_guesses_it_crosses(
    live_server: LiveServer, tmp_path: Path
) -> None:
    record = tmp_path / "r.jsonl"
    _journey(live_server.base_url, record)
    verdicts = evidence(load_specs(), read_recording(record))
    found = _by_pointer(verdicts)
    assert found[SUBMIT_GUESS] == "confirmed"
    assert found[DETAILS_GUESS] == "confirmed"
    assert found[WEBHOOK_GUESS] == "untouched"
    assert "contradicted" not in found.values()
    table = markdown(verdicts)
    assert table.startswith("| API | where | verdict | evidence |")
    assert table.count("\n") == len(verdicts) + 2


def test_a_renamed_field_contradicts_the_guess_it_breaks(
    live_server: LiveServer, tmp_path: Path
) -> None:
    record = tmp_path / "r.jsonl"
    with drifting(live_server.base_url, "field_renamed") as upstream:
        _journey(upstream, record)
    verdicts = evidence(load_specs(), read_recording(record))
    found = _by_pointer(verdicts)
    assert found[SUBMIT_GUESS] == "contradicted"
    assert found[DETAILS_GUESS] == "confirmed"
    (against,) = [v for v in verdicts if v.decision.pointer == SUBMIT_GUESS]
    assert "finetune_submit /finetune_id" in against.evidence


def test_a_recording_cut_mid_line_is_read_up_to_the_cut(tmp_path: Path) -> None:
    record = tmp_path / "r.jsonl"
    record.write_text(json.dumps({"operation": "finetune_list"}) + '\n{"operation": "fine')
    assert list(read_recording(record)) == [{"operation": "finetune_list"}]
    record.write_text('{"cut\n' + json.dumps({"operation": "finetune_list"}) + "\n")
    with pytest.raises(ValueError, match=r"r\.jsonl:1"):
        list(read_recording(record))


def test_spec_evidence_on_the_command_line(live_server: LiveServer, tmp_path: Path) -> None:
    """`tunemock spec --evidence FILE`: the table on stdout, exit 0 when nothing is
    contradicted and 1 when a drifted answer contradicts a guess."""
    good = tmp_path / "good.jsonl"
    _journey(live_server.base_url, good)
    held = CliRunner().invoke(main, ["spec", "--evidence", str(good)])
    assert held.exit_code == 0, held.output
    assert "| segmind-finetune |" in held.output and "| confirmed |" in held.output
    with drifting(live_server.base_url, "field_renamed") as upstream:
        bad = tmp_path / "bad.jsonl"
        _journey(upstream, bad)
    broken = CliRunner().invoke(main, ["spec", "--evidence", str(bad)])
    assert broken.exit_code == 1, broken.output
    assert "| contradicted |" in broken.output


def _delivery_record(payload: dict[str, object]) -> dict[str, object]:
    """A recorded delivery as the proxy's receiver writes it down (its checks included)."""
    hook, event, violations = check_delivery(load_specs(), json.dumps(payload).encode())
    assert hook is not None
    return {
        "kind": "webhook",
        "operation": hook.raw["post"]["operationId"],
        "event": event,
        "violations": [v.as_json() for v in violations],
    }


def test_webhook_deliveries_confirm_or_contradict_the_payload_guess() -> None:
    bundle = load_specs()
    (hook,) = [h for h in bundle.webhooks if h.name == "TRAINING_COMPLETED"]
    example = hook.raw["post"]["requestBody"]["content"]["application/json"]["examples"]
    payload = dict(example["inferred"]["value"])
    (held,) = [
        v
        for v in evidence(bundle, [_delivery_record(payload)])
        if v.decision.pointer == WEBHOOK_GUESS and v.decision.family == hook.family
    ]
    assert held.verdict == "confirmed"
    payload.pop("timestamp")  # a field the guessed common payload requires
    broken = [
        v
        for v in evidence(bundle, [_delivery_record(payload)])
        if v.decision.pointer == WEBHOOK_GUESS and v.decision.family == hook.family
    ]
    (against,) = broken
    assert against.verdict == "contradicted"
    assert "finetune_webhook_training_completed /timestamp" in against.evidence
