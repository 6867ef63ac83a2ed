"""A reverse proxy in front of a live mock that applies one named drift to what passes through,
so the harness's self-test can show that `run_checks` notices each kind of drift.

Every request is forwarded as it came (the `Host` header too, so the target builds its absolute
URLs on the proxy); absolute URLs that still name the target are rewritten to the proxy, so
clients keep talking through it. `/_mock/*` passes through untouched.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response

HOOK_PATH = "/_drift/hook"

# RFC 9110 §7.6.1 hop-by-hop headers, plus the framing ones we recompute from the body
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",  # httpx hands us the decoded body
    }
)
_TEXTUAL = ("application/json", "text/", "application/xml", "application/problem+json")
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
_V2_POLL = re.compile(r"^/v2/requests/[^/]+(/status)?$")
_DETAILS = ("GET", "/finetune/request/details")
_SUBMIT = ("POST", "/finetune/request/submit")


@dataclass
class ProxyState:
    """What one running proxy knows: both base URLs and what it has seen so far."""

    target: str
    public: str
    seen_available: set[str] = field(default_factory=set)
    hooks: dict[str, str] = field(default_factory=dict)  # our hook URL → the client's URL


@dataclass
class Outgoing:
    """A request on its way to the target."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """The target's answer on its way back to the client."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def textual(self) -> bool:
        return self.headers.get("content-type", "").startswith(_TEXTUAL)

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        if not self.headers.get("content-type", "").startswith("application/json"):
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    def is_(self, route: tuple[str, str], status: int | None = 200) -> bool:
        return (self.method, self.path) == route and status in (None, self.status)


def _nothing(_: Any, __: ProxyState) -> None:
    return None


def _same(payload: Any) -> Any:
    return payload


@dataclass(frozen=True)
class Drift:
    """One named way the target drifts: on requests, on answers, on webhook payloads."""

    on_request: Callable[[Outgoing, ProxyState], None] = _nothing
    on_answer: Callable[[Answer, ProxyState], None] = _nothing
    on_hook: Callable[[Any], Any] = _same


# --- the answer drifts ------------------------------------------------------------------


def _edit_finetune(answer: Answer, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit the `finetune` object of a 200 details answer."""
    body = answer.json() if answer.is_(_DETAILS) else None
    finetune = body.get("finetune") if isinstance(body, dict) else None
    if isinstance(finetune, dict):
        edit(finetune)
        answer.set_json(body)


def rename_finetune_id(answer: Answer, _: ProxyState) -> None:
    body = answer.json() if answer.is_(_SUBMIT) else None
    if isinstance(body, dict) and "finetune_id" in body:
        body["finetuneId"] = body.pop("finetune_id")
        answer.set_json(body)


def public_model_as_string(answer: Answer, _: ProxyState) -> None:
    _edit_finetune(answer, lambda finetune: finetune.update(public_model="false"))


def drop_list_names(answer: Answer, _: ProxyState) -> None:
    body = answer.json() if answer.is_(("GET", "/finetune/request/list")) else None
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict):
                item.pop("name", None)
        answer.set_json(body)


def status_outside_enum(answer: Answer, _: ProxyState) -> None:
    _edit_finetune(answer, lambda finetune: finetune.update(status="TRAINING_STARTED"))


def submit_as_201(answer: Answer, _: ProxyState) -> None:
    if answer.is_(_SUBMIT):
        answer.status = 201


def failed_as_200(answer: Answer, _: ProxyState) -> None:
    if answer.method == "GET" and _V2_POLL.match(answer.path) and answer.status == 422:
        answer.status = 200


def skip_to_available(answer: Answer, _: ProxyState) -> None:
    def edit(finetune: dict[str, Any]) -> None:
        if finetune.get("status") in ("TRAINING", "TRAINING_COMPLETED", "INFERENCE_QUEUED"):
            finetune["status"] = "AVAILABLE"

    _edit_finetune(answer, edit)


def back_to_training(answer: Answer, state: ProxyState) -> None:
    def edit(finetune: dict[str, Any]) -> None:
        job_id = str(finetune.get("finetune_id") or finetune.get("request_id"))
        if job_id in state.seen_available:
            finetune["status"] = "TRAINING"
        elif finetune.get("status") == "AVAILABLE":
            state.seen_available.add(job_id)

    _edit_finetune(answer, edit)


def expired_put_accepted(answer: Answer, _: ProxyState) -> None:
    if answer.method == "PUT" and answer.path.startswith("/storage/") and answer.status == 403:
        answer.status, answer.body = 200, b""
        answer.headers.pop("content-type", None)


# --- the webhook drift: hooks registered through the proxy come back through it --------


def wrap_webhook_url(request: Outgoing, state: ProxyState) -> None:
    """POST /webhook/add: register our hook in place of the client's URL."""
    if (request.method, request.path) != ("POST", "/webhook/add"):
        return
    with contextlib.suppress(ValueError):
        body = json.loads(request.body)
        if isinstance(body, dict) and isinstance(body.get("webhook_url"), str):
            original = body["webhook_url"]
            hook = f"{state.public}{HOOK_PATH}?to={quote(original, safe='')}"
            state.hooks[hook] = original
            body["webhook_url"] = hook
            request.body = json.dumps(body).encode()


def unwrap_webhook_urls(answer: Answer, state: ProxyState) -> None:
    """Answers show the client the URL it registered, not our hook."""
    if answer.textual:
        for hook, original in state.hooks.items():
            answer.body = answer.body.replace(hook.encode(), original.encode())


def drop_trained_model_url(payload: Any) -> Any:
    if isinstance(payload, dict) and payload.get("event") == "TRAINING_COMPLETED":
        payload.pop("trained_model_url", None)
    return payload


MUTATIONS: dict[str, Drift] = {
    "field_renamed": Drift(on_answer=rename_finetune_id),
    "type_changed": Drift(on_answer=public_model_as_string),
    "required_dropped": Drift(on_answer=drop_list_names),
    "enum_added": Drift(on_answer=status_outside_enum),
    "status_changed": Drift(on_answer=submit_as_201),
    "failed_as_200": Drift(on_answer=failed_as_200),
    "lifecycle_skipped": Drift(on_answer=skip_to_available),
    "lifecycle_reversed": Drift(on_answer=back_to_training),
    "webhook_field_missing": Drift(
        on_request=wrap_webhook_url,
        on_answer=unwrap_webhook_urls,
        on_hook=drop_trained_model_url,
    ),
    "expired_url_accepted": Drift(on_answer=expired_put_accepted),
}


# --- forwarding -------------------------------------------------------------------------


def rewrite_base_url(body: bytes, target: str, public: str) -> bytes:
    """Point absolute URLs that name the target at the proxy (not e.g. :80 inside :8080)."""
    return re.sub(re.escape(target.encode()) + rb"(?![0-9])", public.encode(), body)


def _forwardable(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}


def _response(answer: Answer) -> Response:
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


def create_proxy(target_base_url: str, public_base_url: str, mutation: str | None) -> Starlette:
    """The proxy app: forwards to `target_base_url`, known to clients as `public_base_url`."""
    drift = MUTATIONS[mutation] if mutation is not None else Drift()
    state = ProxyState(target_base_url.rstrip("/"), public_base_url.rstrip("/"))

    async def forward(request: Request) -> Response:
        client: httpx.AsyncClient = request.app.state.client
        path = request.url.path
        admin = path == "/_mock" or path.startswith("/_mock/")
        outgoing = Outgoing(
            request.method, path, _forwardable(request.headers), await request.body()
        )
        if not admin:
            drift.on_request(outgoing, state)
        if outgoing.body or "content-length" in request.headers:
            outgoing.headers["content-length"] = str(len(outgoing.body))
        raw_path = request.scope.get("raw_path") or path.encode()
        query = request.scope.get("query_string", b"")
        url = state.target + raw_path.decode("latin-1")
        if query:
            url += "?" + query.decode("latin-1")
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
def running_proxy(target_base_url: str, mutation: str | None) -> Iterator[str]:
    """Serve the proxy for `mutation` (None: no drift) on 127.0.0.1 in a background thread
    and yield its base URL; stop it on exit."""
    if mutation is not None and mutation not in MUTATIONS:
        raise ValueError(f"unknown mutation {mutation!r}; known: {sorted(MUTATIONS)}")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        create_proxy(target_base_url, public, mutation),
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
