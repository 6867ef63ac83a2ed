"""Point the official `segmind` SDK at the mock, unchanged: its inference calls follow
`base_url`, but its Finetune, Webhooks and Files namespaces keep their hosts in class
attributes, which this sets (and restores)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The environment variable scripts set to route the SDK (see `route_from_env`).
URL_ENV = "TUNEMOCK_URL"
#: The folder `tunemock run` puts first on PYTHONPATH: its sitecustomize routes the SDK.
AUTOROUTE_DIR = Path(__file__).resolve().parent / "autoroute"


class SdkMissing(ImportError):
    """The `segmind` SDK is not installed (it is the optional extra `tunemock[sdk]`)."""


def _require_sdk() -> None:
    try:
        import segmind  # noqa: F401
    except ImportError as exc:
        raise SdkMissing(
            "the segmind SDK is not installed: pip install 'tunemock[sdk]' (or segmind==1.3.*)"
        ) from exc


def _attributes(base: str) -> list[tuple[Any, str, str]]:
    """(class, attribute, value on the mock) for every SDK namespace with a fixed host."""
    _require_sdk()
    from segmind.files import Files
    from segmind.finetune import Finetune
    from segmind.webhooks import Webhooks

    return [
        (Finetune, "base_url", f"{base}/finetune/request"),
        (Webhooks, "base_url", f"{base}/webhook"),
        (Files, "STORAGE_BASE_URL", base),
    ]


def route(base_url: str) -> dict[tuple[Any, str], str]:
    """Send the SDK's namespaces to `base_url`; returns what was there before."""
    before: dict[tuple[Any, str], str] = {}
    for cls, attribute, value in _attributes(base_url.rstrip("/")):
        before[cls, attribute] = getattr(cls, attribute)
        setattr(cls, attribute, value)
    return before


def restore(before: dict[tuple[Any, str], str]) -> None:
    for (cls, attribute), value in before.items():
        setattr(cls, attribute, value)


@contextmanager
def segmind_client(base_url: str, api_key: str = "tunemock-key") -> Iterator[Any]:
    """A `segmind.SegmindClient` whose every call goes to the mock; the SDK is restored
    (and the client closed) on exit."""
    _require_sdk()
    from segmind import SegmindClient

    before = route(base_url)
    client = SegmindClient(api_key=api_key, base_url=f"{base_url.rstrip('/')}/v1")
    try:
        yield client
    finally:
        client._client.close()
        restore(before)


def route_process(base_url: str) -> None:
    """Route the whole process: every namespace, and every `SegmindClient` made without a
    `base_url` (its default argument is replaced; an explicit `base_url` still wins)."""
    from segmind import SegmindClient

    route(base_url)
    init = SegmindClient.__init__
    defaults = list(init.__defaults__ or ())
    names = init.__code__.co_varnames[1 : init.__code__.co_argcount]
    at = names.index("base_url") - (len(names) - len(defaults))
    defaults[at] = f"{base_url.rstrip('/')}/v1"
    init.__defaults__ = tuple(defaults)


def route_from_env() -> str | None:
    """For scripts: if TUNEMOCK_URL is set, route the SDK there for the whole process
    (`SegmindClient(base_url=os.environ["TUNEMOCK_URL"] + "/v1")` for the client itself)."""
    base_url = os.environ.get(URL_ENV)
    if base_url:
        route(base_url)
    return base_url
