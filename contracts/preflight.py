"""Before any suite runs: the options make sense and the target answers HTTP at all. Each
problem is one line naming it, found in seconds, instead of a long run of identical failures."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import httpx

from contracts.errors import BadArguments, TargetUnusable
from mock_server.spec.loader import VENDOR_FAMILIES

#: The whole reachability probe (DNS, connect, first answer) ends within this many seconds.
PROBE_SECONDS = 4.0


def check_specs(specs: Sequence[str], option: str = "--spec") -> None:
    """Every name is a known API family; otherwise one line with the known names."""
    for name in specs:
        if name not in VENDOR_FAMILIES:
            close = difflib.get_close_matches(name, VENDOR_FAMILIES, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise BadArguments(
                f"unknown {option} {name!r}{hint}; known: {', '.join(VENDOR_FAMILIES)}"
            )


def check_base_url(base_url: str, option: str = "--base-url") -> None:
    """An absolute http(s) URL with a host: `127.0.0.1:8020` parses as a path (or a scheme
    named after the host), and every request would go nowhere."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadArguments(
            f"{option} {base_url!r} is not an http(s) URL with a host; "
            f"did you mean http://{base_url.split('://')[-1]}?"
        )


def _probe(base_url: str, found: list[BaseException | None]) -> None:
    try:
        with httpx.Client(timeout=httpx.Timeout(PROBE_SECONDS - 1)) as client:
            client.get(base_url)  # any HTTP answer will do: a 404 is still an API answering
        found.append(None)
    except BaseException as exc:  # recorded for the caller's thread to word
        found.append(exc)


def check_reachable(base_url: str) -> None:
    """The target answers HTTP within PROBE_SECONDS. The probe runs in a daemon thread so a
    name lookup (which httpx's timeouts do not bound) cannot hold the run either."""
    found: list[BaseException | None] = []
    probe = threading.Thread(target=_probe, args=(base_url, found), daemon=True)
    probe.start()
    probe.join(PROBE_SECONDS)
    if not found:
        raise TargetUnusable(f"cannot connect to {base_url}: no answer within {PROBE_SECONDS:g} s")
    error = found[0]
    if isinstance(error, httpx.TransportError):
        reason = " ".join(str(error).split()) or type(error).__name__
        raise TargetUnusable(f"cannot connect to {base_url}: {reason}")
    if error is not None:
        reason = " ".join(str(error).split())
        raise TargetUnusable(f"cannot check {base_url}: {type(error).__name__}: {reason}")


def preflight(
    base_url: str, specs: Sequence[str] = (), family_urls: Mapping[str, str] | None = None
) -> None:
    """Raise BadArguments or TargetUnusable (one line each) when the run cannot be useful."""
    check_specs(specs)
    check_specs(list(family_urls or {}), "--family-url")
    check_base_url(base_url)
    for family, url in (family_urls or {}).items():
        check_base_url(url, f"--family-url {family}=")
    for url in (base_url, *(family_urls or {}).values()):
        check_reachable(url)
