"""The tenancy group: a second key never sees, reads, updates or downloads the first key's
jobs, requests or webhooks. The second key is `other_api_key` when given (a key of the
same account or another), else a made-up key, which must get 401 or a not-found answer."""

from __future__ import annotations

import uuid

import httpx

from contracts.settings import mutation_blocked
from contracts.suites.base import Suite
from contracts.suites.flows import json_object
from contracts.suites.webhooks import receiver

#: What a key may answer for another key's resource: unauthorised, forbidden or not found.
REFUSALS = (401, 403, 404)


class Tenancy(Suite):
    name = "tenancy"
    whose = "a made-up key"  # how messages name the second key

    def run(self) -> None:
        why = mutation_blocked(self.target)
        owner, job = self.resources.owner, self.resources.finetune_id
        if not why and not (owner and job):
            why = "needs a job of the first key (the lifecycle group made none)"
        if why or owner is None or job is None:
            self.record("other_key_never_sees_job", "tenancy", skipped=why)
            return
        other = self.settings.other_api_key or f"tunemock-made-up-{uuid.uuid4().hex}"
        self.whose = "--other-api-key" if self.settings.other_api_key else "a made-up key"
        self.jobs(owner, other, job)
        self.requests(other)
        self.webhooks(owner, other)

    def hidden(
        self, check: str, label: str, answer: httpx.Response, secret: str, listing: bool = False
    ) -> bool:
        """A refusal; for a listing also a success that does not name `secret`. (A refusal
        may echo the id the second key sent: that is no data of the first key's.)"""
        refused = answer.status_code in REFUSALS
        ok = refused or (listing and answer.is_success and secret not in answer.text)
        allowed = ", ".join(map(str, REFUSALS)) + (" or a list without it" if listing else "")
        return self.expect(
            check,
            label,
            ok,
            f"{answer.status_code} {answer.text[:160]} for {self.whose}",
            f"{allowed}; never the first key's {secret}",
        )

    def jobs(self, owner: str, other: str, job: str) -> None:
        label = "tenancy finetune"
        read = self.target.request(
            "GET", "/finetune/request/details", key=other, json={"request_id": job}
        )
        self.hidden("other_key_never_sees_job", label, read, job)
        listing = self.target.request("GET", "/finetune/request/list", key=other)
        self.hidden("other_key_never_sees_job", label, listing, job, listing=True)
        before = self._public(owner, job)
        flipped = "False" if before else "True"
        update = self.target.request(
            "PUT",
            "/finetune/request/access-update",
            key=other,
            data={"request_id": job, "segmind_public": flipped},
        )
        self.hidden("other_key_never_updates_job", label, update, job)
        after = self._public(owner, job)
        self.expect(
            "other_key_never_updates_job",
            label,
            before == after,
            f"public_model {before} -> {after} after {self.whose}'s access update",
            "the job unchanged",
        )
        stored = self.resources.cloud_storage_url
        if stored:
            download = self.target.request(
                "GET",
                "/finetune/request/file/download",
                key=other,
                data={"cloud_storage_url": stored},
            )
            self.hidden("other_key_never_downloads", label, download, job)

    def _public(self, owner: str, job: str) -> object:
        details = self.target.request(
            "GET", "/finetune/request/details", key=owner, json={"request_id": job}
        )
        found = json_object(details).get("finetune")
        return found.get("public_model") if isinstance(found, dict) else None

    def requests(self, other: str) -> None:
        label = "tenancy inference"
        paths, request_id = self.resources.inference_paths, self.resources.inference_id
        if not paths or not request_id:
            self.record(
                "other_key_never_reads_request",
                label,
                skipped="needs a v2 request of the first key (the lifecycle group made none)",
            )
            return
        for path in paths:
            answer = self.target.request("GET", path, key=other)
            self.hidden("other_key_never_reads_request", label, answer, request_id)

    def webhooks(self, owner: str, other: str) -> None:
        # the webhook points at our own receiver, never at an outside host
        with receiver(self.settings.webhook_host, self.settings.webhook_port) as (own, _):
            self._webhooks(owner, other, self.settings.webhook_url or own)

    def _webhooks(self, owner: str, other: str, url: str) -> None:
        event_type = self.spec.operation("webhook_add").raw["x-webhook-limit"]["event_type"]
        added = self.call(
            "webhook_add",
            key=owner,
            json={"webhook_url": url, "event": {"types": [event_type]}},
            valid=True,
        )
        webhook_id = str(json_object(added).get("webhook_id") or "")
        if not webhook_id:
            return
        self.resources.webhook_id = webhook_id
        try:
            self._keep_out(owner, other, url, webhook_id, event_type)
        finally:
            self.deactivate_webhook(owner, webhook_id)

    def _keep_out(self, owner: str, other: str, url: str, webhook_id: str, event_type: str) -> None:
        label = "tenancy webhooks"
        listing = self.target.request("GET", "/webhook/get", key=other)
        self.hidden("other_key_never_sees_webhook", label, listing, webhook_id, listing=True)
        update = self.target.request(
            "POST",
            "/webhook/update",
            key=other,
            json={
                "webhook_id": webhook_id,
                "webhook_url": f"{url}/moved",
                "event": {"types": [event_type]},
            },
        )
        self.hidden("other_key_never_updates_webhook", label, update, webhook_id)
        # (a refused deactivation leaves the webhook as it was; the owner's own comes last)
        for path in ("/webhook/dispatch-logs", "/webhook/inactive"):
            answer = self.target.request("GET", path, key=other, params={"webhook_id": webhook_id})
            self.hidden("other_key_never_sees_webhook", label, answer, webhook_id)
        mine = self.target.request("GET", "/webhook/get", key=owner)
        self.expect(
            "other_key_never_updates_webhook",
            label,
            f"{url}/moved" not in mine.text,
            f"the owner's webhooks after {self.whose}'s update: {mine.text[:160]}",
            "the webhook unchanged",
        )
