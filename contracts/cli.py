"""`tunemock check`: the harness on the command line, with CI reports.

Exit codes: 0 every check that ran passed (and, with --strict, no group was skipped);
1 a check failed, no check ran, a group was skipped under --strict, or the run crashed
(the reports are still written); 2 the options or the target make a run pointless (one line
on stderr, before any suite runs); 130 interrupted (the reports are still written).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from contracts.errors import HarnessError
from contracts.preflight import preflight
from contracts.report import Report, collecting, crashed, print_summary, write_json, write_junit
from contracts.runner import run_checks
from contracts.target import is_loopback
from mock_server.cli.options import written_path

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@click.command()
@click.option("--base-url", required=True, help="The API to check (the mock or the vendor).")
@click.option(
    "--api-key",
    default="tunemock-check",
    show_default=True,
    envvar="TUNEMOCK_CHECK_API_KEY",
    help="Sent as x-api-key.",
)
@click.option(
    "--spec",
    "specs",
    multiple=True,
    help="Only these API families (segmind-finetune, segmind-inference, ...).",
)
@click.option(
    "--safe/--allow-spend",
    default=None,
    help="Safe mode skips operations that spend credits; default: safe unless the "
    "base URL is loopback.",
)
@click.option("--max-examples", default=5, show_default=True, help="Generated cases per op.")
@click.option("--seed", type=int, default=0, show_default=True, help="Generation seed.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Observed mode: seconds a job may take to reach a terminal state "
    "(default: fits the vendor's documented times).",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Observed mode: seconds between status reads.",
)
@click.option(
    "--other-api-key",
    default=None,
    envvar="TUNEMOCK_CHECK_OTHER_API_KEY",
    help="A second key, for the tenancy checks (without it: a made-up key).",
)
@click.option("--strict", is_flag=True, help="A group that did not run is a failure.")
@written_path("--junit")
@written_path("--report", "report_dir", help="Write tunemock-check.json here.", folder=True)
@click.option(
    "--webhook-host",
    default="127.0.0.1",
    show_default=True,
    help="Where the harness's webhook receiver listens.",
)
@click.option("--webhook-port", type=int, default=0, help="0: a free port.")
@click.option(
    "--webhook-url",
    default=None,
    help="The URL to register for webhooks when the target cannot reach the receiver "
    "directly (a tunnel or public address forwarding to it).",
)
@click.option(
    "--family-url",
    "family_urls",
    multiple=True,
    metavar="FAMILY=URL",
    callback=lambda _ctx, _param, given: _family_urls(given),
    help="Where one API family is served when not at --base-url as tunemock mounts it "
    "(e.g. lora-trainer=https://trainer.example: the second provider's own host).",
)
def check(
    base_url: str,
    api_key: str,
    specs: tuple[str, ...],
    safe: bool | None,
    max_examples: int,
    seed: int,
    wait: float | None,
    poll: float | None,
    other_api_key: str | None,
    strict: bool,
    junit: Path | None,
    report_dir: Path | None,
    webhook_host: str,
    webhook_port: int,
    webhook_url: str | None,
    family_urls: dict[str, str],
) -> None:
    """Check an API against the contract; exit 0 only when no check failed."""
    try:
        preflight(base_url, specs, family_urls)
    except HarnessError as problem:
        click.echo(f"tunemock check: {problem}", err=True)
        sys.exit(EXIT_USAGE)
    if safe is False and not is_loopback(base_url):
        click.echo(
            f"--allow-spend: every operation runs against {base_url}, including submits that "
            f"may cost credits; generated requests per operation: up to {2 * max_examples + 1}.",
            err=True,
        )
    # Options left unset are not passed: run_checks owns their defaults (e.g. --wait's).
    given: dict[str, Any] = {
        "wait": wait,
        "poll": poll,
        "other_api_key": other_api_key,
        "webhook_url": webhook_url,
    }
    options = {name: value for name, value in given.items() if value is not None}
    code = 0
    with collecting() as made:
        try:
            report = run_checks(
                base_url,
                api_key,
                specs=list(specs) or None,
                safe=safe,
                max_examples=max_examples,
                seed=seed,
                webhook_host=webhook_host,
                webhook_port=webhook_port,
                family_urls=family_urls,
                **options,
            )
        except KeyboardInterrupt as stop:
            report, code = crashed(made, base_url, stop), EXIT_INTERRUPTED
        except Exception as error:  # a harness bug must not cost the reports of what ran
            report = crashed(made, base_url, error)
    finish(report, strict, junit, report_dir)
    sys.exit(code or (0 if report.succeeded(strict) else 1))


def finish(report: Report, strict: bool, junit: Path | None, report_dir: Path | None) -> None:
    """Write the reports first (they are the record), then the console summary."""
    if junit:
        write_junit(report, junit)
    if report_dir:
        write_json(report, report_dir, strict=strict)
    print_summary(report, strict=strict)


def _family_urls(given: tuple[str, ...]) -> dict[str, str]:
    """`FAMILY=URL` pairs (a family and its URL are checked by the preflight)."""
    found: dict[str, str] = {}
    for pair in given:
        family, sep, url = pair.partition("=")
        if not sep or not family or not url:
            raise click.BadParameter(f"{pair!r} is not FAMILY=URL", param_hint="--family-url")
        found[family] = url
    return found
