"""Schemathesis's state machine over the spec's OpenAPI `links` (submit -> details ->
download; v2 submit -> status -> result): every step's answer checked like any other.
Steered only (random workflows spend credits). Each run uses a fresh key of its own, and
every URL the target would call (webhooks, datasets, images) points at the harness's own
receiver, never at the hosts schemathesis makes up."""

from __future__ import annotations

import contextlib
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.core.transport import Response

from contracts.settings import mutation_blocked, needs_steering
from contracts.suites.base import Suite
from contracts.suites.stateless import request_from_case
from contracts.suites.webhooks import receiver
from contracts.target import spends
from mock_server.spec.walk import walk

#: Request fields holding a URL the target calls back or fetches.
_CALLED_URLS = ("webhook_url",)
_FETCHED_URL_LISTS = ("image_urls",)


def keep_calls_home(body: Any, home: str) -> None:
    """Point every URL the target would call or fetch at `home` (the harness's receiver)."""
    if not isinstance(body, dict):
        return
    for name in _CALLED_URLS:
        if name in body:
            body[name] = home
    for name in _FETCHED_URL_LISTS:
        if isinstance(body.get(name), list):
            body[name] = [f"{home}/image_{i}.png" for i in range(len(body[name]))]


class LinkWorkflows(Suite):
    name = "links"

    def run(self, families: list[str], max_examples: int, dataset_url: str | None) -> None:
        why = needs_steering(self.target) or mutation_blocked(self.target)
        if why:
            self.record("link_workflows", "links", skipped=why)
            return
        self.key = self.target.tenant("links")
        with receiver(self.settings.webhook_host, self.settings.webhook_port) as (url, _):
            self.home = url
            try:
                self._families(families, max_examples, dataset_url)
            finally:
                self.clean_up()

    def clean_up(self) -> None:
        """Deactivate whatever webhooks the random workflows registered."""
        found = self.target.request("GET", "/webhook/get", key=self.key)
        try:
            listed = found.json()
        except ValueError:
            return
        ids = {
            str(node["webhook_id"])
            for _, node in walk(listed)
            if isinstance(node, dict) and node.get("webhook_id")
        }
        for webhook_id in ids:
            self.deactivate_webhook(self.key, webhook_id)

    def _families(self, families: list[str], max_examples: int, dataset_url: str | None) -> None:
        for family in families:
            schema = schemathesis.openapi.from_path(str(self.spec.documents[family].path))
            try:
                machine = schema.as_state_machine()
            except Exception as exc:  # a family without links has no workflow
                self.record("link_workflows", family, skipped=f"no link workflow ({exc})")
                continue
            self._drive(machine, max_examples, dataset_url)

    def _drive(self, base: Any, max_examples: int, dataset_url: str | None) -> None:
        suite = self

        class Workflow(base):  # type: ignore[misc]
            def before_call(self, case: Any) -> None:
                op_id = case.operation.definition.raw.get("operationId")
                # a generated dataset URL would send the mock to random hosts: use ours
                if op_id == "finetune_submit" and isinstance(case.body, dict) and dataset_url:
                    case.body["data_source_path"] = dataset_url
                keep_calls_home(case.body, suite.home)

            def call(self, case: Any, **kwargs: Any) -> Response:
                op = suite.spec.operation(str(case.operation.definition.raw.get("operationId")))
                if suite.target.safe and spends(op):
                    raise _SkipStep
                authenticate, request_kw = request_from_case(case, suite.target.base_url)
                response = suite.target.request(
                    op.method,
                    suite.target.at(op, case.formatted_path),
                    key=suite.key,
                    auth=authenticate,
                    **request_kw,
                )
                suite.conforms(op, response)
                return Response.from_any(response)

            def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
                return None  # checked in call(), with the harness's own named checks

        with contextlib.suppress(_SkipStep):
            run_state_machine_as_test(
                Workflow,
                settings=settings(
                    max_examples=max_examples,
                    stateful_step_count=6,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                ),
            )
        self.record("link_workflows", "links")


class _SkipStep(Exception):
    """Safe mode reached an operation that spends: the workflow stops there."""
