"""`tunemock serve`: start the mock under uvicorn with a startup banner."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click
import uvicorn
from rich.console import Console

from mock_server.app import create_app
from mock_server.asgi import CONFIG_ENV, freeze_startup_heap
from mock_server.config import Config, build_config
from mock_server.errors import TunemockError
from mock_server.scenario import DEMO_SCENARIO
from mock_server.spec.loader import VENDOR_FAMILIES


def banner(config: Config, apis: list[str]) -> str:
    """What a person needs on start: where it listens, what it serves, how to point the SDK."""
    base = f"http://{config.host}:{config.port}"
    keys = f"{len(config.api_keys)} configured" if config.api_keys else "any non-empty key"
    # with keys configured, the examples use one that works (any other gets 401)
    usable = [k for k in config.api_keys if not config.key_settings.get(k, {}).get("disabled")]
    key = usable[0] if usable else "any-key"
    return "\n".join(
        [
            f"[bold]tunemock[/bold] listening on [cyan]{base}[/cyan]",
            f"  APIs     {', '.join(apis)}",
            f"  timing   {config.timing} · clock {config.clock} · "
            f"state {config.state or 'in memory'} · workers {config.workers} · "
            f"datasets {config.datasets}",
            f"  keys     x-api-key: {keys} (each key is a tenant)",
            f"  ui       [cyan]{base}/_mock/ui/[/cyan]  (the dashboard)",
            f"  admin    {base}/_mock/health · /_mock/clock · /_mock/jobs · /_mock/requests",
            f"  SDK      SegmindClient(api_key='{key}', base_url='{base}/v1'); "
            f"Finetune.base_url = '{base}/finetune/request'",
            f"  curl     curl -H 'x-api-key: {key}' {base}/finetune/request/list",
        ]
    )


@click.command()
@click.option("--host", default=None, help="Interface to bind [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: 8000].")
@click.option(
    "--timing",
    type=click.Choice(["instant", "fast", "realistic"]),
    default=None,
    help="How long each job state lasts [default: fast].",
)
@click.option(
    "--clock",
    type=click.Choice(["real", "virtual"]),
    default=None,
    help="Real time, or a clock moved only through /_mock/clock/advance [default: real].",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file: state survives restarts and kill -9 [default: in memory].",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML config file (keys, timing, limits).",
)
@click.option(
    "--datasets",
    type=click.Choice(["fetch", "skip"]),
    default=None,
    help="fetch: read and inspect every dataset ZIP at submit; skip: accept any URL "
    "unread, for demos without network [default: fetch].",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="uvicorn worker processes; more than 1 needs --state [default: 1].",
)
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Scenario file (YAML/JSON) to pre-load: tenants, credits, webhooks, jobs in any state.",
)
@click.option(
    "--demo",
    is_flag=True,
    default=False,
    help="Pre-load the shipped demo scenario (tenant demo-key); datasets are then accepted "
    "unread unless --datasets says otherwise.",
)
@click.option(
    "--cors",
    default=None,
    metavar="ORIGINS",
    help="Let browser apps from these origins (comma-separated; '*' for any) call the "
    "vendor routes: preflights answered, CORS headers added (never on /_mock) [default: off].",
)
def serve(
    host: str | None,
    port: int | None,
    timing: str | None,
    clock: str | None,
    state: Path | None,
    config_file: Path | None,
    datasets: str | None,
    workers: int | None,
    scenario: Path | None,
    demo: bool,
    cors: str | None,
) -> None:
    """Start the mock (defaults: 127.0.0.1:8000, in-memory state, real clock, fast timing).

    Every option can also come from the config file or a TUNEMOCK_<OPTION> variable
    (flags win over env, env over file)."""
    if demo:
        if scenario is not None:
            raise click.UsageError("--demo and --scenario: choose one")
        scenario, datasets = DEMO_SCENARIO, datasets or "skip"
    try:
        config = build_config(
            config_file,
            host=host,
            port=port,
            timing=timing,
            clock=clock,
            state=state,
            datasets=datasets,
            workers=workers,
            scenario=scenario,
            cors=cors,
        )
        if config.workers > 1 and config.state is None:
            raise click.UsageError("--workers > 1 needs --state FILE: memory is per process")
        # built here even with workers: creates the SQLite schema, storage secret and
        # virtual clock start once, before workers race to do it
        app = create_app(config)
    except TunemockError as exc:
        raise click.ClickException(str(exc)) from exc
    Console(stderr=True, soft_wrap=True).print(banner(config, list(VENDOR_FAMILIES)))
    if config.workers == 1:
        freeze_startup_heap()
        uvicorn.run(app, host=config.host, port=config.port, log_level="warning")
        return
    app.state.runtime.store.close()
    # the scenario is in the state file now: workers must not load it again
    os.environ[CONFIG_ENV] = replace(config, scenario=None).to_json()
    uvicorn.run(
        "mock_server.asgi:app_from_env",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level="warning",
    )
