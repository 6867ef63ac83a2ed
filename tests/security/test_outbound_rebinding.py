"""DNS rebinding: a name is resolved once per connection, that answer is checked, and the
socket connects to the checked address (no second lookup between check and connect); a
later connection's answer is checked again."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fixtures.datasets import make_datasets
from mock_server.datasets.fetch import fetch_public
from mock_server.datasets.inspect import DatasetProblem
from mock_server.outbound import Guard, OwnListeners, TargetPolicy

GOOD = (Path(make_datasets.__file__).parent / "good" / "images.zip").read_bytes()
GUARD = Guard(TargetPolicy.parse("127.0.0.1/32"), OwnListeners())


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answer: Callable[[int], str]) -> list[str]:
    """'rebind.test' resolves to answer(n) on its n-th lookup (1-based)."""
    real = socket.getaddrinfo  # the offline fixture's (loopback and literals only)
    lookups: list[str] = []

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            lookups.append(host)
            return real(answer(len(lookups)), *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return lookups


def test_each_connection_resolves_once_and_connects_to_that_address(
    static_host: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    static_host.files["/d.zip"] = GOOD
    port = static_host.base_url.rsplit(":", 1)[1]
    lookups = _fake_dns(monkeypatch, lambda n: "127.0.0.1")
    size = fetch_public(f"http://rebind.test:{port}/d.zip", tmp_path / "d.zip", None, 30, GUARD)
    assert size == len(GOOD)
    # HEAD and GET, one connection each (the host closes after every answer): one lookup
    # per connection; a check-then-connect-by-name client would have looked up four times
    assert len(lookups) == 2


def test_a_rebound_answer_is_refused_on_the_next_connection(
    static_host: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    static_host.files["/d.zip"] = GOOD
    port = static_host.base_url.rsplit(":", 1)[1]
    _fake_dns(monkeypatch, lambda n: "127.0.0.1" if n == 1 else "192.0.2.1")
    with pytest.raises(DatasetProblem, match=r"is unreachable: target not allowed$"):
        fetch_public(f"http://rebind.test:{port}/d.zip", tmp_path / "d.zip", None, 30, GUARD)
