"""Fuzz every operation of every spec against an in-process mock: schemathesis generates
positive and negative requests from each operation's schema, and every answer is checked
with the harness's own response checks (documented status, content type and body, no
undocumented 5xx) plus schemathesis's `negative_data_rejection`.

Shared by `tests/robustness/test_fuzz.py` (a few examples per operation) and
`bench/fuzz_long.py` (many)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import negative_data_rejection

from contracts.checks import RESPONSE_CHECKS
from contracts.errors import CheckFailure
from contracts.suites.stateless import generate_cases, request_from_case
from contracts.target import curl_of
from mock_server import Config, create_app
from mock_server.spec import Operation, SpecBundle, load_specs

FAMILIES = (
    "segmind-finetune",
    "segmind-inference",
    "segmind-platform",
    "lora-trainer",
    "mock-admin",
)
BASE_URL = "http://tunemock.test"

#: How the fuzzed app runs: the clock moves only when a request moves it, datasets are
#: accepted unread, and webhooks (random URLs from random registrations) may only go to
#: this machine, quickly given up: fuzzing never reaches out.
FUZZ_CONFIG: dict[str, Any] = {
    "clock": "virtual",
    "datasets": "skip",
    "webhook_targets": "loopback",
    "webhook_timeout": 1.0,
    "webhook_max_attempts": 1,
}


@dataclass(frozen=True)
class Finding:
    operation: str
    mode: str
    check: str
    message: str
    curl: str


@dataclass
class FuzzRun:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    per_operation: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    def summary(self, limit: int = 20) -> str:
        lines = [
            f"{f.check} · {f.operation} ({f.mode}): {f.message}\n    {f.curl}"
            for f in self.findings
        ]
        return "\n".join(lines[:limit])


def generate(api_op: Any, mode: GenerationMode, max_examples: int, seed: int | None) -> list[Any]:
    """Up to `max_examples` schemathesis cases for one operation in one mode (the harness's
    own generator)."""
    return generate_cases(api_op, mode, max_examples, seed)


def operations(bundle: SpecBundle, families: Sequence[str]) -> list[tuple[Operation, Any]]:
    """(our Operation, schemathesis's operation) for every operation of the families."""
    found = []
    for family in families:
        schema = schemathesis.openapi.from_path(str(bundle.documents[family].path))
        for result in schema.get_all_operations():
            api_op = result.ok()
            found.append((bundle.operation(str(api_op.definition.raw["operationId"])), api_op))
    return found


def _check(
    bundle: SpecBundle, op: Operation, case: Any, mode: GenerationMode, response: httpx.Response
) -> list[tuple[str, str]]:
    problems = []
    for check in RESPONSE_CHECKS:
        try:
            check(bundle, op, response)
        except CheckFailure as failure:
            problems.append((failure.check or check.__name__, failure.message))
    if mode == GenerationMode.NEGATIVE:
        with contextlib.suppress(httpx.StreamConsumed):
            response.request.read()  # a multipart body went out streamed; schemathesis reads it
        try:
            case.validate_response(response, checks=[negative_data_rejection])
        except (FailureGroup, Failure) as group:
            failures = group.exceptions if isinstance(group, FailureGroup) else [group]
            titles = "; ".join(f.title for f in failures if isinstance(f, Failure))
            problems.append(("negative_data_rejection", f"{response.status_code}: {titles}"))
    return problems


async def _exercise(
    client: httpx.AsyncClient,
    bundle: SpecBundle,
    op: Operation,
    mode: GenerationMode,
    cases: list[Any],
    run: FuzzRun,
) -> None:
    key = f"fuzz-{op.operation_id}"
    for case in cases:
        authenticate, request_kw = request_from_case(case, BASE_URL)
        if authenticate:
            request_kw["headers"]["x-api-key"] = key
        path = f"{op.prefix}{case.formatted_path}"
        label = f"{op.method} {op.mock_path}"
        try:
            response = await client.request(op.method, path, **request_kw)
        except Exception as exc:  # no answer at all (a dropped or broken response)
            run.findings.append(Finding(label, mode.value, "an_answer", repr(exc), path))
            continue
        run.requests += 1
        run.statuses[response.status_code] += 1
        run.per_operation[op.operation_id] += 1
        for check, message in _check(bundle, op, case, mode, response):
            run.findings.append(
                Finding(label, mode.value, check, message, curl_of(response.request))
            )


async def _fuzz(
    families: Sequence[str],
    max_examples: int,
    seed: int | None,
    config: dict[str, Any],
    run: FuzzRun,
) -> None:
    bundle = load_specs()
    app = create_app(Config(**(FUZZ_CONFIG | config)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, timeout=30
        ) as client,
    ):
        for op, api_op in operations(bundle, families):
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                cases = generate(api_op, mode, max_examples, seed)
                await _exercise(client, bundle, op, mode, cases, run)
            # what one operation's cases did (fault rules, credits, a moved clock) must
            # not change how the next operation is answered
            (await client.delete("/_mock/faults")).raise_for_status()
            (await client.post("/_mock/reset", json={})).raise_for_status()
        health = await client.get("/_mock/health")
        if health.status_code != 200:
            run.findings.append(Finding("GET /_mock/health", "-", "healthy", health.text, ""))


def fuzz(
    families: Sequence[str] = FAMILIES,
    max_examples: int = 10,
    seed: int | None = 0,
    **config: Any,
) -> FuzzRun:
    """Fuzz every operation of `families` with up to `max_examples` cases per mode
    (`seed` None: a new random run); `config` overrides FUZZ_CONFIG."""
    run = FuzzRun()
    anyio.run(_fuzz, families, max_examples, seed, config, run)
    return run
