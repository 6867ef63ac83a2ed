"""Code, specs, tests and docs name what a rule comes from (a DESIGN.md section, a security
rule, a seed page), never a tracker's issue number: a number says nothing to a reader who
has no tracker. CHANGELOG.md and bench/RESULTS.md are history and may."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WHERE = ("mock_server", "contracts", "openapi", "tests", "docs", "examples", "fixtures")
FILES = ("README.md", "ARCHITECTURE.md", "pyproject.toml")
TEXT = {".py", ".yaml", ".yml", ".md", ".json", ".toml", ".html", ".js", ".css", ".txt", ".cfg"}
#: "issue 15", "issues 3 and 4", "Issue #25", "issue no. 7"
ISSUE_NUMBER = re.compile(r"\bissues?\s*(?:no\.?\s*|#\s*)?\d+", re.IGNORECASE)


def _texts() -> list[Path]:
    found = [ROOT / name for name in FILES]
    for folder in WHERE:
        found += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.suffix in TEXT and "__pycache__" not in path.parts
        ]
    here = Path(__file__).resolve()  # its own examples below are what it looks for
    found = [path for path in found if path.resolve() != here]
    return found


def test_no_file_cites_an_issue_number() -> None:
    files = _texts()
    assert any(path.name == "mock-admin.yaml" for path in files)  # the walk reads the specs
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in files
        if path.is_file()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ISSUE_NUMBER.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_pattern_finds_what_it_must() -> None:
    for text in ("tunemock issue 15 (x)", "see Issue #25", "issues 3 and 4", "issue no. 7"):
        assert ISSUE_NUMBER.search(text), text
    for text in ("the issue's bound", "attempt #2", "tissue 5"):
        assert not ISSUE_NUMBER.search(text), text
