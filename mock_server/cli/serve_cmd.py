"""`tunemock serve`: start the mock under uvicorn with a startup banner."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn
from rich.console import Console

from mock_server.app import create_app
from mock_server.config import Config, build_config
from mock_server.errors import ConfigError


def banner(config: Config, apis: list[str]) -> str:
    """What a person needs on start: where it listens, what it serves, how to point the SDK."""
    base = f"http://{config.host}:{config.port}"
    return "\n".join(
        [
            f"[bold]tunemock[/bold] listening on [cyan]{base}[/cyan]",
            f"  APIs     {', '.join(apis)}",
            f"  health   {base}/_mock/health",
            f"  SDK      SegmindClient(api_key='any-key', base_url='{base}/v1')",
            f"  curl     curl -H 'x-api-key: any-key' {base}/finetune/request/list",
        ]
    )


@click.command()
@click.option("--host", default=None, help="Interface to bind [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: 8000].")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML config file.",
)
def serve(
    host: str | None,
    port: int | None,
    config_file: Path | None,
) -> None:
    """Start the mock (defaults: 127.0.0.1:8000)."""
    try:
        config = build_config(config_file, host=host, port=port)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    app = create_app(config)
    Console(stderr=True).print(banner(config, list(app.state.spec.documents)))
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning")
