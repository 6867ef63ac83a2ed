"""The whole journey through the official SDK (presigned upload, submit, poll, download, v1
and v2 inference, webhooks), as the proxy's must-show tests run it: against the proxy in front
of a live mock, and again against `tunemock serve --replay` of its recording. Every answer
the client got is kept, in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from mock_server.testing.sdk import segmind_client
from tests.finetune.helpers import sdk_upload_and_submit
from tests.inference.params import PARAMS


@dataclass
class Journey:
    """What one run got: every answer in the order it came, and the ids it used."""

    answers: list[httpx.Response] = field(default_factory=list)
    job_id: str = ""
    statuses: list[str] = field(default_factory=list)
    watch: Callable[[httpx.Response], None] = lambda response: None

    def keep(self, response: httpx.Response) -> None:
        response.read()
        self.answers.append(response)
        self.watch(response)


def run_journey(
    base_url: str,
    key: str,
    advance: Callable[[float], None],
    hook_url: str | None = None,
    delivered: Callable[[], None] = lambda: None,
    watch: Callable[[httpx.Response], None] = lambda response: None,
) -> Journey:
    """The journey against `base_url`; `advance` moves the upstream's clock (the proxy has
    none), `delivered` waits until the webhooks of the trained job have arrived."""
    got = Journey(watch=watch)
    with (
        segmind_client(base_url, key) as sdk,
        httpx.Client(event_hooks={"response": [got.keep]}) as plain,
    ):
        sdk._client.event_hooks["response"].append(got.keep)
        if hook_url is not None:
            sdk.webhooks.add(hook_url, ["FINETUNE"])
        answer = sdk_upload_and_submit(sdk, plain.put, "proxied")
        got.job_id = answer["finetune_id"]
        got.statuses.append(sdk.finetune.details(got.job_id)["finetune"]["status"])
        sdk.finetune.list()
        advance(3600)
        details = sdk.finetune.details(got.job_id)["finetune"]
        got.statuses.append(details["status"])
        delivered()
        download = sdk.finetune.file_download(details["cloud_storage_url"])
        plain.get(download)
        sdk.run_sync("flux-dev-finetuned", finetune_id=got.job_id, **PARAMS)
        job = sdk.submit_async("flux-dev-finetuned", finetune_id=got.job_id, **PARAMS)
        got.statuses.append(job.status()["status"])
        advance(600)
        got.statuses.append(job.status()["status"])
        job.result()
    return got
