"""`tunemock run -- COMMAND`: run a program unchanged with the segmind SDK routed to the mock
(through `mock_server/testing/autoroute/sitecustomize.py`, in every Python process it starts)."""

from __future__ import annotations

import os
import shutil
import sys

import click

from mock_server.testing.sdk import AUTOROUTE_DIR, URL_ENV

DEFAULT_URL = "http://127.0.0.1:8000"


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--url",
    envvar=URL_ENV,
    default=DEFAULT_URL,
    show_default=True,
    help=f"The mock's base URL (env {URL_ENV}).",
)
@click.option(
    "--api-key",
    default=None,
    help="Sent by SDK clients made without a key (SEGMIND_API_KEY); default: the "
    "environment's SEGMIND_API_KEY, else 'tunemock-run'.",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(url: str, api_key: str | None, command: tuple[str, ...]) -> None:
    """Run COMMAND with the segmind SDK sent to the mock at --url, no code changed.

    Every SDK namespace (fine-tune, webhooks, files) and every SegmindClient() made without
    a base_url go to the mock, in the command's Python processes and their children."""
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} has no http:// or https://", param_hint="--url")
    env = dict(os.environ)
    env[URL_ENV] = url.rstrip("/")
    env["TUNEMOCK_RUN_PYTHON"] = sys.executable  # named when another Python cannot be routed
    env["SEGMIND_API_KEY"] = api_key or env.get("SEGMIND_API_KEY") or "tunemock-run"
    paths = [str(AUTOROUTE_DIR), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    program = shutil.which(command[0], path=env.get("PATH"))
    if program is None:
        click.echo(f"tunemock run: {command[0]}: command not found", err=True)
        sys.exit(127)
    sys.stdout.flush()
    os.execve(program, list(command), env)
