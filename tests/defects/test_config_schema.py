"""The whole config (file, env, flags) is checked against one schema at start: each mistake is
one line naming it and the closest valid name, and `tunemock serve` exits non-zero."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mock_server import Config, create_app
from mock_server.cli.serve_cmd import banner, serve
from mock_server.config import build_config
from mock_server.config_check import config_schema
from mock_server.errors import ConfigError
from mock_server.testing.live import free_port

CASES = [
    ('rate_limits: {"*": {burst: 2}}', r"rate_limits\.\*: 'per_second' is a required property"),
    ('rate_limits: {"*": {per_second: 0}}', r"rate_limits\.\*\.per_second: 0 is less than or"),
    (
        "rate_limits: {finetune: {per_second: 1, brust: 2}}",
        r"unknown setting 'brust' \(did you mean 'burst'\?\)",
    ),
    (
        "keys: {ci-key: {credit: 100}}",
        r"keys\.ci-key: unknown setting 'credit' \(did you mean 'credits'\?\)",
    ),
    ("timng: fast", r"unknown setting 'timng' \(did you mean 'timing'\?\)"),
    ("rate_limit: {}", r"unknown setting 'rate_limit' \(did you mean 'rate_limits'\?\)"),
    ("port: 70000", r"port: 70000 is greater than the maximum of 65535"),
    ("workers: 0", r"workers: 0 is less than the minimum of 1"),
    ("webhook_url: not a url", r"webhook_url: 'not a url' is not a 'uri'"),
]


@pytest.mark.parametrize(("content", "message"), CASES)
def test_a_bad_config_file_is_one_line_naming_the_mistake(
    tmp_path: Path, content: str, message: str
) -> None:
    file = tmp_path / "tunemock.yaml"
    file.write_text(content + "\n")
    with pytest.raises(ConfigError, match=message) as raised:
        build_config(file)
    assert "\n" not in str(raised.value) and str(file) in str(raised.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "rate_limits: {finetune_lst: {per_second: 1}}",
            r"rate_limits: unknown group 'finetune_lst' \(did you mean 'finetune_list'\?\)",
        ),
        (
            "keys: {k: {forbidden: [inferenc]}}",
            r"keys\.k\.forbidden: unknown group 'inferenc' \(did you mean '[a-z-]*inference'\?\)",
        ),
    ],
)
def test_a_group_no_spec_has_is_named_at_start(tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "tunemock.yaml"
    file.write_text(content + "\n")
    config = build_config(file)
    with pytest.raises(ConfigError, match=message):
        create_app(config)
    fine = tmp_path / "fine.yaml"
    fine.write_text(
        'rate_limits: {finetune_list: {per_second: 1}, "*": {per_second: 5, burst: 9}}\n'
    )
    create_app(build_config(fine))  # operationIds, families and "*" are groups


def test_env_and_flags_are_checked_and_named_by_where_they_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUNEMOCK_JOURNAL_SIZE", "-5")
    with pytest.raises(ConfigError, match=r"^TUNEMOCK_JOURNAL_SIZE: journal_size: -5 is less"):
        build_config()
    monkeypatch.delenv("TUNEMOCK_JOURNAL_SIZE")
    with pytest.raises(ConfigError, match=r"^--port: port: 70000 is greater"):
        build_config(port=70000)


def test_serve_exits_non_zero_with_the_one_line(tmp_path: Path) -> None:
    file = tmp_path / "tunemock.yaml"
    file.write_text("rate_limits: {finetune_lst: {per_second: 1}}\n")
    # a free port: the default one may be another test's or the user's mock
    result = CliRunner().invoke(serve, ["--config", str(file), "--port", str(free_port())])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "did you mean 'finetune_list'" in lines[0], result.output


def test_every_config_field_is_in_the_schema() -> None:
    properties = config_schema()["properties"]
    covered = set(properties)
    for prop in properties.values():
        covered |= set(prop.get("x-fields", ()))
    missing = {f.name for f in dataclasses.fields(Config)} - covered
    assert not missing, f"Config fields missing from tunemock-config.schema.yaml: {missing}"
    assert covered - {"keys"} <= {f.name for f in dataclasses.fields(Config)}


def test_the_banner_shows_a_configured_key() -> None:
    configured = Config(
        api_keys=("off-key", "ci-key"), key_settings={"off-key": {"disabled": True}}
    )
    text = banner(configured, ["segmind-finetune"])
    assert "x-api-key: ci-key" in text and "api_key='ci-key'" in text
    assert "any-key" not in text
    assert re.search(r"x-api-key: any-key", banner(Config(), ["segmind-finetune"]))
