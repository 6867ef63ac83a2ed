"""`tunemock check`: the harness on the command line, with CI reports."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from contracts.report import print_summary, write_json, write_junit
from contracts.runner import run_checks
from contracts.target import is_loopback


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
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write tunemock-check.json here.",
)
@click.option(
    "--webhook-host",
    default="127.0.0.1",
    show_default=True,
    help="Where the harness's webhook receiver listens (must be reachable).",
)
@click.option("--webhook-port", type=int, default=0, help="0: a free port.")
def check(
    base_url: str,
    api_key: str,
    specs: tuple[str, ...],
    safe: bool | None,
    max_examples: int,
    seed: int,
    junit: Path | None,
    report_dir: Path | None,
    webhook_host: str,
    webhook_port: int,
) -> None:
    """Check an API against the contract; exit 0 only when no check failed."""
    if safe is False and not is_loopback(base_url):
        click.echo(
            f"--allow-spend: every operation runs against {base_url}, including "
            "submits that may cost credits; generated requests per operation: "
            f"up to {2 * max_examples + 1}.",
            err=True,
        )
    report = run_checks(
        base_url,
        api_key,
        specs=list(specs) or None,
        safe=safe,
        max_examples=max_examples,
        seed=seed,
        webhook_host=webhook_host,
        webhook_port=webhook_port,
    )
    print_summary(report)
    if junit:
        write_junit(report, junit)
    if report_dir:
        write_json(report, report_dir)
    sys.exit(0 if report.ok else 1)
