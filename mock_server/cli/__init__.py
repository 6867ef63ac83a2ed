"""The `tunemock` command: one click group, one module per subcommand."""

from __future__ import annotations

import click

from contracts.cli import check
from mock_server.cli.serve_cmd import serve
from mock_server.cli.spec_cmd import spec


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tunemock")
def main() -> None:
    """tunemock: an offline, stateful mock of hosted fine-tuning APIs, and a contract harness."""


main.add_command(spec)
main.add_command(serve)
# the harness lives in `contracts`; the command is registered here, where the CLI is built
main.add_command(check)

__all__ = ["main"]
