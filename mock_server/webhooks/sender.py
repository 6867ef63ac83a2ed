"""One HTTP POST of one payload: timeout, optional Standard Webhooks signature, and a
target policy (SSRF guard) suited to a local tool."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import httpx
from standardwebhooks.webhooks import Webhook

from mock_server.clock import utc_now
from mock_server.webhooks.deliveries import NOT_ALLOWED


@dataclass(frozen=True)
class Outcome:
    status: int | None
    latency_ms: float
    error: str | None
    body: str | None


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    infos = socket.getaddrinfo(host, None)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def target_allowed(url: str, policy: str) -> bool:
    """`any`: every target; `private`: loopback and private networks; `loopback`: only this
    machine (where users run receivers). Names are resolved, so DNS tricks don't pass."""
    if policy == "any":
        return True
    host = urlsplit(url).hostname or ""
    try:
        addresses = await anyio.to_thread.run_sync(_addresses, host)
    except OSError:
        return False
    if policy == "loopback":
        return all(a.is_loopback for a in addresses)
    return all(a.is_loopback or a.is_private for a in addresses)


class Sender:
    def __init__(self, timeout: float, policy: str) -> None:
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._policy = policy
        # httpx's timeout is per network operation: a target that trickles its answer a
        # byte at a time never trips it. The whole attempt gets the same bound.
        self._deadline = timeout

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(
        self, url: str, payload: Mapping[str, Any], secret: str | None, delivery_id: str
    ) -> Outcome:
        try:
            allowed = await target_allowed(url, self._policy)
        except (ValueError, UnicodeError):
            allowed = False
        if not allowed:
            return Outcome(None, 0.0, NOT_ALLOWED, None)
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
        try:
            with anyio.fail_after(self._deadline):
                response = await self._client.post(url, content=body, headers=headers)
        except (httpx.TimeoutException, TimeoutError):
            return Outcome(None, _ms(started), "timeout", None)
        except httpx.HTTPError as exc:
            return Outcome(None, _ms(started), f"connection error: {exc}", None)
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
            return Outcome(None, _ms(started), f"{NOT_ALLOWED}: invalid URL ({exc})", None)
        return Outcome(response.status_code, _ms(started), None, response.text[:2000])


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
