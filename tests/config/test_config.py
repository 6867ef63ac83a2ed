"""Settings come from defaults <- file <- env <- flags, and bad ones are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.config import Config, build_config
from mock_server.errors import ConfigError


def test_defaults() -> None:
    config = Config()
    assert (config.host, config.port, config.timing, config.clock, config.state) == (
        "127.0.0.1",
        8000,
        "fast",
        "real",
        None,
    )


def test_file_then_env_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "tunemock.yaml"
    file.write_text("port: 9001\ntiming: realistic\nkeys:\n  alice: {credits: 5}\n  bob: {}\n")
    config = build_config(file)
    assert (config.port, config.timing, config.api_keys) == (9001, "realistic", ("alice", "bob"))
    assert config.key_settings["alice"] == {"credits": 5}
    monkeypatch.setenv("TUNEMOCK_TIMING", "instant")
    monkeypatch.setenv("TUNEMOCK_PORT", "9002")
    assert (build_config(file).timing, build_config(file).port) == ("instant", 9002)
    assert build_config(file, port=9003, timing=None).port == 9003


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("colour: blue\n", "unknown setting 'colour'"),
        ("timing: slow\n", "timing: 'slow' is not one of"),
        ("port: eighty\n", "port"),
        ("- a list\n", "mapping"),
        ("journal_size: -1\n", "journal_size: -1 is less than the minimum of 0"),
    ],
)
def test_bad_config_files_are_named(tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(content)
    with pytest.raises(ConfigError, match=message):
        build_config(file)


def test_config_round_trips_through_json_for_workers(tmp_path: Path) -> None:
    config = Config(state=tmp_path / "s.db", api_keys=("a", "b"), key_settings={"a": {"x": 1}})
    assert Config.from_json(config.to_json()) == config
