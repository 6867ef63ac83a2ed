"""Text that cannot travel: unpaired UTF-16 surrogates.

JSON's `\\ud800` escape decodes to a Python str holding a lone surrogate, which no UTF-8
answer can carry (encoding it raises). Such text is refused where a request brings it
(`find_unpaired`), kept out of the store (`find_unpaired` again, on what is written), and
escaped where a store already holds it (`escape_unpaired`), so one bad request can never
make a tenant's list unanswerable. No HTTP here: the edge and the stores both use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: A surrogate escape as `json.dumps` writes it (ensure_ascii), or any lone surrogate char.
_ESCAPED = re.compile(r"\\u[dD][89a-fA-F]")
_LONE = re.compile("[\ud800-\udfff]")

#: In JSON text (ensure_ascii): an escaped backslash, a valid surrogate pair, or a lone
#: surrogate escape. Scanning left to right, `\\\\` is consumed whole, so the `ud800` of an
#: escaped backslash followed by the letters "ud800" is never taken for an escape.
_JSON_ESCAPES = re.compile(
    r"\\\\|\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u(d[89a-f][0-9a-f]{2})",
    re.IGNORECASE,
)

Path = tuple[str | int, ...]


def may_hold_surrogates(data: bytes | str) -> bool:
    """False when `data` (JSON text) surely decodes without a surrogate: cheap, for every
    request; True sends the decoded value to `find_unpaired`."""
    if isinstance(data, bytes):
        return b"\\u" in data and _ESCAPED.search(data.decode("latin-1")) is not None
    return "\\u" in data and _ESCAPED.search(data) is not None


def find_unpaired(value: Any, path: Path = ()) -> tuple[Path, str] | None:
    """(where, the surrogate) of the first unpaired surrogate in a JSON-shaped value's
    strings or keys, or None. Iterative: a deeply nested value cannot exhaust the stack."""
    stack: list[tuple[Path, Any]] = [(path, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            found = _LONE.search(node)
            if found is not None:
                return where, found.group()
        elif isinstance(node, Mapping):
            for key, item in reversed(list(node.items())):
                in_key = _LONE.search(key) if isinstance(key, str) else None
                if in_key is not None:
                    return (*where, key), in_key.group()
                stack.append(((*where, str(key)), item))
        elif isinstance(node, list | tuple):
            stack.extend(((*where, i), item) for i, item in reversed(list(enumerate(node))))
    return None


def visible(text: str) -> str:
    """`text` with each lone surrogate written as its escape (for messages naming a field)."""
    return _LONE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def describe(surrogate: str) -> str:
    """`an unpaired surrogate (\\ud800), which is not a Unicode character`."""
    return f"an unpaired surrogate (\\u{ord(surrogate):04x}), which is not a Unicode character"


def _escape(match: re.Match[str]) -> str:
    if match.group(3) is None:
        return match.group()  # `\\\\` or a valid pair: as it was
    return "\\\\u" + match.group(3)  # the six characters `\ud800`, not the surrogate


def escape_unpaired(text: str) -> str:
    """JSON text (as `json.dumps` writes it) whose lone surrogate escapes decode to their
    six visible characters instead: what a store holds from before the check reads back."""
    if "\\u" not in text or _ESCAPED.search(text) is None:
        return text
    return _JSON_ESCAPES.sub(_escape, text)
