"""`tunemock serve --replay FILE` at the edge: a request the recording holds an answer for
gets that answer (its recorded bytes); any other goes on to the mock. Either way the journal
entry says which (`replay`: "recorded" or "mock")."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from mock_server.http.call import Call, base_url_of
from mock_server.replay import ReplayBook

#: Bytes of a request body read to find its queue; a larger body is no job lookup.
_BODY_CAP = 1024 * 1024


class _Again:
    """A `receive` that hands the already-read messages over again, then the server's."""

    def __init__(self, messages: list[Message], receive: Receive) -> None:
        self._messages, self._receive = messages, receive

    async def __call__(self) -> Message:
        if self._messages:
            return self._messages.pop(0)
        return await self._receive()


async def _read(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The request's messages read so far and its body (None: too large, or cut off)."""
    messages: list[Message] = []
    size, more = 0, True
    while more and size <= _BODY_CAP:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        more = bool(message.get("more_body", False))
    if more:
        return messages, None
    return messages, b"".join(m.get("body", b"") for m in messages)


class Replayer:
    def __init__(self, book: ReplayBook) -> None:
        self.book = book

    async def answer(
        self, scope: Scope, call: Call, receive: Receive, send: Send
    ) -> Receive | None:
        """Send the recorded answer and return None; or return the `receive` the mock reads
        the request from (the body, when read here, handed over again)."""
        call.replay = "mock"
        if not self.book.knows(call.method, call.path):
            return receive
        body: bytes | None = b""
        if self.book.reads_body(call.method, call.path):
            messages, body = await _read(receive)
            receive = _Again(messages, receive)
            if body is None:
                return receive
        query = scope.get("query_string", b"").decode("latin-1")
        recorded = self.book.take(call.method, call.path, query, body)
        if recorded is None or recorded.body is None:
            return receive
        headers, content = recorded.given_back(
            self.book.upstream, base_url_of(scope, call.headers.get("host"))
        )
        call.replay = "recorded"
        encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        await send({"type": "http.response.start", "status": recorded.status, "headers": encoded})
        await send({"type": "http.response.body", "body": content, "more_body": False})
        return None
