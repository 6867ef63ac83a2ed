"""Credits: a cost table by base model and steps (fine-tunes) and by steps and hardware
(inference); at zero credits a 406 from Segmind's APIs with nothing changed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server.credits import CostTable
from mock_server.errors import ConfigError
from mock_server.scenario import DEMO_SCENARIO
from tests.finetune.helpers import doc_submit_body
from tests.fixtures.contract import conforms
from tests.scenarios.test_scenarios import AVAILABLE_ID, KEY, v2_body

pytestmark = pytest.mark.anyio

COSTS: dict[str, Any] = {
    "finetune": [
        {
            "when": {"base_model": "FLUX_PRO"},
            "base": 20,
            "per": {"advance_parameters.iterations": 0.1},
        },
        {
            "when": {"base_model": ["FLUX", "QWEN"]},
            "base": 5,
            "per": {"advance_parameters.steps": 0.01},
        },
    ],
    "inference": [
        {"when": {"hardware": "fast"}, "base": 2, "per": {"steps": 0.5}},
        {"per": {"steps": 0.1}},
    ],
}


async def balance(client: httpx.AsyncClient, key: str) -> float:
    answer = conforms("admin_credits_get", await client.get(f"/_mock/credits/{key}"))
    return float(answer["credits"])


async def test_fine_tunes_cost_by_base_model_and_steps(make_client) -> None:
    async with make_client(key="k", costs=COSTS, default_credits=1000, datasets="skip") as client:
        pro = doc_submit_body("FLUX_PRO")  # iterations 300 → 20 + 30
        qwen = doc_submit_body("QWEN")  # steps 1000 → 5 + 10
        assert (await client.post("/finetune/request/submit", json=pro)).status_code == 200
        after_pro = await balance(client, "k")
        assert (await client.post("/finetune/request/submit", json=qwen)).status_code == 200
        after_qwen = await balance(client, "k")
    assert after_pro == 1000 - 50
    assert after_qwen == after_pro - 15


async def test_inference_costs_by_steps_and_hardware(make_client) -> None:
    async with make_client(key=KEY, costs=COSTS, scenario=DEMO_SCENARIO, clock="virtual") as client:
        start = await balance(client, KEY)  # 500, from the scenario
        body = v2_body(AVAILABLE_ID)  # steps 25, hardware "cost" → 2.5
        assert (await client.post("/v1/flux-dev-finetuned", json=body)).status_code == 200
        cheap = await balance(client, KEY)
        fast = {**body, "hardware": "fast", "steps": 10}  # → 2 + 5
        assert (await client.post("/v2/flux-dev-finetuned", json=fast)).status_code == 200
        dear = await balance(client, KEY)
    assert start - cheap == pytest.approx(2.5)
    assert cheap - dear == pytest.approx(7)


async def test_406_at_zero_credits_changes_nothing(make_client) -> None:
    async with make_client(
        key=KEY, scenario=DEMO_SCENARIO, clock="virtual", datasets="skip"
    ) as client:
        await client.put(f"/_mock/credits/{KEY}", json={"credits": 0})
        before = (await client.get("/_mock/jobs")).json()
        submit = await client.post("/finetune/request/submit", json=doc_submit_body("FLUX"))
        run = await client.post("/v1/flux-dev-finetuned", json=v2_body(AVAILABLE_ID))
        queued = await client.post("/v2/flux-dev-finetuned", json=v2_body(AVAILABLE_ID))
        after = (await client.get("/_mock/jobs")).json()
        left = await balance(client, KEY)
    for answer in (submit, run, queued):
        assert answer.status_code == 406
        assert answer.json()["error"].startswith("Insufficient credits")
    assert after == before and left == 0


@pytest.mark.parametrize(
    ("costs", "words"),
    [
        ({"finetune": "ten"}, "a number or a list"),
        ({"finetune": [{"base": 1, "price": 2}]}, "only when, base and per"),
        ({"inference": [{"per": {"steps": "lots"}}]}, "must be numbers"),
        ({"inference": [{"when": ["hardware"]}]}, "map field names"),
    ],
)
def test_a_malformed_cost_table_is_a_config_error(costs: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        CostTable(costs)
    assert words in str(refused.value)


def test_no_matching_rule_is_free_and_costs_never_go_negative() -> None:
    table = CostTable({"inference": [{"when": {"hardware": "fast"}, "base": -5}]})
    assert table.cost_of("inference", {"hardware": "cost"}) == 0
    assert table.cost_of("inference", {"hardware": "fast"}) == 0
    assert table.cost_of("finetune", {}) == 0
