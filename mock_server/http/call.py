"""What every concern of the edge needs to know about a request, worked out once: the headers
they read and the spec operation asked for.

Each concern would otherwise parse the headers and match the spec again: four matches and
four header scans a request, a large share of a small request's time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from starlette.requests import Request
from starlette.types import Scope

from mock_server.spec import Operation, SpecBundle


@dataclass(slots=True)
class Call:
    """One request as the edge sees it, made by the edge and handed by it to each stage that
    needs it (guards, journal, dispatcher, validation, handler). `found` is the spec
    operation and its path parameters; None for a path no operation serves and for the app's
    own routes (`by_app`). `tenant`, `fault` and `replay` are the facts the edge's stages
    learn on the way and the journal records: each is set by one stage, the API-key check,
    the fault injection and the replay."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-case name -> its first value
    found: tuple[Operation, dict[str, str]] | None
    by_app: bool  # a route of the app itself (files, dashboard), not of the spec
    tenant: str | None = None  # the API key that passed the key check
    fault: str | None = None  # the fault injected into this request, as the journal shows it
    replay: str | None = None  # `--replay`: who answered, "recorded" or "mock"

    @property
    def api_key(self) -> str:
        """The key as sent (the rate limiter and fault rules compare it as is)."""
        return self.headers.get("x-api-key", "")


def first_values(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    # reversed: where a header repeats, its first value is the one kept (as Headers.get does)
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw[::-1]}


def classify(scope: Scope, spec: SpecBundle, app_prefixes: tuple[str, ...]) -> Call:
    """The request's `Call`. Paths under `app_prefixes` belong to the app's own routes, which
    the spec does not describe."""
    path, method = scope["path"], scope["method"]
    by_app = path.startswith(app_prefixes)
    return Call(
        method,
        path,
        first_values(scope.get("headers") or []),
        None if by_app else spec.match(method, path),
        by_app,
    )


@lru_cache(maxsize=64)
def _base_url(scheme: str, host: str | None, server: tuple[str, int] | None, root: str) -> str:
    # Starlette's own rule (Host header, else the server's address, default ports left out),
    # worked out once per distinct origin instead of once per request
    headers = [(b"host", host.encode("latin-1"))] if host is not None else []
    scope = {"type": "http", "scheme": scheme, "server": server, "root_path": root}
    return str(Request({**scope, "headers": headers, "path": "/"}).base_url).rstrip("/")


def base_url_of(scope: Scope, host: str | None) -> str:
    """scheme://host[:port][root_path] the client used, without a trailing slash; `host` is
    the request's Host header (None when it sent none)."""
    server = scope.get("server")
    return _base_url(
        scope.get("scheme", "http"),
        host,
        tuple(server) if server is not None else None,
        scope.get("root_path", ""),
    )
