"""Every service of one app, built once by `create_app` and handed to every handler: typed
fields, so a lookup of a missing or mistyped service fails the type check, not a request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mock_server.admin.jobs import JobKind
from mock_server.credits import Credits
from mock_server.datasets.intake import DatasetIntake
from mock_server.faults import Faults
from mock_server.finetune.domain import KIND as FINETUNE
from mock_server.finetune.domain import FinetuneService
from mock_server.finetune.render import FinetuneRenderer
from mock_server.http.disk import DiskWatch
from mock_server.http.render import AnswerCache
from mock_server.inference.domain import KIND as INFERENCE
from mock_server.inference.domain import InferenceService
from mock_server.outbound import Outbound
from mock_server.runtime import Runtime
from mock_server.scenario import ScenarioServices
from mock_server.storage.service import StorageService, storage_root
from mock_server.tenancy_upgrade import convert_key_tenants
from mock_server.trainer.domain import KIND as TRAINER
from mock_server.trainer.domain import TrainerService
from mock_server.webhooks.deliveries import KIND as DELIVERY
from mock_server.webhooks.deliveries import Deliveries, RetryPolicy
from mock_server.webhooks.dispatcher import Dispatcher as WebhookDispatcher
from mock_server.webhooks.payloads import Payloads
from mock_server.webhooks.registry import KIND as WEBHOOK
from mock_server.webhooks.registry import WebhookRegistry
from mock_server.webhooks.sender import Sender


@dataclass(frozen=True)
class Services:
    storage: StorageService
    credits: Credits
    outbound: Outbound  # every call out of the mock goes through it
    finetune: FinetuneService
    finetune_render: FinetuneRenderer
    finetune_details: AnswerCache  # rendered details answers, by job and host
    inference: InferenceService
    inference_status: AnswerCache  # rendered v2 status answers, by job
    trainer: TrainerService
    faults: Faults
    disk: DiskWatch  # a full disk met while serving, for /_mock/health
    jobs: Mapping[str, JobKind]  # every job kind the admin API lists, by its name there
    webhooks: WebhookDispatcher
    scenario: ScenarioServices
    reset: Callable[[], None]  # back to an empty mock: store, files, fault rules


def _download_ttl(rt: Runtime) -> int:
    op = rt.spec.operation("finetune_file_download")
    return int(op.raw["responses"]["200"]["content"]["text/plain"]["schema"]["x-url-ttl-seconds"])


def build_services(rt: Runtime) -> Services:
    """Every service of the app, each built once over the runtime's store and clock."""
    config = rt.config
    storage = StorageService(
        rt,
        storage_root(config.state, config.storage_dir),
        upload_ttl=config.upload_url_ttl,
        download_ttl=_download_ttl(rt),
    )
    outbound = Outbound.from_config(config)
    credits = Credits(
        rt.store, rt.tenants, config.default_credits, config.key_settings, config.costs
    )
    finetune = FinetuneService(rt, DatasetIntake(storage, config.datasets, outbound), credits)
    inference = InferenceService(rt, finetune, config.blocked_words, credits)
    trainer = TrainerService(rt, credits, outbound)
    faults = Faults(rt.store, rt.tenants, config.faults)
    # a state written before tenant ids: what its keys own moves to the keys' ids
    convert_key_tenants(
        rt.store,
        rt.tenants,
        (FINETUNE, INFERENCE, TRAINER, WEBHOOK, DELIVERY),
        also=(credits.convert_key_names, faults.convert_key_names),
    )

    def reset() -> None:
        rt.store.reset()
        storage.after_reset()
        faults.after_reset()

    webhooks = WebhookDispatcher(
        rt,
        finetune,
        WebhookRegistry(rt, config.webhook_url, config.webhook_signing),
        Deliveries(rt.store, RetryPolicy(config.webhook_max_attempts, config.webhook_retry_base)),
        Payloads(rt.spec),
        Sender(config.webhook_timeout, outbound.webhooks),
        timeout=config.webhook_timeout,
        trainer=trainer,
        inference=inference,
    )
    return Services(
        storage=storage,
        credits=credits,
        outbound=outbound,
        finetune=finetune,
        finetune_render=FinetuneRenderer(
            finetune.lifecycle, rt.schema("segmind-finetune", "FinetuneDetails")
        ),
        finetune_details=AnswerCache(),
        inference=inference,
        inference_status=AnswerCache(),
        trainer=trainer,
        faults=faults,
        disk=DiskWatch(),
        jobs={"finetune": finetune, "inference": inference, "lora-trainer": trainer},
        webhooks=webhooks,
        scenario=ScenarioServices(
            rt, finetune, inference, trainer, webhooks.registry, credits, reset
        ),
        reset=reset,
    )
