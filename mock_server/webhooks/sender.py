"""One HTTP POST of one payload: the outbound policy (never the mock itself, only allowed
targets), a bound on the whole attempt, an optional Standard Webhooks signature, and at
most 2 KB of the target's answer read."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from standardwebhooks.webhooks import Webhook

from mock_server.clock import utc_now
from mock_server.outbound import CANNOT_CONNECT, Guard, call_errors, error_class, read_capped

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class Outcome:
    status: int | None
    latency_ms: float
    error: str | None
    body: str | None  # at most MAX_ANSWER_BYTES of the answer, kept for the admin only


class Sender:
    def __init__(self, timeout: float, guard: Guard) -> None:
        self._guard = guard
        # made at the first delivery, not at start, and in a worker thread: making one
        # imports httpx and loads the CA bundle, which neither a start nor the requests the
        # event loop is serving meanwhile should wait for
        self._made: httpx.AsyncClient | None = None
        self._making = threading.Lock()
        # httpx's timeout is per network operation: a target that trickles its answer a
        # byte at a time never trips it. The whole attempt gets the same bound.
        self._deadline = timeout

    def _make(self) -> httpx.AsyncClient:
        with self._making:
            if self._made is None:
                import httpx

                from mock_server.outbound.transport import async_client

                self._made = async_client(self._guard, httpx.Timeout(self._deadline))
            return self._made

    async def aclose(self) -> None:
        if self._made is not None:
            await self._made.aclose()

    async def post(
        self, url: str, payload: Mapping[str, Any], secret: str | None, delivery_id: str
    ) -> Outcome:
        body = json.dumps(payload, separators=(",", ":"))
        headers = {"content-type": "application/json", "user-agent": "tunemock-webhooks/1"}
        if secret:
            msg_id = f"msg_{uuid.uuid5(uuid.NAMESPACE_URL, delivery_id).hex}"
            stamp = utc_now()  # receivers check it against their own wall clock
            headers |= {
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(stamp.timestamp())),
                "webhook-signature": Webhook(secret).sign(msg_id, stamp, body),
            }
        started = time.perf_counter()
        connected: list[bool] = []

        async def trace(event: str, info: Mapping[str, Any]) -> None:
            if event == "connection.connect_tcp.complete":
                connected.append(True)

        client = self._made
        if client is None:
            client = await anyio.to_thread.run_sync(self._make)
        try:
            with anyio.fail_after(self._deadline):
                request = client.build_request(
                    "POST", url, content=body, headers=headers, extensions={"trace": trace}
                )
                response = await client.send(request, stream=True)
                try:
                    answer = await read_capped(response)
                finally:
                    await response.aclose()
        except call_errors() as exc:
            import httpx

            # running out of time before a connection is the same class as a refused one:
            # "timeout" there would tell a filtered port from a closed one
            unconnected = isinstance(exc, TimeoutError | httpx.TimeoutException) and not connected
            error = CANNOT_CONNECT if unconnected else error_class(exc)
            return Outcome(None, _ms(started), error, None)
        return Outcome(response.status_code, _ms(started), None, answer.decode(errors="replace"))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
