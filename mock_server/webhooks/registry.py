"""The webhook registry the SDK manages (add, update, inactive, get), one per tenant.

The limit "only 1 webhook at a time for finetune jobs" is read from the spec
(`x-webhook-limit` on webhook_add), as is the name of the fine-tune event type.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mock_server.clock import iso
from mock_server.errors import Conflict, NotFound
from mock_server.runtime import Runtime

KIND = "webhook"
ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"


@dataclass(frozen=True)
class WebhookLimit:
    event_type: str
    max_active: int


class WebhookRegistry:
    def __init__(self, rt: Runtime, default_url: str | None, signing: bool) -> None:
        self._rt = rt
        self._default_url = default_url
        self._signing = signing
        raw = rt.spec.operation("webhook_add").raw["x-webhook-limit"]
        self.limit = WebhookLimit(str(raw["event_type"]), int(raw["max_active"]))
        # events of jobs that happened before a `--webhook-url` default was materialized
        # still go to it: it stands for a webhook registered at server start
        self._started = iso(rt.clock.now())

    @property
    def has_default(self) -> bool:
        """A `--webhook-url` every tenant has from the start."""
        return bool(self._default_url)

    def _new_secret(self) -> str | None:
        return (
            "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode() if self._signing else None
        )

    def list(self, tenant: str, active_only: bool = True) -> Sequence[Mapping[str, Any]]:
        self._ensure_default(tenant)
        docs = [r.doc for r in self._rt.store.list(KIND, tenant)]
        return [d for d in docs if d["status"] == ACTIVE or not active_only]

    def get(self, tenant: str, webhook_id: str) -> Mapping[str, Any]:
        record = self._rt.store.get(KIND, webhook_id, tenant)
        if record is None:
            raise NotFound(f"Webhook {webhook_id} not found")
        return record.doc

    def _check_limit(self, tenant: str, types: Sequence[str], exclude: str | None) -> None:
        if self.limit.event_type not in types:
            return
        active = [
            d
            for d in self.list(tenant)
            if self.limit.event_type in d["event"]["types"] and d["webhook_id"] != exclude
        ]
        if len(active) >= self.limit.max_active:
            raise Conflict(
                f"You can create only {self.limit.max_active} webhook at a time for finetune "
                f"jobs: delete the old webhook ({active[0]['webhook_id']}) with "
                "webhook/inactive before creating a new one"
            )

    def add(self, tenant: str, url: str, types: Sequence[str]) -> Mapping[str, Any]:
        self._check_limit(tenant, types, exclude=None)
        return self._insert(tenant, f"wh_{uuid.uuid4().hex[:20]}", url, types, since=None)

    def preload(
        self, tenant: str, webhook_id: str, url: str, types: Sequence[str]
    ) -> Mapping[str, Any]:
        """Scenarios: register a webhook under a chosen id, replacing any webhook with it.
        It hears what happens from now on; Conflict past the spec's limit."""
        self._check_limit(tenant, types, exclude=webhook_id)
        self._rt.store.delete(KIND, webhook_id, None)
        return self._insert(tenant, webhook_id, url, types, since=None)

    def all_active(self) -> Sequence[tuple[str, Mapping[str, Any]]]:
        """(tenant, webhook) of every tenant's active webhooks, oldest first."""
        records = reversed(self._rt.store.list(KIND, None))
        return [(r.tenant, r.doc) for r in records if r.doc["status"] == ACTIVE]

    def _insert(
        self, tenant: str, webhook_id: str, url: str, types: Sequence[str], since: str | None
    ) -> Mapping[str, Any]:
        now = iso(self._rt.clock.now())
        doc = {
            "webhook_id": webhook_id,
            "webhook_url": url,
            "event": {"types": list(types)},
            "status": ACTIVE,
            "created_at": now,
            "updated_at": now,
            "since": since or now,
            "signing_secret": self._new_secret(),
        }
        return self._rt.store.insert(KIND, tenant, webhook_id, doc).doc

    def update(
        self, tenant: str, webhook_id: str, url: str, types: Sequence[str]
    ) -> Mapping[str, Any]:
        current = self.get(tenant, webhook_id)
        if current["status"] != ACTIVE:
            raise NotFound(f"Webhook {webhook_id} not found")
        self._check_limit(tenant, types, exclude=webhook_id)
        now = iso(self._rt.clock.now())
        record = self._rt.store.update(
            KIND,
            webhook_id,
            tenant,
            lambda d: {**d, "webhook_url": url, "event": {"types": list(types)}, "updated_at": now},
        )
        if record is None:
            raise NotFound(f"Webhook {webhook_id} not found")
        return record.doc

    def inactivate(self, tenant: str, webhook_id: str) -> Mapping[str, Any]:
        current = self.get(tenant, webhook_id)
        if current["status"] != ACTIVE:
            raise NotFound(f"Webhook {webhook_id} not found")
        now = iso(self._rt.clock.now())
        record = self._rt.store.update(
            KIND, webhook_id, tenant, lambda d: {**d, "status": INACTIVE, "updated_at": now}
        )
        if record is None:
            raise NotFound(f"Webhook {webhook_id} not found")
        return record.doc

    def owner_of(self, webhook_id: str) -> str:
        """The tenant a webhook belongs to (admin routes act for any tenant)."""
        record = self._rt.store.get(KIND, webhook_id, None)
        if record is None:
            raise NotFound(f"Webhook {webhook_id} not found")
        return record.tenant

    def finetune_webhook(self, tenant: str) -> Mapping[str, Any] | None:
        """The tenant's active webhook subscribed to fine-tune events, if any."""
        for doc in self.list(tenant):
            if self.limit.event_type in doc["event"]["types"]:
                return doc
        return None

    def _ensure_default(self, tenant: str) -> None:
        """`--webhook-url`: every tenant has it from the start, once (a deleted default
        stays deleted: its deterministic id is taken)."""
        if not self._default_url:
            return
        webhook_id = "wh_default_" + hashlib.sha256(tenant.encode()).hexdigest()[:12]
        if self._rt.store.get(KIND, webhook_id, None) is not None:
            return
        with contextlib.suppress(Conflict):  # another worker made it first
            self._insert(
                tenant, webhook_id, self._default_url, [self.limit.event_type], self._started
            )


def public_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The record as the registry answers it (no internal bookkeeping)."""
    view = {k: v for k, v in doc.items() if k != "since"}
    if view.get("signing_secret") is None:
        view.pop("signing_secret", None)
    return view
