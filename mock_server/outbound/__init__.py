"""Outbound calls (webhook deliveries, the trainer's webhook_url, dataset and image
fetches) go through one policy: never to the mock's own listeners, only where
`webhook_targets` / `fetch_targets` allow, bounded in time, at most 2 KB of an answer
kept, in fetch slots of their own per tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mock_server.outbound.calls import MAX_ANSWER_BYTES, call_errors, error_class, read_capped
from mock_server.outbound.guard import CANNOT_CONNECT, NOT_ALLOWED, Guard, TargetRefused
from mock_server.outbound.listeners import OwnListeners
from mock_server.outbound.policy import TargetPolicy
from mock_server.outbound.slots import TenantSlots

if TYPE_CHECKING:
    from mock_server.config import Config

__all__ = [
    "CANNOT_CONNECT",
    "MAX_ANSWER_BYTES",
    "NOT_ALLOWED",
    "Guard",
    "Outbound",
    "OwnListeners",
    "TargetPolicy",
    "TargetRefused",
    "TenantSlots",
    "call_errors",
    "error_class",
    "read_capped",
]


@dataclass(frozen=True)
class Outbound:
    """The app's outbound policy, built once (create_app) and shared by every sender."""

    own: OwnListeners
    webhooks: Guard
    fetches: Guard
    slots: TenantSlots
    fetch_deadline: float  # seconds in all for one request's fetches

    @classmethod
    def from_config(cls, config: Config) -> Outbound:
        own = OwnListeners(config.port)
        return cls(
            own=own,
            webhooks=Guard(TargetPolicy.parse(config.webhook_targets), own),
            fetches=Guard(TargetPolicy.parse(config.fetch_targets), own),
            slots=TenantSlots(
                config.fetch_slots_per_tenant,
                config.fetch_slots_total,
                config.fetch_queue_per_tenant,
            ),
            fetch_deadline=config.fetch_deadline,
        )
