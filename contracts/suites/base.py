"""What every suite shares: calling an operation and checking the answer against the spec,
and the resources one group makes for the next (a trained job, a request, a webhook)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.checks import RESPONSE_CHECKS, expect
from contracts.errors import CheckFailure
from contracts.report import Outcome, Report
from contracts.settings import RunSettings
from contracts.target import Target, curl_of
from mock_server.spec import Operation

#: The positive group's check: a valid request gets a documented 2xx.
VALID_REQUEST_SUCCEEDS = "valid_request_succeeds"


@dataclass
class Resources:
    """What the lifecycle group made, for the groups after it (tenancy, presign,
    positive): each under the key that owns it."""

    owner: str | None = None  # the key that made them
    finetune_id: str | None = None
    cloud_storage_url: str | None = None  # of a trained job
    model_id: str | None = None  # a job that reached AVAILABLE
    inference_id: str | None = None  # a v2 request
    inference_paths: tuple[str, str] | None = None  # its status and result paths
    webhook_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Suite:
    name = "suite"

    def __init__(
        self,
        target: Target,
        report: Report,
        settings: RunSettings | None = None,
        resources: Resources | None = None,
    ) -> None:
        self.target = target
        self.report = report
        self.spec = target.spec
        self.settings = settings or RunSettings(wait=60.0, poll=0.5)
        self.resources = resources or Resources()

    def key_for(self, role: str) -> str:
        """The key a group works under. Steered, a fresh tenant of its own (on tunemock
        any key is one, so runs and groups never see each other's jobs or webhooks);
        observed, the key given (a real server knows no made-up keys)."""
        return self.target.tenant(role) if self.target.is_mock else self.target.api_key

    def deactivate_webhook(self, key: str | None, webhook_id: str) -> None:
        """Leave no active webhook behind: a key may hold one fine-tune webhook at a time,
        and a real account should not keep test hooks."""
        self.target.request("GET", "/webhook/inactive", key=key, params={"webhook_id": webhook_id})

    def label(self, op: Operation) -> str:
        return f"{op.method} {op.mock_path}"

    def record(
        self,
        check: str,
        operation: str,
        passed: bool = True,
        message: str | None = None,
        curl: str | None = None,
        skipped: str | None = None,
    ) -> None:
        self.report.add(Outcome(self.name, check, operation, passed, message, curl, skipped))

    def verdict(
        self,
        check: str,
        operation: str,
        fn: Callable[..., None],
        *args: Any,
        curl: str | None = None,
    ) -> bool:
        """Run one check, fn(*args); record it; True when it held."""
        try:
            fn(*args)
        except CheckFailure as failure:
            self.record(
                failure.check or check, operation, False, failure.message, failure.curl or curl
            )
            return False
        self.record(check, operation)
        return True

    def expect(
        self, check: str, operation: str, holds: bool, received: str, documented: str
    ) -> bool:
        """Record a yes/no check with its Received / Documented wording."""
        return self.verdict(check, operation, expect, check, holds, received, documented)

    def conforms(self, op: Operation, response: httpx.Response) -> bool:
        curl = curl_of(response.request)
        ok = True
        for check in RESPONSE_CHECKS:
            ok &= self.verdict(
                check.__name__, self.label(op), check, self.spec, op, response, curl=curl
            )
        return ok

    def call(
        self, operation_id: str, path: str | None = None, *, valid: bool = False, **kw: Any
    ) -> httpx.Response:
        """Request an operation (at `path`, the spec's with its placeholders filled, or a URL
        the target handed out) and check its answer against the contract. `valid`: the
        request is one the contract accepts, so it must succeed (the positive group)."""
        op = self.spec.operation(operation_id)
        response = self.target.request(op.method, self.target.at(op, path), **kw)
        self.conforms(op, response)
        if valid:
            self.succeeded(op, response)
        return response

    def succeeded(self, op: Operation, response: httpx.Response) -> bool:
        """Record the positive check: a documented 2xx. A 5xx fails it even where the
        spec documents 5xx (a server answering 500 to everything must not pass)."""
        documented = sorted(c for c in map(str, op.raw.get("responses", {})) if c[0] == "2")
        ok = str(response.status_code) in documented
        self.report.add(
            Outcome(
                "positive",
                VALID_REQUEST_SUCCEEDS,
                self.label(op),
                ok,
                None
                if ok
                else f"Received: {response.status_code} {response.text[:160]} for a valid "
                f"request / Documented: {', '.join(documented)}",
                None if ok else curl_of(response.request),
            )
        )
        return ok
