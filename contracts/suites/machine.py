"""Our own hypothesis RuleBasedStateMachine over the fine-tune lifecycle, on the mock:
random interleavings of submits, clock moves, forced steps and failures, reads by the
owner and by another key — with the invariants checked after every step."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from contracts.checks import legal_edge
from contracts.errors import CheckFailure
from contracts.suites.base import Suite
from mock_server.lifecycle.from_spec import lifecycles_from_spec

LABEL = "finetune lifecycle (random)"


class LifecycleMachine(Suite):
    name = "stateful"

    def run(self, submit_body: dict[str, Any], max_examples: int) -> None:
        if not self.target.is_mock or self.target.safe:
            self.record("lifecycle_machine", LABEL, skipped="needs the mock, not safe mode")
            return
        suite, life = self, lifecycles_from_spec(self.spec)["finetune"]
        other = self.target.tenant("machine-other")
        key = self.target.tenant("machine")
        trained_from = set(life.happy_path()[life.happy_path().index(life.milestones["trained"]) :])

        class Machine(RuleBasedStateMachine):
            def __init__(self) -> None:
                super().__init__()
                self.seen: dict[str, str] = {}  # job id -> last status read

            @rule()
            def submit(self) -> None:
                answer = suite.call("finetune_submit", key=key, json=submit_body)
                if answer.status_code == 200:
                    body = answer.json()
                    job = body.get("finetune_id") or body.get("request_id")
                    if job:
                        self.seen[str(job)] = life.initial

            @rule(seconds=st.sampled_from([0.2, 1.0, 3.0, 60.0]))
            def advance(self, seconds: float) -> None:
                suite.target.admin("POST", "/clock/advance", json={"seconds": seconds})

            @rule(data=st.data())
            def force_next(self, data: st.DataObject) -> None:
                if self.seen:
                    job = data.draw(st.sampled_from(sorted(self.seen)))
                    suite.target.admin("POST", f"/jobs/{job}/status")

            @rule(data=st.data())
            def fail(self, data: st.DataObject) -> None:
                if self.seen:
                    job = data.draw(st.sampled_from(sorted(self.seen)))
                    suite.target.admin(
                        "POST",
                        f"/jobs/{job}/status",
                        json={"status": life.failure, "error_message": "x"},
                    )

            @invariant()
            def every_job_moves_legally_and_stays_private(self) -> None:
                if not self.seen:
                    return
                listing = suite.call("finetune_list", key=key).json()
                listed = {i.get("finetune_id") for i in listing if isinstance(i, dict)}
                for job, before in self.seen.items():
                    read = suite.call("finetune_details", key=key, json={"request_id": job})
                    details = read.json().get("finetune", {}) if read.status_code == 200 else {}
                    now = str(details.get("status"))
                    suite.verdict("lifecycle_legal_edge", LABEL, legal_edge, life, before, now)
                    has_url = details.get("cloud_storage_url") is not None
                    suite.expect(
                        "storage_url_exactly_when_trained",
                        LABEL,
                        has_url == (now in trained_from),
                        f"{now} with cloud_storage_url={has_url}",
                        f"a URL exactly from {life.milestones['trained']}",
                    )
                    suite.expect(
                        "list_contains_submitted",
                        LABEL,
                        job in listed,
                        f"list without {job}",
                        "every submitted job listed",
                    )
                    self.seen[job] = now
                probe = sorted(self.seen)[0]
                theirs = suite.target.request(
                    "GET", "/finetune/request/details", key=other, json={"request_id": probe}
                )
                suite.expect(
                    "other_key_never_sees_job",
                    LABEL,
                    theirs.status_code == 404,
                    f"{theirs.status_code}",
                    "404 for another key",
                )

        try:
            run_state_machine_as_test(
                Machine,
                settings=settings(
                    max_examples=max_examples,
                    stateful_step_count=8,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                ),
            )
        except CheckFailure as failure:  # recorded already; hypothesis re-raises it
            self.record(failure.check, LABEL, False, failure.message)
