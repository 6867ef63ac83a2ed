"""Fault injection at the edge: wraps `send` to answer an error, wait, drop the
connection, cut the body short or trickle it, per the rules or a one-off header."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.errors import InvalidInput
from mock_server.faults import Action, Faults, parse_header
from mock_server.http.call import Call
from mock_server.http.render import error_response

log = logging.getLogger("tunemock")

#: Where `ConnectionAbort` leaves the way to close the request's connection at once.
ABORT = "tunemock.abort"

Abort = Callable[[], Awaitable[None]]


class InjectedDrop(Exception):
    """Raised where the connection cannot be aborted (an in-process transport): after the
    answer started, the server closes the connection mid-answer."""


def _aborter(send: Send) -> Abort | None:
    """A way to close the client's connection without another byte, or None.

    ASGI has no message for "close without answering": an app that raises before its first
    message gets the server's own 500, and one that raises after it gets a traceback logged
    as a crash. uvicorn's `send` is a bound method of its request cycle, which holds the
    connection's asyncio transport: aborting that is the one way to drop a connection."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not callable(getattr(transport, "abort", None)):
        return None

    async def abort() -> None:
        transport.abort()
        # the transport tells the server it is gone on the loop's next turn; from then on
        # the server ignores what the app sends and logs nothing about the lost answer
        await anyio.sleep(0)
        await anyio.sleep(0)

    return abort


class ConnectionAbort:
    """Outermost ASGI layer: puts the server connection's abort (when the server has one)
    into the scope, for the `drop` and `truncate` faults."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            abort = _aborter(send)
            if abort is not None:
                scope[ABORT] = abort
        await self.app(scope, receive, send)


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
        call.fault = f"{name}: {action.label}"
        if action.latency_ms:
            await anyio.sleep(action.latency_ms / 1000)
        if action.status:
            family = call.found[0].family if call.found else self.family_of(call.path)
            return error_response(family, action.status, f"Injected fault ({action.label})"), send
        return None, self._wrap(scope, call, send, action)

    def _wrap(self, scope: Scope, call: Call, send: Send, action: Action) -> Send:
        abort: Abort | None = scope.get(ABORT)
        gone = False  # the connection was aborted: what the route still sends goes nowhere

        async def cut(what: str) -> None:
            nonlocal gone
            if abort is None:
                raise InjectedDrop(f"{what} by an injected fault")
            await abort()
            gone = True
            # one line: an injected fault is no crash (no traceback)
            log.warning("injected fault: %s on %s %s", what, call.method, call.path)

        async def faulty(message: Message) -> None:
            if gone:
                return
            if message["type"] == "http.response.start":
                if action.drop and abort is not None:
                    await cut("connection dropped before any byte of the answer")
                    return
                await send(message)
                if action.drop:  # no connection to abort: the server closes it mid-answer
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
                await cut("answer truncated")
                return
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
