"""What a team integrating Segmind fine-tunes writes: their flow, against the mock, offline."""

from __future__ import annotations

import httpx


def train(client, name: str) -> str:
    """The team's own code under test: submit a Flux Pro fine-tune, return its id."""
    answer = client.finetune.submit(
        name=name,
        data_source_path="https://example.com/faces.zip",
        instance_prompt="1MAN, in a suit",
        trigger_word="1MAN",
        base_model="FLUX_PRO",
        train_type="LORA",
        machine_type="NVIDIA_H100",
        theme="GENERAL",
    )
    return str(answer["finetune_id"])


def test_training_finishes_and_the_model_downloads(segmind_client, tunemock_clock) -> None:
    job = train(segmind_client, "demo")
    assert segmind_client.finetune.details(job)["finetune"]["status"] == "REQUESTED"
    tunemock_clock.advance(3600)
    details = segmind_client.finetune.details(job)["finetune"]
    assert details["status"] == "AVAILABLE"
    url = segmind_client.finetune.file_download(details["cloud_storage_url"])
    assert httpx.get(url).status_code == 200


def test_my_webhook_handler_hears_training_complete(
    segmind_client, tunemock_clock, tunemock_server, webhook_receiver
) -> None:
    segmind_client.webhooks.add(webhook_receiver.url, ["FINETUNE"])
    job = train(segmind_client, "hooked")
    tunemock_clock.advance(3600)
    httpx.post(f"{tunemock_server.base_url}/_mock/webhooks/flush", json={})
    first = webhook_receiver.wait_for(1)[0].json()
    assert first["event"] == "TRAINING_COMPLETED" and first["finetune_id"] == job


def test_in_process_without_a_server(tunemock_app) -> None:
    listing = tunemock_app.client.get("/finetune/request/list")
    assert listing.status_code == 200 and listing.json() == []


def test_a_preloaded_model_serves_inference(segmind_client, tunemock_server) -> None:
    """Start from a known state: a scenario puts an AVAILABLE LoRA in this key's account."""
    tunemock_server.load_scenario(
        {
            "tenants": [
                {
                    "api_key": segmind_client.api_key,
                    "finetunes": [
                        {
                            "id": "my-kontext-lora",
                            "status": "AVAILABLE",
                            "request": {
                                "name": "red-hair",
                                "data_source_path": "https://example.com/faces.zip",
                                "instance_prompt": "Change the hair to red",
                                "base_model": "FLUX",
                                "train_type": "LORA",
                                "machine_type": "NVIDIA_H100",
                                "theme": "KONTEXT",
                            },
                        }
                    ],
                }
            ]
        }
    )
    assert segmind_client.finetune.details("my-kontext-lora")["finetune"]["status"] == "AVAILABLE"
    image = segmind_client.run_sync(
        "flux-dev-finetuned",
        prompt="TOK with red hair",
        finetune_id="my-kontext-lora",
        steps=25,
        seed=1,
        scheduler="simple",
        sampler_name="euler",
        aspect_ratio="1:1",
        lora_strength=1,
    )
    assert image.content[:2] == b"\xff\xd8"  # a JPEG


def test_the_app_submitted_exactly_one_flux_pro_fine_tune(segmind_client, tunemock_server) -> None:
    """Verify what the app sent, as WireMock's `verify` does: body fields must match."""
    train(segmind_client, "verified")
    tunemock_server.assert_called("finetune_submit", times=1, base_model="FLUX_PRO")
    tunemock_server.assert_called("finetune_submit", times=0, base_model="QWEN")
