"""The README's first commands and its tested code blocks stay true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from mock_server.testing.live import LiveServer

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(name: str) -> str:
    found = re.search(rf"<!-- tested: {name} -->\n```python\n(.*?)```", README, re.S)
    assert found, f"README has no tested block {name}"
    return found.group(1)


def test_the_readme_sdk_block_runs_against_the_mock(live_server: LiveServer) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _block("readme-sdk")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"TUNEMOCK_URL": live_server.base_url, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    s3_url, count = done.stdout.split()
    assert s3_url.startswith(f"{live_server.base_url}/storage/uploads/") and count == "0"


def test_the_readme_opens_with_the_two_commands_ci_runs() -> None:
    commands = re.search(r"```sh\n(.*?)```", README, re.S)
    assert commands and README.index(commands.group(0)) < README.index("## What it is")
    serve, test = commands.group(1).strip().splitlines()
    # the suite waits on servers and clocks more than it computes: workers beyond the cores
    assert serve.endswith("tunemock serve") and re.search(r"/pytest( -n \d+)?$", test)
    # .ci/run takes its install and test command from this very line
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pattern = re.search(r'grep -m1 -E "(.+?)" README.md', ci)
    assert pattern and re.search(pattern.group(1), test)


def test_the_readme_is_a_guide_and_its_links_resolve() -> None:
    """The README stays a user's guide (details live in docs/reference.md, figures in
    bench/RESULTS.md, the inferred table in openapi/INFERRED.md), and no relative link of
    it or of the pages in docs/ points at a missing file."""
    assert len(README.splitlines()) <= 350
    for page in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name} links a missing {target}"
