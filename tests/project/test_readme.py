"""The README's first commands and its tested code blocks stay true, and every other block
runs as written in a fresh shell after the first command."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest

from mock_server.cli import main
from mock_server.proxy.app import ADMIN_ROUTES as PROXY_ROUTES
from mock_server.spec.index import load_specs
from mock_server.testing.live import LiveServer

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SPEC = load_specs()


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


# --- every block after the two commands runs as written, in a fresh shell -------------------
#: Programs the first command installs into .venv/bin: a fresh shell has none on its PATH.
VENV_PROGRAMS = {"tunemock", "python", "python3", "pip", "pytest"}
#: Commands that keep their shell: what calls them goes in a later block (a second shell).
FOREGROUND = {"serve", "proxy"}


def _fenced() -> list[tuple[str, str]]:
    """Every fenced block of the README after the two commands: (language, text)."""
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", README, re.S | re.M)
    return blocks[1:]


def _commands(block: str) -> list[list[str]]:
    """A shell block's commands as sh splits them: continuations joined, comments dropped, a
    quoted string running over lines kept whole, `&&`, `;` and `|` ending a command."""
    commands: list[list[str]] = []
    pending = ""
    for line in block.replace("\\\n", " ").splitlines():
        pending += line + "\n"
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        pending = ""
        current: list[str] = []
        for word in [*words, ";"]:
            if word in ("&&", "||", ";", "|"):
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(word)
    assert not pending, f"unclosed quote in {block!r}"
    return commands


def _program(words: list[str]) -> tuple[str, list[str]]:
    """The program a command runs and its arguments, after any VAR=value before it."""
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
        words = words[1:]
    return words[0], words[1:]


def _parse_tunemock(args: list[str]) -> click.Context:
    """Parse a `tunemock` command line as the CLI would (every subcommand and flag must exist,
    every value convert), without running it."""
    group = main.make_context("tunemock", list(args))
    command = main.get_command(group, args[0])
    assert command is not None, f"tunemock has no subcommand {args[0]}"
    return command.make_context(args[0], list(args[1:]), parent=group)


def _shell_commands() -> list[tuple[list[str], bool]]:
    """Every command of the sh blocks, and whether it is the last of its block."""
    found = []
    for language, block in _fenced():
        if language == "sh":
            commands = _commands(block)
            found += [(words, n == len(commands) - 1) for n, words in enumerate(commands)]
    return found


def _check_command(words: list[str], last: bool, proxy_ports: set[int]) -> None:
    program, args = _program(words)
    name = Path(program).name
    if name in VENV_PROGRAMS:
        assert program == f".venv/bin/{name}", f"{program} is not on a fresh shell's PATH"
    if name == "tunemock":
        context = _parse_tunemock(args)
        assert context.info_name is not None
        if context.info_name in FOREGROUND:
            assert last, f"{' '.join(words)} keeps its shell: nothing may follow in its block"
        if context.info_name == "run":
            _check_command(list(context.params["command"]), last, proxy_ports)
    if name == "curl":
        _check_curl(args, proxy_ports)


def _check_curl(args: list[str], proxy_ports: set[int]) -> None:
    urls = [a for a in args if a.startswith(("http://", "https://"))]
    assert len(urls) == 1, args
    url = urlsplit(urls[0])
    given = [args[n + 1] for n, a in enumerate(args[:-1]) if a in ("-X", "--request")]
    sends = any(a in ("-d", "--data", "--data-binary", "-F", "--form") for a in args)
    method = given[0] if given else ("POST" if sends else "GET")
    if url.port in proxy_ports:
        assert (method, url.path) in PROXY_ROUTES, f"the proxy has no {method} {url.path}"
    else:
        assert SPEC.match(method, url.path) is not None, f"no route {method} {url.path}"


#: Options whose file a command writes: a later command of the README may read it.
WRITES = ("record", "output")


def test_every_readme_command_runs_in_a_fresh_shell(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every program is called where the first command put it, every `tunemock` line parses
    (its subcommand, flags and values exist), a server's line ends its block (the calls to
    it go in the next one, a second shell), and every curl targets a route of the spec (or
    of the proxy, on the proxy's port)."""
    # paths in the commands are the checkout's, plus the files earlier commands write
    for entry in ROOT.iterdir():
        (tmp_path / entry.name).symlink_to(entry)
    monkeypatch.chdir(tmp_path)
    commands = _shell_commands()
    assert len(commands) >= 15
    proxy_ports = set()
    for words, _ in commands:
        program, args = _program(words)
        if Path(program).name == "tunemock" and args[0] == "proxy":
            proxy_ports.add(int(_parse_tunemock(args).params["port"]))
    assert proxy_ports, "the README shows the proxy"
    for words, last in commands:
        _check_command(words, last, proxy_ports)
        program, args = _program(words)
        if Path(program).name == "tunemock":
            params = _parse_tunemock(args).params
            for name in WRITES:
                if params.get(name):
                    Path(params[name]).touch()


def test_every_readme_synopsis_flag_exists() -> None:
    synopses = [block for language, block in _fenced() if language == "text"]
    assert synopses
    for block in synopses:
        program, args = _program(shlex.split(block.replace("\\\n", " ")))
        assert program == ".venv/bin/tunemock"
        command = _parse_tunemock([args[0]]).command
        options = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        for flag in re.findall(r"(?<![\w-])--[a-z][\w-]*", block):
            assert flag in options, f"tunemock {args[0]} has no {flag}"


def test_every_readme_python_block_compiles() -> None:
    blocks = [block for language, block in _fenced() if language == "python"]
    assert len(blocks) >= 3
    for block in blocks:
        compile(block, "README.md", "exec")
