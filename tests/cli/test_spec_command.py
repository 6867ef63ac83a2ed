"""`tunemock spec` validates the contract and prints its operations and its inferred decisions."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mock_server.cli import main
from mock_server.spec import SpecBundle, inferred_decisions
from mock_server.spec.inferred import README_BEGIN, README_END, readme_section, rewrite_readme

README = Path(__file__).resolve().parents[2] / "README.md"


def test_spec_prints_every_operation_with_its_source(bundle: SpecBundle) -> None:
    result = CliRunner().invoke(main, ["spec"], terminal_width=400)
    assert result.exit_code == 0, result.output
    for op in bundle.operations:
        assert op.operation_id in result.output
    assert "valid" in result.output


def test_spec_inferred_markdown_lists_every_decision(bundle: SpecBundle) -> None:
    result = CliRunner().invoke(main, ["spec", "--inferred", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [line for line in lines if line.startswith("| ") and "---" not in line]
    assert len(rows) - 1 == len(list(inferred_decisions(bundle)))  # minus the header row


def test_spec_fails_on_an_invalid_spec_dir(tmp_path: Path) -> None:
    (tmp_path / "segmind-finetune.yaml").write_text("openapi: 3.1.0\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["spec", "--spec-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "missing spec files" in result.output


def test_readme_carries_the_current_inferred_table(bundle: SpecBundle) -> None:
    text = README.read_text(encoding="utf-8")
    assert readme_section(bundle) in text, (
        "README's inferred-decisions table is stale: run "
        "`tunemock spec --inferred --update-readme README.md`"
    )


def test_update_readme_rewrites_only_the_generated_block(
    bundle: SpecBundle, tmp_path: Path
) -> None:
    readme = tmp_path / "README.md"
    stale = f"# T\nbefore\n{README_BEGIN}\nSTALE-TABLE-ROW\n{README_END}\nafter\n"
    readme.write_text(stale, encoding="utf-8")
    assert rewrite_readme(bundle, readme) is True
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# T\nbefore\n") and text.endswith("\nafter\n")
    assert "STALE-TABLE-ROW" not in text and readme_section(bundle) in text
    assert rewrite_readme(bundle, readme) is False  # idempotent
    result = CliRunner().invoke(main, ["spec", "--inferred", "--check-readme", str(readme)])
    assert result.exit_code == 0
