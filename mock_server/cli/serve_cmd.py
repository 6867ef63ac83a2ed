"""`tunemock serve`: start the mock under uvicorn with a startup banner."""

from __future__ import annotations

import contextlib
import inspect
import os
import socket
import sqlite3
from dataclasses import replace
from pathlib import Path

import click
import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from mock_server.app import create_app
from mock_server.asgi import CONFIG_ENV, MASTER_ENV
from mock_server.cli.processes import PortTaken, bind
from mock_server.cli.upgrades import quiet_upgrade_warnings
from mock_server.config import Config, build_config
from mock_server.errors import TunemockError
from mock_server.http.admin_guard import default_allowed_hosts, is_loopback
from mock_server.scenario import DEMO_SCENARIO
from mock_server.spec.loader import VENDOR_FAMILIES
from mock_server.store.factory import described

#: The mock serves no WebSocket route: without a WebSocket library loaded, uvicorn answers
#: an upgrade as the plain HTTP request it also is (the vendor's 404), and a start does not
#: wait for the library's import (its warnings about it: cli.upgrades)
NO_WEBSOCKETS = "none"


def banner(config: Config, apis: list[str]) -> str:
    """What a person needs on start: where it listens, what it serves, how to point the SDK."""
    base = f"http://{config.host}:{config.port}"
    keys = f"{len(config.api_keys)} configured" if config.api_keys else "any non-empty key"
    # with keys configured, the examples use one that works (any other gets 401)
    usable = [k for k in config.api_keys if not config.key_settings.get(k, {}).get("disabled")]
    key = usable[0] if usable else "any-key"
    return "\n".join(
        [
            f"{_bold('tunemock')} listening on {_link(base)}",
            f"  APIs     {', '.join(apis)}",
            f"  timing   {config.timing} · clock {config.clock} · "
            f"state {described(config.state)} · workers {config.workers} · "
            f"datasets {config.datasets}",
            f"  keys     x-api-key: {keys} (each key is a tenant)",
            f"  ui       {_link(f'{base}/_mock/ui/')}  (the dashboard)",
            f"  admin    {_admin_line(config)}",
            f"           {base}/_mock/health · /_mock/clock · /_mock/jobs · /_mock/requests",
            f"  SDK      SegmindClient(api_key='{key}', base_url='{base}/v1'); "
            f"Finetune.base_url = '{base}/finetune/request'",
            f"  curl     curl -H 'x-api-key: {key}' {base}/finetune/request/list",
        ]
    )


# styled with click (already loaded for the command line), which drops the styles where
# the output is no terminal; rich is not imported for three colours (a good part of a start)
def _bold(text: str) -> str:
    return click.style(text, bold=True)


def _link(text: str) -> str:
    return click.style(text, fg="cyan")


def _admin_line(config: Config) -> str:
    if config.admin_token:
        return "/_mock and the dashboard need the admin token (--admin-token)"
    if is_loopback(config.host):
        return "/_mock and the dashboard are open to this machine (--admin-token closes them)"
    warning = click.style("/_mock and the dashboard are open to the network", fg="red", bold=True)
    return f"{warning} (--insecure-admin)"


def checked(config: Config) -> Config:
    """The config `serve` runs with: refused (one line) where it would expose the admin
    surface unasked; the Host allow-list set from the bind unless configured."""
    if config.workers > 1 and config.replay is not None:
        raise click.UsageError("--replay serves from one process: its queues are in memory")
    if config.workers > 1 and config.state is None:
        raise click.UsageError("--workers > 1 needs --state FILE or URL: memory is per process")
    if not is_loopback(config.host) and not config.admin_token and not config.insecure_admin:
        raise click.ClickException(
            f"--host {config.host} would open /_mock (reset, every key) and the dashboard to "
            "the network: set --admin-token TOKEN (or TUNEMOCK_ADMIN_TOKEN), or pass "
            "--insecure-admin to run it open"
        )
    if config.allowed_hosts is None:
        config = replace(config, allowed_hosts=default_allowed_hosts(config.host))
    return config


def _serve_workers(config: uvicorn.Config, sock: socket.socket) -> None:
    """uvicorn.run's worker branch, with the socket bound here (uvicorn binds its own)."""
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.50
        server = uvicorn.Server(config)
        Multiprocess(config, target=server.run, sockets=[sock]).run()  # type: ignore[call-arg]
    else:
        Multiprocess(config, sockets=[sock]).run()


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
    default=None,
    help="SQLite file (state survives restarts and kill -9), or postgresql://USER@HOST/DB "
    "(several instances share it) [default: in memory].",
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
    "--replay",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A `tunemock proxy --record` file: its recorded answers are given back in order "
    "(by method, path and job id), the mock answers the rest; the journal says which.",
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
@click.option(
    "--admin-token",
    default=None,
    help="Token that /_mock and the dashboard then require (header Authorization: Bearer, "
    "x-admin-token, or the dashboard's login). Also TUNEMOCK_ADMIN_TOKEN.",
)
@click.option(
    "--insecure-admin",
    is_flag=True,
    default=None,
    help="Allow a non-loopback --host without --admin-token (the admin surface open).",
)
@click.option(
    "--allowed-hosts",
    default=None,
    help="Comma-separated Host names the admin surface answers for ('*': any) "
    "[default: the bound name; with loopback, the loopback names].",
)
def serve(
    host: str | None,
    port: int | None,
    timing: str | None,
    clock: str | None,
    state: str | None,
    config_file: Path | None,
    datasets: str | None,
    workers: int | None,
    scenario: Path | None,
    replay: Path | None,
    demo: bool,
    cors: str | None,
    admin_token: str | None,
    insecure_admin: bool | None,
    allowed_hosts: str | None,
) -> None:
    """Start the mock (defaults: 127.0.0.1:8000, in-memory state, real clock, fast timing).

    Every option can also come from the config file or a TUNEMOCK_<OPTION> variable
    (flags win over env, env over file)."""
    if demo:
        if scenario is not None:
            raise click.UsageError("--demo and --scenario: choose one")
        scenario, datasets = DEMO_SCENARIO, datasets or "skip"
    try:
        config = checked(
            build_config(
                config_file,
                host=host,
                port=port,
                timing=timing,
                clock=clock,
                state=state,
                datasets=datasets,
                workers=workers,
                scenario=scenario,
                replay=replay,
                cors=cors,
                admin_token=admin_token,
                insecure_admin=insecure_admin or None,
                allowed_hosts=allowed_hosts,
            )
        )
        # everything a start can get wrong is found before the port is taken, so that its
        # one line is what is printed, port in use or not: the settings, the specs and the
        # groups the settings name, the state (the SQLite file opened, the database
        # reached), the scenario and the replay file. Built here even with workers: creates
        # the SQLite schema, storage secret and virtual clock start once, before workers
        # race to do it
        app = create_app(config)
    except TunemockError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, sqlite3.Error) as exc:  # a full disk, a read-only folder: say which
        raise click.ClickException(f"cannot start: {_os_problem(exc)}") from exc
    try:
        # bound before anything is said: a port in use is one line, not a banner and then
        # a traceback
        sock = bind(config.host, config.port)
    except PortTaken as exc:
        _discard(app)
        raise click.ClickException(str(exc)) from exc
    click.echo(banner(config, list(VENDOR_FAMILIES)), err=True)
    if config.workers == 1:
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws=NO_WEBSOCKETS))
        quiet_upgrade_warnings()  # after uvicorn's logging set-up
        # uvicorn raises the Ctrl-C it caught once it has stopped; a stop is no error
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
        if not server.started:  # the app's start-up failed (uvicorn logged why)
            raise SystemExit(3)
        return
    app.state.runtime.store.close()
    # the scenario is in the state file now: workers must not load it again
    os.environ[CONFIG_ENV] = replace(config, scenario=None).to_json()
    os.environ[MASTER_ENV] = str(os.getpid())
    settings = uvicorn.Config(
        "mock_server.asgi:app_from_env",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level="warning",
        ws=NO_WEBSOCKETS,
    )
    with contextlib.suppress(KeyboardInterrupt):
        _serve_workers(settings, sock)


def _discard(app: Starlette) -> None:
    """Let go of what create_app opened, for a start that stops before serving."""
    app.state.services.storage.close()
    app.state.runtime.store.close()


def _os_problem(exc: OSError | sqlite3.Error) -> str:
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return str(exc)
