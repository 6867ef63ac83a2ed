"""A reverse proxy in front of a live mock that applies one named drift to what passes through,
so the harness's self-test can show that `run_checks` notices each kind of drift.

Every request is forwarded as it came (the `Host` header too, so the target builds its absolute
URLs on the proxy); absolute URLs that still name the target are rewritten to the proxy, so
clients keep talking through it. `/_mock/*` passes through untouched, or, with `hide_admin`,
is answered 404 as the vendor would: the harness then cannot steer the target and observes
it (polls in real time) instead.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response

from mock_server.proxy.forward import HOP_BY_HOP
from tests.drift.drifts import HOOK_PATH, MUTATIONS, Answer, Drift, Outgoing, ProxyState

__all__ = ["HOOK_PATH", "MUTATIONS", "create_proxy", "rewrite_base_url", "running_proxy"]

# the proxy's hop-by-hop headers, plus the framing ones recomputed from the body (httpx hands
# over the decoded body)
_HOP_BY_HOP = HOP_BY_HOP | {"content-length", "content-encoding"}
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
#: What the vendor answers for a path it does not have (the hidden admin API).
_NOT_FOUND = b'{"error": "Not Found"}'


# --- forwarding -------------------------------------------------------------------------


def rewrite_base_url(body: bytes, target: str, public: str) -> bytes:
    """Point absolute URLs that name the target at the proxy (not e.g. :80 inside :8080)."""
    return re.sub(re.escape(target.encode()) + rb"(?![0-9])", public.encode(), body)


def _forwardable(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}


def _response(answer: Answer) -> Response:
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


def create_proxy(
    target_base_url: str, public_base_url: str, mutation: str | None, hide_admin: bool = False
) -> Starlette:
    """The proxy app: forwards to `target_base_url`, known to clients as `public_base_url`;
    with `hide_admin`, /_mock/* is a 404 of the proxy's own."""
    drift = MUTATIONS[mutation] if mutation is not None else Drift()
    state = ProxyState(target_base_url.rstrip("/"), public_base_url.rstrip("/"))

    async def forward(request: Request) -> Response:
        client: httpx.AsyncClient = request.app.state.client
        path = request.url.path
        admin = path == "/_mock" or path.startswith("/_mock/")
        if admin and hide_admin:
            return Response(_NOT_FOUND, status_code=404, media_type="application/json")
        query = request.scope.get("query_string", b"").decode("latin-1")
        outgoing = Outgoing(
            request.method, path, _forwardable(request.headers), await request.body(), query
        )
        if not admin:
            drift.on_request(outgoing, state)
        if outgoing.body or "content-length" in request.headers:
            outgoing.headers["content-length"] = str(len(outgoing.body))
        raw_path = request.scope.get("raw_path") or path.encode()
        url = state.target + raw_path.decode("latin-1")
        if outgoing.query:
            url += "?" + outgoing.query
        try:
            upstream = await client.request(
                outgoing.method, url, headers=outgoing.headers, content=outgoing.body
            )
        except httpx.HTTPError as exc:
            return Response(f"drift proxy: target unreachable: {exc!r}", status_code=502)
        headers = _forwardable(upstream.headers)
        if request.method == "HEAD" and "content-length" in upstream.headers:
            headers["content-length"] = upstream.headers["content-length"]
        answer = Answer(request.method, path, upstream.status_code, headers, upstream.content)
        if admin:
            return _response(answer)
        if answer.textual:
            answer.body = rewrite_base_url(answer.body, state.target, state.public)
        if "location" in answer.headers:
            answer.headers["location"] = answer.headers["location"].replace(
                state.target, state.public
            )
        drift.on_answer(answer, state)
        return _response(answer)

    async def hook(request: Request) -> Response:
        """A delivery from the target to a hook we registered: pass it on, drifted."""
        client: httpx.AsyncClient = request.app.state.client
        to = request.query_params.get("to", "")
        if not to.startswith(("http://", "https://")):
            return Response("drift proxy: hook without a target", status_code=400)
        body = rewrite_base_url(await request.body(), state.target, state.public)
        with contextlib.suppress(ValueError):
            drifted = drift.on_hook(json.loads(body))
            if drifted != json.loads(body):
                body = json.dumps(drifted).encode()
        headers = _forwardable(request.headers)
        headers.pop("host", None)
        try:
            delivered = await client.post(to, headers=headers, content=body)
        except httpx.HTTPError as exc:
            return Response(f"drift proxy: receiver unreachable: {exc!r}", status_code=502)
        return Response(
            delivered.content,
            status_code=delivered.status_code,
            headers=_forwardable(delivered.headers),
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # follow_redirects stays off: a redirect is an answer the client must see
        async with httpx.AsyncClient(timeout=60) as client:
            app.state.client = client
            yield

    routes = [
        Route(HOOK_PATH, hook, methods=["POST"]),
        Route("/{path:path}", forward, methods=_METHODS),  # the target decides what it allows
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    # a path no route pattern matches (one with a %0A: Starlette's patterns stop at a
    # newline) is the target's to answer too, not a text/plain 404 of the proxy's own
    app.router.default = request_response(forward)
    return app


@contextlib.contextmanager
def running_proxy(
    target_base_url: str, mutation: str | None, *, hide_admin: bool = False
) -> Iterator[str]:
    """Serve the proxy for `mutation` (None: no drift) on 127.0.0.1 in a background thread
    and yield its base URL; stop it on exit."""
    if mutation is not None and mutation not in MUTATIONS:
        raise ValueError(f"unknown mutation {mutation!r}; known: {sorted(MUTATIONS)}")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        create_proxy(target_base_url, public, mutation, hide_admin),
        lifespan="on",
        log_level="warning",
        access_log=False,
        ws="none",
        loop="asyncio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the drift proxy did not start")
            time.sleep(0.01)
        yield public
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
