"""The fault-injection middleware: wraps `send` to answer an error, wait, drop the
connection, cut the body short or trickle it, per the rules or a one-off header."""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.errors import InvalidInput
from mock_server.faults import Action, Faults, parse_header
from mock_server.http.render import error_response


class InjectedDrop(Exception):
    """Raised after the answer started: the server closes the connection mid-answer."""


class FaultInjection:
    def __init__(
        self, app: ASGIApp, faults: Faults, family_of: Callable[[str], str | None]
    ) -> None:
        self.app = app
        self.faults = faults
        self.family_of = family_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_mock/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        one_off = headers.get("x-mock-fault")
        try:
            if one_off:
                chosen: tuple[str, Action] | None = ("x-mock-fault", parse_header(one_off))
            else:
                chosen = self.faults.pick(scope["method"], scope["path"], headers.get("x-api-key"))
        except InvalidInput as exc:
            await error_response(None, 400, exc.message)(scope, receive, send)
            return
        if chosen is None:
            await self.app(scope, receive, send)
            return
        name, action = chosen
        scope.setdefault("state", {})["fault"] = f"{name}: {action.label}"
        if action.latency_ms:
            await anyio.sleep(action.latency_ms / 1000)
        if action.status:
            family = self.family_of(scope["path"])
            answer = error_response(family, action.status, f"Injected fault ({action.label})")
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, self._wrap(send, action))

    def _wrap(self, send: Send, action: Action) -> Send:
        async def faulty(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
                if action.drop:
                    raise InjectedDrop("connection dropped by an injected fault")
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body: bytes = message.get("body", b"")
            if action.truncate:
                await send(
                    {
                        "type": "http.response.body",
                        "body": body[: len(body) // 2],
                        "more_body": True,
                    }
                )
                raise InjectedDrop("answer truncated by an injected fault")
            if action.slow_body_ms and body:
                pieces = [
                    body[i : i + max(1, len(body) // 8)]
                    for i in range(0, len(body), max(1, len(body) // 8))
                ]
                for piece in pieces:
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
                    await anyio.sleep(action.slow_body_ms / 1000 / len(pieces))
                await send(
                    {
                        "type": "http.response.body",
                        "body": b"",
                        "more_body": message.get("more_body", False),
                    }
                )
                return
            await send(message)

        return faulty
