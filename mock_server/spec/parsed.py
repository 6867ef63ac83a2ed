"""YAML files tunemock reads at every start (the specs), parsed once per content and kept as
JSON in the user's cache folder: PyYAML builds the Python objects in Python even with
libyaml, the dearest step of a start, where `json` reads the same tree in compiled code.

The cache is keyed by the file's bytes and the PyYAML version, so an edited file or another
PyYAML is parsed anew, and it holds only trees JSON gives back unchanged. A cache that cannot
be read or written is no error: the file is parsed as if there were none."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

#: libyaml's loader when PyYAML has it, else the pure-Python one (same documents, same trees)
YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Env var naming the folder the parsed files are kept in ("" or "off": keep none).
CACHE_DIR_ENV = "TUNEMOCK_CACHE_DIR"


def cache_dir() -> Path | None:
    """`$TUNEMOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/tunemock`, else `~/.cache/tunemock`."""
    chosen = os.environ.get(CACHE_DIR_ENV)
    if chosen is not None:
        return None if chosen.strip() in ("", "off") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tunemock"


def parse_yaml(text: str) -> Any:
    """The tree of one YAML document, as every reader of tunemock's own files builds it."""
    return yaml.load(text, Loader=YamlLoader)


def load_yaml(path: Path) -> Any:
    """The parsed tree of the YAML file at `path`, from the cache when it holds these bytes.
    Raises OSError when the file cannot be read and yaml.YAMLError when it is not YAML."""
    data = path.read_bytes()
    folder = cache_dir()
    if folder is None:
        return parse_yaml(data.decode("utf-8"))
    digest = hashlib.sha256(data + f"\0pyyaml {yaml.__version__}".encode()).hexdigest()
    entry = folder / f"{path.stem}-{digest[:40]}.json"
    with contextlib.suppress(OSError, ValueError):
        return json.loads(entry.read_bytes())
    tree = parse_yaml(data.decode("utf-8"))
    _keep(entry, tree)
    return tree


def _keep(entry: Path, tree: Any) -> None:
    """Write `tree` to `entry` (atomically: several workers may start at once) when JSON
    gives it back as it is (no dates, no NaN), and drop older entries of the same file name."""
    try:
        text = json.dumps(tree, allow_nan=False)
        if json.loads(text) != tree:
            return
    except (TypeError, ValueError):
        return
    with contextlib.suppress(OSError):
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, entry)
        except OSError:
            os.unlink(temporary)
            raise
        stem = entry.name.rsplit("-", 1)[0]
        for old in entry.parent.glob(f"{stem}-*.json"):
            if old != entry and old.name.rsplit("-", 1)[0] == stem:
                with contextlib.suppress(OSError):
                    old.unlink()
