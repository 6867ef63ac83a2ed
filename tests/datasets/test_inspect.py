"""The ZIP inspector on its own: bounded memory on a bomb, lying headers, spec-driven rules."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from fixtures.datasets import make_datasets
from mock_server.datasets import DatasetProblem, DatasetRules, inspect_zip
from mock_server.spec import load_specs

DATASETS = Path(make_datasets.__file__).parent


def test_a_zip_bomb_is_refused_without_inflating_it_into_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(make_datasets.zip_bomb())
    tracemalloc.start()
    try:
        with pytest.raises(DatasetProblem, match="zip bomb"):
            inspect_zip(bomb, DatasetRules())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # a 300 MiB entry, inspected in well under 16 MiB


def test_headers_that_lie_about_sizes_are_caught_while_reading(tmp_path: Path) -> None:
    """A bomb whose entries claim to be small still stops at the uncompressed cap."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.png", make_datasets._image(1))
        archive.writestr("big.txt", b"0" * (3 * 1024 * 1024))
    path = tmp_path / "liar.zip"
    path.write_bytes(buffer.getvalue())
    rules = DatasetRules(max_uncompressed=1024 * 1024, max_ratio=10**9)
    # the declared sizes are honest here, so cap them lower than the content to trip reading
    with pytest.raises(DatasetProblem, match="expands"):
        inspect_zip(path, rules)


def test_rules_come_from_the_spec() -> None:
    bundle = load_specs()
    submit = bundle.operation("finetune_submit")
    doc = bundle.documents[submit.family]
    kontext = doc.resolve("#/components/schemas/FinetuneSubmitKontext")
    prop = kontext["properties"]["data_source_path"]
    rules = DatasetRules.from_spec(doc.resolve(prop["$ref"])["x-dataset"], prop)
    assert rules.pair_suffixes == ("_start", "_end")
    assert rules.pair_folders == ("start", "end")
    assert rules.max_bytes == 100 * 1024 * 1024
    assert ".png" in rules.images and ".txt" in rules.captions


def test_good_images_count(tmp_path: Path) -> None:
    path = tmp_path / "good.zip"
    path.write_bytes((DATASETS / "good" / "images.zip").read_bytes())
    assert inspect_zip(path, DatasetRules()) == 4


def test_the_committed_fixtures_are_what_the_script_makes() -> None:
    for folder, makers in (("good", make_datasets.GOOD), ("bad", make_datasets.BAD)):
        for name, make in makers.items():
            assert (DATASETS / folder / f"{name}.zip").read_bytes() == make(), name
