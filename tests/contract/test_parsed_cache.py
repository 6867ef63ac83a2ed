"""The specs read at every start come from a cache of parsed trees: the same tree as the YAML
gives, parsed anew when the file changes, and never a reason a start fails."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mock_server.errors import SpecError
from mock_server.spec import FAMILIES
from mock_server.spec.loader import default_spec_dir, load_document
from mock_server.spec.parsed import CACHE_DIR_ENV, load_yaml


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_DIR_ENV, str(folder))
    return folder


@pytest.mark.parametrize("family", FAMILIES)
def test_a_cached_spec_is_the_tree_yaml_gives(cache: Path, family: str) -> None:
    path = default_spec_dir() / f"{family}.yaml"
    expected = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert load_yaml(path) == expected  # parsed, then kept
    assert len(list(cache.glob(f"{family}-*.json"))) == 1
    assert load_yaml(path) == expected  # read back from the cache


def test_an_edited_file_is_parsed_anew_and_its_old_entry_dropped(
    cache: Path, tmp_path: Path
) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    assert load_yaml(path) == {"a": 1}
    path.write_text("a: 2\n", encoding="utf-8")
    assert load_yaml(path) == {"a": 2}
    assert len(list(cache.glob("doc-*.json"))) == 1


def test_a_damaged_entry_is_parsed_anew_and_replaced(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("a: [1, 2]\n", encoding="utf-8")
    load_yaml(path)
    (entry,) = cache.glob("doc-*.json")
    entry.write_text('{"a": [1,', encoding="utf-8")
    assert load_yaml(path) == {"a": [1, 2]}
    assert load_yaml(path) == {"a": [1, 2]}
    assert entry.read_text(encoding="utf-8").startswith('{"a": [1, 2]')


def test_a_tree_json_would_change_is_not_kept(cache: Path, tmp_path: Path) -> None:
    # an unquoted date is a datetime.date to YAML, and integer keys would come back as text
    path = tmp_path / "doc.yaml"
    path.write_text("when: 2024-01-02\n200: ok\n", encoding="utf-8")
    first = load_yaml(path)
    assert first == yaml.safe_load(path.read_text(encoding="utf-8"))
    assert not list(cache.glob("doc-*.json"))
    assert load_yaml(path) == first


def test_no_cache_when_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "doc.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    assert load_yaml(path) == {"a": 1}
    assert not (tmp_path / "xdg").exists()


def test_a_cache_folder_that_cannot_be_made_still_loads(cache: Path) -> None:
    cache.write_text("a file where the folder would be", encoding="utf-8")
    path = default_spec_dir() / f"{FAMILIES[0]}.yaml"
    assert load_document(path).raw["openapi"].startswith("3.1")
    assert cache.is_file()


def test_a_file_that_is_no_yaml_is_a_spec_error_named_after_it(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "segmind-finetune.yaml"
    path.write_bytes(b"openapi: [\n")
    with pytest.raises(SpecError, match=r"segmind-finetune\.yaml"):
        load_document(path)
