"""What every suite shares: calling an operation and checking the answer against the spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from contracts.checks import RESPONSE_CHECKS, expect
from contracts.errors import CheckFailure
from contracts.report import Outcome, Report
from contracts.target import Target, curl_of
from mock_server.spec import Operation


class Suite:
    name = "suite"

    def __init__(self, target: Target, report: Report) -> None:
        self.target = target
        self.report = report
        self.spec = target.spec

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

    def call(self, operation_id: str, path: str | None = None, **kw: Any) -> httpx.Response:
        """Request an operation and check its answer against the contract."""
        op = self.spec.operation(operation_id)
        response = self.target.request(op.method, path or op.mock_path, **kw)
        self.conforms(op, response)
        return response
