"""`run_checks`: every check group against one base URL, into one report. A target with
tunemock's admin API is steered (its clock moves); any other is observed (real time)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from contracts.errors import Unreachable
from contracts.report import Outcome, Report
from contracts.settings import (
    SAFE_MAX_REQUESTS,
    SAFE_MIN_INTERVAL,
    RunSettings,
    default_poll,
    default_wait,
    mutation_blocked,
    needs_steering,
)
from contracts.suites.base import Resources
from contracts.suites.flows import submit_body, upload
from contracts.suites.lifecycle import Lifecycles
from contracts.suites.links import LinkWorkflows
from contracts.suites.machine import LifecycleMachine
from contracts.suites.positive import Positive
from contracts.suites.presign import Presign
from contracts.suites.stateless import Stateless
from contracts.suites.tenancy import Tenancy
from contracts.suites.webhooks import Webhooks
from contracts.target import BudgetExhausted, Target, is_loopback
from mock_server.spec import load_specs
from mock_server.spec.loader import VENDOR_FAMILIES

#: The check of a call that got no HTTP answer (the target gone, a URL it handed out dead).
ANSWERS = "url_answers"
#: The family whose jobs the stateful groups drive (lifecycle, presign, tenancy, ...).
FINETUNE_FAMILY = "segmind-finetune"


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
    webhook_url: str | None = None,
    wait: float | None = None,
    poll: float | None = None,
    other_api_key: str | None = None,
    family_urls: Mapping[str, str] | None = None,
) -> Report:
    """Check `base_url` against the contract; safe mode is the default off loopback.
    `wait`/`poll` default to the documented durations (seconds, see contracts.settings).
    `family_urls`: families served elsewhere than `base_url` at tunemock's mount (the
    second provider's trainer on its own host), by family name."""
    unknown = [name for name in specs or () if name not in VENDOR_FAMILIES]
    if unknown:
        raise ValueError(
            f"unknown spec {', '.join(map(repr, unknown))}; known: {', '.join(VENDOR_FAMILIES)}"
        )
    families = list(specs or VENDOR_FAMILIES)
    elsewhere = dict(family_urls or {})
    if safe is None:
        safe = not all(map(is_loopback, [base_url, *elsewhere.values()]))
    settings = RunSettings(
        wait=default_wait(base_url) if wait is None else wait,
        poll=default_poll(base_url) if poll is None else poll,
        webhook_host=webhook_host,
        webhook_port=webhook_port,
        webhook_url=webhook_url,
        other_api_key=other_api_key,
        max_examples=max_examples,
        seed=seed,
    )
    target = Target(
        base_url,
        api_key,
        load_specs(),
        safe,
        max_requests=SAFE_MAX_REQUESTS if safe else None,
        min_interval=SAFE_MIN_INTERVAL if safe else 0.0,
        family_urls=elsewhere,
    )
    report = Report(base_url=target.base_url, safe=safe)
    try:
        target.detect_mock()
        report.mode = "steered" if target.is_mock else "observed"
        for group, run in _groups(target, report, settings, families):
            try:
                run()
            except BudgetExhausted as stop:
                report.add_note(str(stop))
                break
            except Unreachable as silent:  # the target's finding: the group cannot go on
                report.add(Outcome(group, ANSWERS, silent.operation, False, str(silent)))
            except Exception as exc:  # one group's crash never ends the run
                report.add(
                    Outcome(group, "harness_error", group, False, f"{type(exc).__name__}: {exc}")
                )
    finally:
        report.requests = target.requests
        target.close()
    return report.finish()


def _groups(
    target: Target, report: Report, settings: RunSettings, families: list[str]
) -> list[tuple[str, Callable[[], None]]]:
    """The groups in run order: the lifecycle group makes the resources later ones use."""
    resources = Resources()
    made = (target, report, settings, resources)
    plan: list[tuple[str, Callable[[], None]]] = [
        ("schema", lambda: Stateless(*made).run(families, settings.max_examples, settings.seed))
    ]
    positive = ("positive", lambda: Positive(*made).run(families))
    if FINETUNE_FAMILY not in families:
        return [*plan, positive]
    lifecycle = Lifecycles(*made)
    plan += [
        ("lifecycle", lifecycle.run),
        # right after the lifecycle group, whose resources it fills in: the groups after it
        # move the clock (presigned URLs' expiry, webhooks), past the v2 request's retention
        positive,
        ("tenancy", Tenancy(*made).run),
        ("presign", Presign(*made).run),
        ("webhooks", Webhooks(*made).run),
        # after every group that reads the lifecycle's v2 request: these move the clock
        # past its retention
        ("lifecycle", lifecycle.steered_checks),
        ("links", lambda: _links(made, families)),
        ("machine", lambda: _machine(made)),
    ]
    return plan


def _links(made: tuple[Any, ...], families: list[str]) -> None:
    suite = LinkWorkflows(*made)
    target: Target = made[0]
    ready = not (needs_steering(target) or mutation_blocked(target))
    dataset = upload(suite, target.tenant("links")) if ready else None
    suite.run(families, suite.settings.max_examples, dataset)


def _machine(made: tuple[Any, ...]) -> None:
    suite = LifecycleMachine(*made)
    target: Target = made[0]
    body = None
    if not (needs_steering(target) or mutation_blocked(target)):
        s3_url = upload(suite, target.tenant("machine"))
        body = submit_body(target.spec, s3_url) if s3_url else None
    suite.run(body, max(2, suite.settings.max_examples // 2), suite.settings.seed)


def assert_contract(base_url: str, api_key: str = "tunemock-check", **options: Any) -> Report:
    """For users' own pytest suites: run the checks, fail with every finding listed."""
    report = run_checks(base_url, api_key, **options)
    if not report.ok:
        lines = [f"{f.check} · {f.operation}: {f.message}" for f in report.failures]
        raise AssertionError(f"{base_url} breaks the contract:\n" + "\n".join(lines))
    return report
