"""A submit whose job cannot be stored (the state database went away between the charge and
the insert) answers 503 and costs nothing; the same submit, stored, costs what it costs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from mock_server import Config, create_app
from mock_server.errors import StateUnavailable
from mock_server.scenario import DEMO_SCENARIO
from mock_server.store import Record
from mock_server.store.memory import MemoryStore
from tests.finetune.helpers import doc_submit_body
from tests.scenarios.test_scenarios import AVAILABLE_ID, KEY, v2_body
from tests.trainer.test_lora_trainer import CREATE, form

pytestmark = pytest.mark.anyio

JOB_KINDS = {"finetune", "inference", "lora-trainer"}


class FailingInserts(MemoryStore):
    """A MemoryStore whose job inserts fail, while `failing`, as an unreachable database's do."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = False

    def insert(
        self,
        kind: str,
        tenant: str,
        id: str,
        doc: Mapping[str, Any],
        due: Mapping[str, float] | None = None,
    ) -> Record:
        if self.failing and kind in JOB_KINDS:
            raise StateUnavailable("the state database is unreachable")
        return super().insert(kind, tenant, id, doc, due)


SUBMITS = {
    "finetune": lambda c: c.post("/finetune/request/submit", json=doc_submit_body("FLUX")),
    "v2": lambda c: c.post("/v2/flux-dev-finetuned", json=v2_body(AVAILABLE_ID)),
    "lora-trainer": lambda c: c.post(CREATE, files=form(1)),
}


@pytest.mark.parametrize("submit", SUBMITS.values(), ids=list(SUBMITS))
async def test_a_submit_that_cannot_be_stored_costs_nothing(submit: Any) -> None:
    store = FailingInserts()
    config = Config(clock="virtual", datasets="skip", scenario=DEMO_SCENARIO)
    app = create_app(config, store=store)
    transport = httpx.ASGITransport(app=app)
    headers = {"x-api-key": KEY}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://m", headers=headers) as c,
    ):

        async def balance() -> float:
            return float((await c.get(f"/_mock/credits/{KEY}")).json()["credits"])

        start = await balance()
        store.failing = True
        assert (await submit(c)).status_code == 503
        assert await balance() == start
        store.failing = False
        assert (await submit(c)).status_code == 200
        assert await balance() < start  # the charge is real: only the failed one gave it back
