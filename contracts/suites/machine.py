"""Our own hypothesis RuleBasedStateMachine over the fine-tune lifecycle, on the mock
(steered only): random interleavings of submits, clock moves, forced steps and failures,
reads by the owner and by another key, with the invariants checked after every step. A
clock move may pass several states between two reads, so a read is judged by
reachability, not by one edge. A failure lists the example's steps as curls."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from contracts.checks import PresenceRule, legal_progress, present_as_documented
from contracts.errors import CheckFailure
from contracts.settings import mutation_blocked, needs_steering
from contracts.suites.base import Suite
from contracts.target import curl_of
from mock_server.lifecycle.from_spec import lifecycles_from_spec

LABEL = "finetune lifecycle (random)"


class LifecycleMachine(Suite):
    name = "machine"

    def run(self, submit_body: dict[str, Any] | None, max_examples: int, seed: int | None) -> None:
        why = needs_steering(self.target) or mutation_blocked(self.target)
        if why or submit_body is None:
            why = why or "needs an uploaded dataset (the upload failed)"
            self.record("lifecycle_machine", LABEL, skipped=why)
            return
        suite, life = self, lifecycles_from_spec(self.spec)["finetune"]
        other = self.target.tenant("machine-other")
        key = self.target.tenant("machine")
        schemas = self.spec.documents["segmind-finetune"].raw["components"]["schemas"]
        url_rule = PresenceRule.from_schema("cloud_storage_url", schemas["FinetuneDetails"])
        path = life.happy_path()
        trained_from = set(path[path.index(url_rule.present_from) :])
        steps: list[str] = []  # the current example's requests, as curls

        def step(response: httpx.Response) -> httpx.Response:
            steps.append(curl_of(response.request))
            return response

        def check(name: str, fn: Any, *args: Any) -> None:
            """Like Suite.verdict, with the example's steps as the reproduction."""
            try:
                fn(*args)
            except CheckFailure as failure:
                suite.record(failure.check or name, LABEL, False, failure.message, "\n".join(steps))
                return
            suite.record(name, LABEL)

        class Machine(RuleBasedStateMachine):
            def __init__(self) -> None:
                super().__init__()
                steps.clear()
                self.seen: dict[str, str] = {}  # job id -> last status read
                self.trained: set[str] = set()  # jobs seen at or past the URL's state

            @rule()
            def submit(self) -> None:
                answer = step(suite.call("finetune_submit", key=key, json=submit_body))
                if answer.status_code == 200:
                    body = answer.json()
                    job = body.get("finetune_id") or body.get("request_id")
                    if job:
                        self.seen[str(job)] = life.initial

            @rule(seconds=st.sampled_from([0.2, 1.0, 3.0, 60.0]))
            def advance(self, seconds: float) -> None:
                step(suite.target.admin("POST", "/clock/advance", json={"seconds": seconds}))

            @rule(data=st.data())
            def force_next(self, data: st.DataObject) -> None:
                if self.seen:
                    job = data.draw(st.sampled_from(sorted(self.seen)))
                    step(suite.target.admin("POST", f"/jobs/{job}/status"))

            @rule(data=st.data())
            def fail(self, data: st.DataObject) -> None:
                if self.seen:
                    job = data.draw(st.sampled_from(sorted(self.seen)))
                    step(
                        suite.target.admin(
                            "POST",
                            f"/jobs/{job}/status",
                            json={"status": life.failure, "error_message": "x"},
                        )
                    )

            @invariant()
            def every_job_moves_legally_and_stays_private(self) -> None:
                if not self.seen:
                    return
                listing = step(suite.call("finetune_list", key=key)).json()
                listed = {i.get("finetune_id") for i in listing if isinstance(i, dict)}
                for job, before in self.seen.items():
                    read = step(suite.call("finetune_details", key=key, json={"request_id": job}))
                    details = read.json().get("finetune", {}) if read.status_code == 200 else {}
                    now = str(details.get("status"))
                    check("lifecycle_legal_edge", legal_progress, life, before, now)
                    if now in trained_from:
                        self.trained.add(job)
                    url = details.get("cloud_storage_url")
                    reached = job in self.trained
                    check(
                        "storage_url_exactly_when_trained",
                        present_as_documented,
                        url_rule,
                        life,
                        now,
                        url,
                        reached,
                    )
                    check("list_contains_submitted", _expect_listed, job in listed, job)
                    self.seen[job] = now
                probe = sorted(self.seen)[0]
                theirs = step(
                    suite.target.request(
                        "GET", "/finetune/request/details", key=other, json={"request_id": probe}
                    )
                )
                check("other_key_never_sees_job", _expect_hidden, theirs.status_code)

        Machine._hypothesis_internal_use_seed = seed  # what @hypothesis.seed sets
        try:
            run_state_machine_as_test(
                Machine,
                settings=settings(
                    max_examples=max_examples,
                    stateful_step_count=8,
                    deadline=None,
                    database=None,
                    derandomize=False,  # the seed decides the examples
                    suppress_health_check=list(HealthCheck),
                ),
            )
        except CheckFailure as failure:  # a check outside the invariant's own recording
            self.record(failure.check, LABEL, False, failure.message, "\n".join(steps))


def _expect_listed(listed: bool, job: str) -> None:
    if not listed:
        raise CheckFailure("list_contains_submitted", f"list without {job}", "every job listed")


def _expect_hidden(status: int) -> None:
    if status != 404:
        raise CheckFailure("other_key_never_sees_job", f"{status}", "404 for another key")
