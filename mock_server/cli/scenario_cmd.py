"""`tunemock scenario --from-recording FILE`: a scenario from recorded traffic."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from mock_server.cli.options import written_path
from mock_server.errors import DomainError
from mock_server.replay import read_recording
from mock_server.scenario import checked
from mock_server.scenario.recorded import from_recording
from mock_server.spec import load_specs


@click.command()
@click.option(
    "--from-recording",
    "recording",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A `tunemock proxy --record` file.",
)
@written_path("--output", "-o", help="Write the scenario here [default: standard output].")
@click.option("--name", default="recorded", show_default=True, help="The scenario's name.")
def scenario(recording: Path, output: Path | None, name: str) -> None:
    """Write a scenario (YAML) holding the recording's tenants and jobs, each in the last
    state an answer showed; `tunemock serve --scenario FILE` loads it.

    Keys are never recorded: the tenants are named tenant-1, tenant-2... in the order the
    proxy first saw their keys, and those names are their keys in the scenario."""
    bundle = load_specs()
    try:
        document = checked(bundle, from_recording(bundle, read_recording(recording), name))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    text = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True)
    header = f"# from {recording.name}: tenants named by the proxy (keys are never recorded)\n"
    if output is None:
        click.echo(header + text, nl=False)
    else:
        output.write_text(header + text, encoding="utf-8")
        jobs = sum(
            len(t.get(k, [])) for t in document["tenants"] for k in ("finetunes", "inference")
        )
        click.echo(f"{output}: {len(document['tenants'])} tenant(s), {jobs} job(s)", err=True)
