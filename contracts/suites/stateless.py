"""Stateless checks: schemathesis generates requests from each operation's schema
(positive and negative), and every answer is checked against the contract."""

from __future__ import annotations

import contextlib
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import negative_data_rejection

from contracts.suites.base import Suite
from contracts.target import BudgetExhausted, spends
from mock_server.spec import Operation

#: Operations random positive data must not drive: they mutate shared state or reach out
#: (a random webhook URL would be called). Negative data is always sent.
_NO_RANDOM_POSITIVE = {"webhook_add", "webhook_update", "webhook_test", "webhook_inactive"}


class Stateless(Suite):
    name = "schema"

    def run(self, families: list[str], max_examples: int, seed: int | None) -> None:
        for family in families:
            schema = schemathesis.openapi.from_path(str(self.spec.documents[family].path))
            for result in schema.get_all_operations():
                api_op = result.ok()  # type: ignore[union-attr]  # the spec files are valid
                op = self.spec.operation(str(api_op.definition.raw.get("operationId")))
                if self.target.safe and spends(op):
                    self.record("not_run", self.label(op), skipped="spends credits (safe mode)")
                    continue
                modes = [GenerationMode.NEGATIVE]
                if not spends(op) and op.operation_id not in _NO_RANDOM_POSITIVE:
                    modes.insert(0, GenerationMode.POSITIVE)
                for mode in modes:
                    self._fuzz(op, api_op, mode, max_examples, seed)

    def _fuzz(
        self, op: Operation, api_op: Any, mode: Any, max_examples: int, seed: int | None
    ) -> None:
        for case in generate_cases(api_op, mode, max_examples, seed):
            try:
                self._exercise(op, case, mode)
            except BudgetExhausted:
                return

    def _exercise(self, op: Operation, case: Any, mode: Any) -> None:
        authenticate, request_kw = request_from_case(case, self.target.base_url)
        key = self.target.tenant("fuzz") if self.target.is_mock else None
        path = self.target.at(op, case.formatted_path)
        try:
            response = self.target.request(
                op.method, path, key=key, auth=authenticate, **request_kw
            )
        except BudgetExhausted:
            raise
        except Exception as exc:  # a transport failure (dropped connection) is a finding
            self.record(
                "not_a_server_error",
                self.label(op),
                False,
                f"Received: no answer ({exc}) / Documented: an HTTP answer",
            )
            return
        self.conforms(op, response)
        if mode == GenerationMode.NEGATIVE:
            self._negative_rejected(op, case, response)

    def _negative_rejected(self, op: Operation, case: Any, response: Any) -> None:
        try:
            case.validate_response(response, checks=[negative_data_rejection])
        except (FailureGroup, Failure) as group:
            failures = group.exceptions if isinstance(group, FailureGroup) else [group]
            message = "; ".join(f.title for f in failures if isinstance(f, Failure))
            self.record(
                "negative_data_rejected",
                self.label(op),
                False,
                f"Received: {response.status_code} for invalid input ({message}) / "
                "Documented: a 4xx",
                case.as_curl_command(),
            )
            return
        self.record("negative_data_rejected", self.label(op))


def generate_cases(api_op: Any, mode: Any, max_examples: int, seed: int | None) -> list[Any]:
    """Up to `max_examples` schemathesis cases for one operation in one generation mode
    (none when the schema cannot be satisfied)."""
    cases: list[Any] = []

    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
        derandomize=seed is not None,
    )
    @given(api_op.as_strategy(generation_mode=mode))
    def collect(case: Any) -> None:
        cases.append(case)

    with contextlib.suppress(Unsatisfiable):
        collect()
    return cases


def request_from_case(case: Any, base_url: str) -> tuple[bool, dict[str, Any]]:
    """(authenticate?, httpx request keywords) for a schemathesis case. The case's own
    x-api-key slot says whether to authenticate: a negative case that dropped it checks
    auth enforcement; otherwise the harness's key replaces the generated one."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    sent = {
        k: v
        for k, v in (kwargs.pop("headers", None) or {}).items()
        if not k.lower().startswith(("user-agent", "accept", "connection"))
        # tunemock's own control header is no part of any vendor's contract: a generated
        # value (hypothesis draws header names from the specs' text) would inject a fault
        and k.lower() != "x-mock-fault"
    }
    authenticate = any(k.lower() == "x-api-key" for k in sent)
    headers = {k: v for k, v in sent.items() if k.lower() != "x-api-key"}
    cookies = kwargs.get("cookies") or {}
    if cookies:  # httpx deprecates per-request cookies: send them as the header
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    request_kw: dict[str, Any] = {"params": kwargs.get("params"), "headers": headers}
    for name in ("json", "content"):
        if kwargs.get(name) is not None:
            request_kw[name] = kwargs[name]
    if kwargs.get("files") is not None:
        request_kw["files"] = [_file_part(name, part) for name, part in kwargs["files"]]
    data = kwargs.get("data")
    if isinstance(data, bytes | str):
        request_kw["content"] = data
    elif isinstance(data, dict):  # httpx encodes form fields from strings only
        request_kw["data"] = {k: v if isinstance(v, list) else str(v) for k, v in data.items()}
    return authenticate, request_kw


def _file_part(name: str, part: Any) -> tuple[str, Any]:
    """A multipart part httpx can encode: generated scalars become text parts."""
    if isinstance(part, tuple):
        filename, content, *rest = part
        if not isinstance(content, bytes | str) and not hasattr(content, "read"):
            content = str(content)
        return name, (filename, content, *rest)
    if isinstance(part, bytes | str) or hasattr(part, "read"):
        return name, part
    return name, (None, str(part))
