"""Options naming where a command writes take the kind of path they name and refuse the
other kind, before the command runs."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from mock_server.cli.options import written_path


@click.command()
@written_path("--out")
@written_path("--into", folder=True)
def _writer(out: Path | None, into: Path | None) -> None:
    click.echo(f"{out!r} {into!r}")


def test_a_file_option_takes_a_new_file_and_refuses_a_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    taken = runner.invoke(_writer, ["--out", str(tmp_path / "new.json")])
    assert taken.exit_code == 0 and repr(tmp_path / "new.json") in taken.output
    refused = runner.invoke(_writer, ["--out", str(tmp_path)])
    assert refused.exit_code == 2 and "is a directory" in refused.output


def test_a_folder_option_takes_a_folder_and_refuses_a_file(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    taken = runner.invoke(_writer, ["--into", str(tmp_path)])
    assert taken.exit_code == 0 and repr(tmp_path) in taken.output
    refused = runner.invoke(_writer, ["--into", str(tmp_path / "file.txt")])
    assert refused.exit_code == 2 and "is a file" in refused.output


def test_neither_given_is_none() -> None:
    assert CliRunner().invoke(_writer, []).output == "None None\n"
