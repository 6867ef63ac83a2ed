"""Inspect a dataset ZIP in place: no extraction, bounded memory, hostile archives refused.

What a dataset must hold comes from the spec (`x-dataset`, `x-dataset-pairs`,
`x-max-bytes` on data_source_path); how much work the mock is willing to do on one
archive comes from its config (entries, total and ratio limits against zip bombs).
"""

from __future__ import annotations

import stat
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mock_server.datasets.endrecord import EndRecord, NoEndRecord, read_end_record

_CHUNK = 64 * 1024


class DatasetProblem(Exception):
    """Why a dataset is refused: the job's error_message."""


@dataclass(frozen=True)
class DatasetRules:
    max_bytes: int | None = None  # the ZIP itself (docs: under 100 MB)
    images: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp")
    captions: tuple[str, ...] = (".txt",)
    ignore: tuple[str, ...] = ("__MACOSX/", ".DS_Store", "._")
    pair_suffixes: tuple[str, str] | None = None  # Kontext: ("_start", "_end")
    pair_folders: tuple[str, str] | None = None  # Kontext: ("start", "end")
    max_entries: int = 5000
    # the end record's count (folders and OS junk too) and central-directory size: checked
    # before zipfile reads the directory (endrecord.py says why)
    max_records: int = 10_000
    max_directory_bytes: int = 4 * 1024 * 1024
    max_uncompressed: int = 1024 * 1024 * 1024
    max_ratio: int = 200

    @classmethod
    def from_spec(
        cls, dataset: Mapping[str, Any], prop: Mapping[str, Any], **limits: Any
    ) -> DatasetRules:
        """From DataSourcePath's `x-dataset` and a model's data_source_path property."""
        pairs = prop.get("x-dataset-pairs") or {}
        return cls(
            max_bytes=prop.get("x-max-bytes"),
            images=tuple(dataset.get("images", cls.images)),
            captions=tuple(dataset.get("captions", cls.captions)),
            ignore=tuple(dataset.get("ignore", cls.ignore)),
            pair_suffixes=_pair(pairs.get("suffixes")),
            pair_folders=_pair(pairs.get("folders")),
            **limits,
        )


def _pair(values: Any) -> tuple[str, str] | None:
    return (str(values[0]), str(values[1])) if values else None


def _ignored(name: str, rules: DatasetRules) -> bool:
    """OS junk: a pattern ending in / names a folder, any other is a file-name prefix."""
    path = PurePosixPath(name)
    for pattern in rules.ignore:
        if pattern.endswith("/"):
            if pattern.rstrip("/") in path.parts[:-1]:
                return True
        elif path.name.startswith(pattern):
            return True
    return False


def _check_entry_name(info: zipfile.ZipInfo) -> None:
    name = info.filename
    path = PurePosixPath(name)
    if name.startswith(("/", "\\")) or ".." in path.parts or ":" in path.parts[0]:
        raise DatasetProblem(f"Dataset entry {name!r} points outside the archive (path traversal)")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DatasetProblem(f"Dataset entry {name!r} is a symbolic link; links are not allowed")


def _check_end_record(end: EndRecord, rules: DatasetRules) -> None:
    if end.entries > rules.max_records:
        raise DatasetProblem(
            f"Dataset ZIP declares {end.entries} entries; at most {rules.max_records} "
            "are read (zip bomb?)"
        )
    if end.directory_bytes > rules.max_directory_bytes:
        raise DatasetProblem(
            f"Dataset ZIP's central directory is {end.directory_bytes} bytes; at most "
            f"{rules.max_directory_bytes} are read (zip bomb?)"
        )


def _check_sizes(infos: list[zipfile.ZipInfo], rules: DatasetRules) -> None:
    if len(infos) > rules.max_entries:
        raise DatasetProblem(f"Dataset has {len(infos)} entries; at most {rules.max_entries}")
    declared = sum(i.file_size for i in infos)
    if declared > rules.max_uncompressed:
        raise DatasetProblem(
            f"Dataset expands to {declared} bytes; at most {rules.max_uncompressed} (zip bomb?)"
        )
    for info in infos:
        if info.compress_size and info.file_size / info.compress_size > rules.max_ratio:
            raise DatasetProblem(
                f"Dataset entry {info.filename!r} compresses {info.file_size // info.compress_size}"
                f":1, more than {rules.max_ratio}:1 (zip bomb?)"
            )


def _read_all(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], rules: DatasetRules) -> None:
    """Decompress every entry (counting real bytes: headers can lie) and check CRCs."""
    total = 0
    for info in infos:
        with archive.open(info) as entry:
            while chunk := entry.read(_CHUNK):
                total += len(chunk)
                if total > rules.max_uncompressed:
                    raise DatasetProblem(
                        f"Dataset expands past {rules.max_uncompressed} bytes (zip bomb?)"
                    )


def _check_image(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    # Pillow is imported at the first image, not at start: most runs never open one
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with archive.open(info) as entry, Image.open(entry) as image:
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DatasetProblem(f"Image {info.filename!r} is too large: {exc}") from exc
    except Exception as exc:  # Pillow raises many types for broken files
        raise DatasetProblem(f"Image {info.filename!r} cannot be read as an image") from exc


def _check_pairs(images: list[str], rules: DatasetRules) -> None:
    by_suffix: dict[str, set[str]] = {"start": set(), "end": set()}
    unpaired: list[str] = []
    for name in images:
        path = PurePosixPath(name)
        stem = path.stem
        if rules.pair_suffixes and stem.endswith(rules.pair_suffixes):
            side = "start" if stem.endswith(rules.pair_suffixes[0]) else "end"
            cut = len(rules.pair_suffixes[0 if side == "start" else 1])
            by_suffix[side].add(str(path.parent / stem[:-cut]))
        elif rules.pair_folders and path.parent.name in rules.pair_folders:
            side = "start" if path.parent.name == rules.pair_folders[0] else "end"
            by_suffix[side].add(str(path.parent.parent / stem))
        else:
            unpaired.append(name)
    lonely = sorted(by_suffix["start"] ^ by_suffix["end"])
    if unpaired or lonely or not by_suffix["start"]:
        shown = ", ".join((unpaired + lonely)[:5]) or "none"
        raise DatasetProblem(
            "Kontext datasets need start/end image pairs "
            f"(name_start/name_end, or start/ and end/ folders); unpaired: {shown}"
        )


def inspect_zip(path: Path, rules: DatasetRules) -> int:
    """Raise DatasetProblem for anything the training would reject; return the image count."""
    size = path.stat().st_size
    if rules.max_bytes is not None and size > rules.max_bytes:
        raise DatasetProblem(
            f"Dataset ZIP is {size} bytes; it must be under {rules.max_bytes} bytes "
            f"({rules.max_bytes / 1024 / 1024:g} MB)"
        )
    if not zipfile.is_zipfile(path):
        raise DatasetProblem("Dataset is not a ZIP file")
    try:
        _check_end_record(read_end_record(path), rules)
        with zipfile.ZipFile(path) as archive:
            infos = [
                i for i in archive.infolist() if not i.is_dir() and not _ignored(i.filename, rules)
            ]
            for info in infos:
                _check_entry_name(info)
            _check_sizes(infos, rules)
            _read_all(archive, infos, rules)
            images = [i for i in infos if PurePosixPath(i.filename).suffix.lower() in rules.images]
            others = [
                i.filename
                for i in infos
                if PurePosixPath(i.filename).suffix.lower() not in rules.images + rules.captions
            ]
            if others:
                raise DatasetProblem(
                    f"Dataset holds files that are neither images nor captions: "
                    f"{', '.join(sorted(others)[:5])}"
                )
            if not images:
                raise DatasetProblem(f"Dataset has no images (expected {', '.join(rules.images)})")
            for info in images:
                _check_image(archive, info)
            if rules.pair_suffixes or rules.pair_folders:
                _check_pairs([i.filename for i in images], rules)
            return len(images)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NoEndRecord) as exc:
        raise DatasetProblem(f"Dataset ZIP is damaged: {exc}") from exc
