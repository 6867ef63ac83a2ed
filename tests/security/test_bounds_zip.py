"""A ZIP's entry count and central-directory size are checked from its end record before
zipfile reads the directory: a directory-only archive is refused without being listed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from mock_server.datasets.endrecord import read_end_record
from mock_server.datasets.inspect import DatasetProblem, DatasetRules, inspect_zip
from tests.security.zips import RECORD_BYTES, directory_only_zip


@pytest.mark.parametrize("entries", [1, 0xFFFF, 0x10000, 70_000])  # 32-bit and ZIP64 records
def test_the_end_record_says_what_zipfile_would_list(tmp_path: Path, entries: int) -> None:
    path = directory_only_zip(tmp_path / "d.zip", entries)
    end = read_end_record(path)
    assert (end.entries, end.directory_bytes) == (entries, entries * RECORD_BYTES)
    with zipfile.ZipFile(path) as archive:
        assert len(archive.infolist()) == end.entries


def test_a_real_zip_with_a_comment_is_read_too(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(5):
            archive.writestr(f"f{i}.txt", "PK\x05\x06 inside a file")
        archive.comment = b"c" * 300
    path = tmp_path / "c.zip"
    path.write_bytes(buffer.getvalue())
    assert read_end_record(path).entries == 5


def test_a_record_hidden_in_the_comment_counts_too(tmp_path: Path) -> None:
    """zipfile may take the last signature in the tail: a huge count there is refused."""
    path = directory_only_zip(tmp_path / "d.zip", 3)
    data = bytearray(path.read_bytes())
    fake = b"PK\x05\x06" + bytes(4) + (60_000).to_bytes(2, "little") * 2 + bytes(10)
    data[-2:] = len(fake).to_bytes(2, "little")  # the real record's comment length
    path.write_bytes(bytes(data) + fake)
    assert read_end_record(path).entries == 60_000


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (DatasetRules(max_records=69_999), "declares 70000 entries"),
        (
            DatasetRules(max_records=10**6, max_directory_bytes=1024 * 1024),
            "central directory is 3710000 bytes",
        ),
    ],
)
def test_a_directory_only_zip_is_refused_before_zipfile_lists_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: DatasetRules, message: str
) -> None:
    path = directory_only_zip(tmp_path / "d.zip", 70_000)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile.ZipFile read the directory before the end record check")

    monkeypatch.setattr(zipfile, "ZipFile", never)
    with pytest.raises(DatasetProblem, match=message):
        inspect_zip(path, rules)


def test_the_default_rules_refuse_the_1_85_m_entry_zip_from_its_end_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = directory_only_zip(tmp_path / "big.zip", 1_850_000)
    assert path.stat().st_size > 98_000_000  # the 98 MB archive of the report
    monkeypatch.setattr(zipfile, "ZipFile", None)  # any use of it would fail
    with pytest.raises(DatasetProblem, match="declares 1850000 entries"):
        inspect_zip(path, DatasetRules(max_bytes=100 * 1024 * 1024))


def test_a_truncated_end_record_is_a_damaged_zip(tmp_path: Path) -> None:
    path = directory_only_zip(tmp_path / "d.zip", 3)
    data = path.read_bytes()
    path.write_bytes(data[:-10])  # the end record cut short: no signature that fits
    with pytest.raises(DatasetProblem, match=r"not a ZIP|damaged"):
        inspect_zip(path, DatasetRules())
