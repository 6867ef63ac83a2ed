"""Fault injection at the edge: wraps `send` to answer an error, wait, drop the
connection, cut the body short or trickle it, per the rules or a one-off header."""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.responses import Response
from starlette.types import Message, Scope, Send

from mock_server.errors import InvalidInput
from mock_server.faults import Action, Faults, parse_header
from mock_server.http.call import Call
from mock_server.http.render import error_response


class InjectedDrop(Exception):
    """Raised after the answer started: the server closes the connection mid-answer."""


class FaultInjection:
    """Faults for vendor routes (admin routes are exempt), from the rules or a one-off
    `x-mock-fault` header."""

    def __init__(self, faults: Faults, family_of: Callable[[str], str | None]) -> None:
        self.faults = faults
        self.family_of = family_of

    async def apply(self, scope: Scope, call: Call, send: Send) -> tuple[Response | None, Send]:
        """(an answer that replaces the route's, or None; the `send` the route answers
        through, wrapped when the fault acts on the answer). Waits first for a latency."""
        if call.path.startswith("/_mock/"):
            return None, send
        one_off = call.headers.get("x-mock-fault")
        try:
            if one_off:
                chosen: tuple[str, Action] | None = ("x-mock-fault", parse_header(one_off))
            else:
                key = call.headers.get("x-api-key")
                chosen = self.faults.pick(call.method, call.path, key)
        except InvalidInput as exc:
            return error_response(None, 400, exc.message), send
        if chosen is None:
            return None, send
        name, action = chosen
        scope["state"]["fault"] = f"{name}: {action.label}"
        if action.latency_ms:
            await anyio.sleep(action.latency_ms / 1000)
        if action.status:
            family = call.found[0].family if call.found else self.family_of(call.path)
            return error_response(family, action.status, f"Injected fault ({action.label})"), send
        return None, self._wrap(send, action)

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
