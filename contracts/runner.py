"""`run_checks`: every suite against one base URL, into one report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contracts.report import Report
from contracts.suites.lifecycle import Lifecycles
from contracts.suites.links import LinkWorkflows
from contracts.suites.machine import LifecycleMachine
from contracts.suites.stateless import Stateless
from contracts.suites.webhooks import Webhooks
from contracts.target import BudgetExhausted, Target, is_loopback
from mock_server.spec import load_specs
from mock_server.spec.loader import VENDOR_FAMILIES

#: Safe mode's bounds: few requests, slowly (a real account must not be stormed).
SAFE_MAX_REQUESTS = 200
SAFE_MIN_INTERVAL = 0.2


def run_checks(
    base_url: str,
    api_key: str = "tunemock-check",
    *,
    specs: Sequence[str] | None = None,
    safe: bool | None = None,
    max_examples: int = 5,
    seed: int | None = 0,
    webhook_host: str = "127.0.0.1",
    webhook_port: int = 0,
) -> Report:
    """Check `base_url` against the contract; safe mode is the default off loopback."""
    bundle = load_specs()
    safe = (not is_loopback(base_url)) if safe is None else safe
    families = [f for f in (specs or VENDOR_FAMILIES) if f in VENDOR_FAMILIES]
    target = Target(
        base_url,
        api_key,
        bundle,
        safe,
        max_requests=SAFE_MAX_REQUESTS if safe else None,
        min_interval=SAFE_MIN_INTERVAL if safe else 0.0,
    )
    report = Report(base_url=target.base_url, safe=safe)
    try:
        target.detect_mock()
        try:
            Stateless(target, report).run(families, max_examples, seed)
            if "segmind-finetune" in families:
                flows = Lifecycles(target, report)
                flows.run()
                Webhooks(target, report).run(webhook_host, webhook_port)
                if target.is_mock and not safe:
                    LinkWorkflows(target, report).run(families, max_examples, flows.upload())
                    machine_key = target.tenant("machine")
                    body = flows.submit_body(flows.upload(machine_key))
                    LifecycleMachine(target, report).run(body, max(2, max_examples // 2))
        except BudgetExhausted as stop:
            report.add_note(str(stop))
    finally:
        report.requests = target.requests
        target.close()
    return report.finish()


def assert_contract(base_url: str, api_key: str = "tunemock-check", **options: Any) -> Report:
    """For users' own pytest suites: run the checks, fail with every finding listed."""
    report = run_checks(base_url, api_key, **options)
    if not report.ok:
        lines = [f"{f.check} · {f.operation}: {f.message}" for f in report.failures]
        raise AssertionError(f"{base_url} breaks the contract:\n" + "\n".join(lines))
    return report
