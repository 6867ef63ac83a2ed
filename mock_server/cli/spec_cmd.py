"""`tunemock spec`: validate the contract and print its operations or its inferred decisions."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from mock_server.cli.options import written_path
from mock_server.errors import SpecError
from mock_server.spec import SpecBundle, inferred_decisions, load_specs, markdown_table
from mock_server.spec.inferred import blocks_in, rewrite_readme, stale_blocks


def _operations_table(bundle: SpecBundle) -> Table:
    table = Table(title="Operations served by tunemock", show_lines=False)
    for column in ("API", "method", "path (on the mock)", "operationId"):
        table.add_column(column, no_wrap=True)
    for column in ("x-source", "inferred"):
        table.add_column(column, overflow="fold")
    for op in bundle.operations:
        table.add_row(
            op.family,
            op.method,
            op.mock_path,
            op.operation_id,
            "\n".join(op.sources),
            "yes" if op.inferred else "",
        )
    return table


def _inferred_table(bundle: SpecBundle) -> Table:
    table = Table(title="Every x-inferred decision", show_lines=True)
    for column in ("API", "where", "why"):
        table.add_column(column, overflow="fold")
    for d in inferred_decisions(bundle):
        why = d.reason + (f" (added values: {', '.join(d.values)})" if d.values else "")
        table.add_row(d.family, d.where, why)
    return table


@click.command()
@click.option(
    "--spec-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Read the specs from this folder instead of the shipped openapi/.",
)
@click.option("--inferred", is_flag=True, help="List every x-inferred decision instead.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "markdown"]),
    default="table",
    show_default=True,
    help="Output format for --inferred.",
)
@written_path(
    "--update-readme", help="With --inferred: rewrite the generated table in this README."
)
@click.option(
    "--check-readme",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --inferred: exit 1 if this README's generated table is stale.",
)
@click.option(
    "--evidence",
    "recording",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A `tunemock proxy --record` file: mark each x-inferred decision confirmed, "
    "contradicted or untouched by that traffic; exit 1 on a contradiction.",
)
def spec(
    spec_dir: Path | None,
    inferred: bool,
    fmt: str,
    update_readme: Path | None,
    check_readme: Path | None,
    recording: Path | None,
) -> None:
    """Validate the OpenAPI files and print the operation table (or the inferred decisions)."""
    # wide enough for the tables when piped (rich assumes 80 columns without a terminal)
    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 220)
    err = Console(stderr=True)
    try:
        bundle = load_specs(spec_dir)
        bundle.validate()
    except SpecError as exc:
        err.print(f"[red]spec invalid:[/red] {exc}")
        sys.exit(1)
    err.print(f"[green]valid[/green] OpenAPI 3.1: {', '.join(bundle.documents)}")
    if recording is not None:
        sys.exit(_evidence(bundle, recording, err))
    if not inferred:
        console.print(_operations_table(bundle))
        return
    if check_readme is not None:
        text = check_readme.read_text(encoding="utf-8")
        stale = stale_blocks(bundle, text) if blocks_in(text) else ["inferred-decisions"]
        if stale:
            err.print(
                f"[red]{check_readme}: the {', '.join(stale)} table is stale or missing[/red]; "
                f"run: tunemock spec --inferred --update-readme {check_readme}"
            )
            sys.exit(1)
        err.print(f"{check_readme}: inferred-decisions table is current")
        return
    if update_readme is not None:
        changed = _update(bundle, update_readme)
        err.print(f"{update_readme}: {'updated' if changed else 'already current'}")
        return
    if fmt == "markdown":
        click.echo(markdown_table(bundle), nl=False)
    else:
        console.print(_inferred_table(bundle))


def _update(bundle: SpecBundle, readme: Path) -> bool:
    try:
        return rewrite_readme(bundle, readme)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _evidence(bundle: SpecBundle, recording: Path, err: Console) -> int:
    """Print the verdicts as a markdown table; 1 when the recording contradicts a guess."""
    # imported here: the proxy's checks load the harness, which `spec` needs for nothing else
    from mock_server.proxy.evidence import VERDICTS, evidence, markdown, read_recording

    try:
        verdicts = evidence(bundle, read_recording(recording))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(markdown(verdicts), nl=False)
    counts = {name: sum(1 for v in verdicts if v.verdict == name) for name in VERDICTS}
    err.print(", ".join(f"{n} {name}" for name, n in counts.items()))
    return 1 if counts["contradicted"] else 0
