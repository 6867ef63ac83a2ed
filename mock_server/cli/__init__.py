"""The `tunemock` command: one click group, one module per subcommand."""

from __future__ import annotations

import importlib
from typing import Any

import click

#: Subcommand name -> "module:attribute". Imported only when the command runs or `--help`
#: lists it: `serve` must not pay for importing the harness's schemathesis and hypothesis
#: (startup counts until the first answer), nor `check` for uvicorn and the app.
SUBCOMMANDS: dict[str, str] = {
    "spec": "mock_server.cli.spec_cmd:spec",
    "serve": "mock_server.cli.serve_cmd:serve",
    "run": "mock_server.cli.run_cmd:run",
    "proxy": "mock_server.cli.proxy_cmd:proxy",
    "scenario": "mock_server.cli.scenario_cmd:scenario",
    # the harness lives in `contracts`; the command is registered here, where the CLI is built
    "check": "contracts.cli:check",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are `module:attribute` strings, imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy=SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="tunemock")
def main() -> None:
    """tunemock: an offline, stateful mock of hosted fine-tuning APIs, and a contract harness."""


__all__ = ["main"]
