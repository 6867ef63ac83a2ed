"""Click options that several commands share (the `tunemock` subcommands and the harness's
`check`), so that one kind of argument is declared and checked the same way everywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

Decorated = TypeVar("Decorated", bound=Callable[..., Any])


def written_path(
    *decls: str, help: str | None = None, folder: bool = False
) -> Callable[[Decorated], Decorated]:
    """An optional option naming where the command writes: a file (a folder is refused), or
    with `folder` a folder (a file is refused); it need not exist yet. None when not given."""
    return click.option(
        *decls,
        type=click.Path(file_okay=not folder, dir_okay=folder, path_type=Path),
        default=None,
        help=help,
    )
