"""A `--record` file read back: one JSON object a line, as the proxy's Recorder wrote it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def read_recording(path: Path) -> Iterator[dict[str, Any]]:
    """The exchanges of a `--record` file; a last line cut short (the run was killed while
    writing it) is skipped, any other broken line is an error."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            yield json.loads(line)
        except ValueError:
            if number == len(lines):
                return
            raise ValueError(f"{path}:{number}: not a JSON line") from None


def body_bytes(kept: Any) -> bytes | None:
    """The bytes of a body as the recorder kept it (`{"text"}` byte for byte, `{"json"}`
    re-encoded once a secret field was blanked, None for none); None when only its size
    was kept (binary, streamed): such a body cannot be given back."""
    if kept is None:
        return b""
    if isinstance(kept, dict) and isinstance(kept.get("text"), str):
        return str(kept["text"]).encode("utf-8")
    if isinstance(kept, dict) and "json" in kept:
        return json.dumps(kept["json"], ensure_ascii=False, separators=(",", ":")).encode()
    return None
