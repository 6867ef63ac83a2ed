"""`tunemock spec` validates the contract and prints its operations and its inferred decisions."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mock_server.cli import main
from mock_server.spec import SpecBundle, inferred_decisions
from mock_server.spec.inferred import (
    README_BEGIN,
    README_END,
    block_markers,
    blocks_in,
    readme_section,
    rewrite_readme,
    stale_blocks,
)

ROOT = Path(__file__).resolve().parents[2]
INFERRED = ROOT / "openapi" / "INFERRED.md"


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
    # the console folds long lines (a long temp path moves where the fold falls)
    assert "missing spec files" in " ".join(result.output.split())


def test_the_inferred_table_and_the_readme_summary_are_current(bundle: SpecBundle) -> None:
    text = INFERRED.read_text(encoding="utf-8")
    assert readme_section(bundle) in text, (
        "openapi/INFERRED.md is stale: run "
        "`tunemock spec --inferred --update-readme openapi/INFERRED.md`"
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert blocks_in(readme) == ["inferred-summary"]
    assert not stale_blocks(bundle, readme), (
        "README's inferred summary is stale: run "
        "`tunemock spec --inferred --update-readme README.md`"
    )


def test_every_generated_block_of_a_file_is_rewritten_and_checked(
    bundle: SpecBundle, tmp_path: Path
) -> None:
    page = tmp_path / "page.md"
    blocks = [block_markers(name) for name in ("inferred-summary", "inferred-decisions")]
    page.write_text("".join(f"x\n{b}\nOLD\n{e}\n" for b, e in blocks), encoding="utf-8")
    stale = CliRunner().invoke(main, ["spec", "--inferred", "--check-readme", str(page)])
    said = " ".join(stale.output.split())
    assert stale.exit_code == 1 and "inferred-decisions, inferred-summary table" in said
    assert rewrite_readme(bundle, page) is True
    text = page.read_text(encoding="utf-8")
    assert "OLD" not in text and readme_section(bundle) in text
    assert "| all |" in text and not stale_blocks(bundle, text)
    plain = tmp_path / "plain.md"
    plain.write_text("no blocks here\n", encoding="utf-8")
    missing = CliRunner().invoke(main, ["spec", "--inferred", "--check-readme", str(plain)])
    assert missing.exit_code == 1


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
