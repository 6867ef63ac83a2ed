"""`tunemock proxy --upstream URL`: check (and record) real traffic against the contract."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit

import click
import uvicorn

from mock_server.cli.options import written_path
from mock_server.errors import TunemockError
from mock_server.proxy import ProxySettings, create_proxy_app
from mock_server.spec import SpecBundle
from mock_server.spec.loader import VENDOR_FAMILIES, load_documents


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _upstream(url: str, host: str, port: int) -> str:
    """The upstream's scheme://host[:port]; refused when it has a path or is the proxy itself
    (the proxy never calls itself: a loop would fill both ends until they fall over)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--upstream")
    if parts.path.strip("/") or parts.query:
        raise click.BadParameter(
            f"{url!r}: give the origin only (scheme://host[:port]); paths are the client's",
            param_hint="--upstream",
        )
    upstream_port = parts.port or (443 if parts.scheme == "https" else 80)
    same_host = parts.hostname == host or (_loopback(parts.hostname) and _loopback(host))
    if same_host and upstream_port == port:
        raise click.BadParameter(f"{url!r} is this proxy itself", param_hint="--upstream")
    return f"{parts.scheme}://{parts.netloc}"


def _bundle(names: tuple[str, ...]) -> SpecBundle:
    chosen = names or VENDOR_FAMILIES
    unknown = sorted(set(chosen) - set(VENDOR_FAMILIES))
    if unknown:
        raise click.BadParameter(
            f"unknown spec {', '.join(unknown)}; known: {', '.join(VENDOR_FAMILIES)}",
            param_hint="--spec",
        )
    documents = load_documents()
    return SpecBundle({name: documents[name] for name in chosen})


@click.command()
@click.option(
    "--upstream", required=True, help="The API to forward to, e.g. https://api.segmind.com"
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=8100, show_default=True, help="Port (0: any free one).")
@click.option(
    "--spec",
    "specs",
    multiple=True,
    help="Check against this spec only (repeatable) [default: every vendor spec].",
)
@written_path("--record", help="Append every exchange to FILE as JSON lines, secrets redacted.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=120.0,
    show_default=True,
    help="Seconds the upstream may take to answer.",
)
@click.option(
    "--webhook-forward",
    metavar="URL",
    default=None,
    help="Your app's webhook receiver: registered webhook_urls are replaced by the proxy's "
    "own receiver, whose deliveries are checked, recorded and forwarded to URL.",
)
@click.option(
    "--hook-base",
    metavar="URL",
    default=None,
    help="With --webhook-forward: the proxy's address as the upstream reaches it (e.g. a "
    "tunnel to this port) [default: the proxy's own address].",
)
def proxy(
    upstream: str,
    host: str,
    port: int,
    specs: tuple[str, ...],
    record: Path | None,
    timeout: float,
    webhook_forward: str | None,
    hook_base: str | None,
) -> None:
    """Forward every request to --upstream unchanged and answer exactly what it answered,
    checking both against openapi/: each violation is printed, listed at /_mock/violations
    and flagged in /_mock/requests.

    The client's own key goes upstream; the proxy keeps none. It binds loopback only: it
    has no admin token, and its journal shows what passed through."""
    if not _loopback(host):
        raise click.BadParameter("the proxy binds a loopback address only", param_hint="--host")
    origin = _upstream(upstream, host, port)
    for name, url in (("--webhook-forward", webhook_forward), ("--hook-base", hook_base)):
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint=name)
    try:
        bundle = _bundle(specs)
    except TunemockError as exc:
        raise click.ClickException(str(exc)) from exc
    sock = socket.socket()
    sock.bind((host, port))
    public = f"http://{host}:{sock.getsockname()[1]}"
    settings = ProxySettings(
        upstream=origin,
        public=public,
        bundle=bundle,
        record=record,
        timeout=timeout,
        webhook_forward=webhook_forward,
        hook_base=hook_base,
        report=lambda line: click.echo(line, err=True),
    )
    click.echo(f"tunemock proxy listening on {public} -> {origin}", err=True)
    if record is not None:
        click.echo(f"  recording to {record} (secrets redacted)", err=True)
    if webhook_forward is not None:
        click.echo(
            f"  webhooks via {hook_base or public}/_mock/hooks -> {webhook_forward}", err=True
        )
    config = uvicorn.Config(create_proxy_app(settings), log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
