"""The positive group: every operation, sent a valid request, answers a documented 2xx.
The requests are the spec's own examples (the first one not marked `x-negative`), with the
ids of resources this run made in place of the examples' placeholders. Operations the
other groups already sent valid requests to are not sent again."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from contracts.settings import mutation_blocked
from contracts.suites.base import VALID_REQUEST_SUCCEEDS, Suite
from contracts.suites.flows import json_object, tiny_png
from contracts.suites.webhooks import receiver
from contracts.target import spends
from mock_server.spec import Operation

#: The order operations are sent in: creators before the operations that need what they
#: made; deactivating a webhook last.
ORDER = (
    "webhook_add",
    "webhook_get",
    "webhook_update",
    "webhook_test",
    "webhook_dispatch_logs",
    "webhook_inactive",
    "lora_trainer_finetune_create",
    "lora_trainer_finetune_status",
)


#: Operations that make what later ones in ORDER need (under the positive group's key).
_CREATORS = {"webhook_add", "webhook_inactive"}  # add, and leave no active webhook behind


def first_example(op: Operation) -> tuple[str | None, dict[str, Any]]:
    """(media type, body) of the operation's first valid example; (None, {}) without."""
    for media, content in op.raw.get("requestBody", {}).get("content", {}).items():
        for example in (content.get("examples") or {}).values():
            value = example.get("value")
            if not example.get("x-negative") and isinstance(value, dict):
                return media, copy.deepcopy(value)
    return None, {}


class Positive(Suite):
    name = "positive"

    def run(self, families: list[str]) -> None:
        done = {
            o.operation
            for o in self.report.outcomes
            if o.check == VALID_REQUEST_SUCCEEDS and not o.skipped
        }
        ops = [o for o in self.spec.operations if o.family in families]
        ops.sort(key=lambda o: ORDER.index(o.operation_id) if o.operation_id in ORDER else -1)
        blocked = mutation_blocked(self.target)
        self.key = self.key_for("positive")
        self.made: dict[str, str] = {}
        with receiver(self.settings.webhook_host, self.settings.webhook_port) as (url, _):
            self.hook_url = self.settings.webhook_url or url
            for op in ops:
                # creators run again here: what the positive group sends next needs its own
                if self.label(op) in done and op.operation_id not in _CREATORS:
                    continue
                if blocked and (spends(op) or op.method != "GET"):
                    self.record(VALID_REQUEST_SUCCEEDS, self.label(op), skipped=blocked)
                    continue
                self.send(op)

    def fill(self) -> Mapping[str, str | None]:
        """Placeholder fields and the resources that replace them."""
        res = self.resources
        return {
            "request_id": res.finetune_id,
            "finetune_id": res.model_id,
            "cloud_storage_url": res.cloud_storage_url,
            "webhook_id": self.made.get("webhook_id"),
            "webhook_url": self.hook_url,
        }

    @property
    def path_ids(self) -> Mapping[str, str | None]:
        """Path placeholders and the resources that fill them."""
        return {"request_id": self.resources.inference_id, "id": self.made.get("lora_id")}

    def send(self, op: Operation) -> None:
        media, body = first_example(op)
        fill = self.fill()
        missing = [k for k in body if k in fill and fill[k] is None]
        path, params = op.path, {}
        for name in re.findall(r"{(\w+)}", op.path):
            value = self.path_ids.get(name)
            if value is None:
                missing.append(name)
            else:
                path = path.replace(f"{{{name}}}", value)
        for parameter in self._parameters(op):
            name = str(parameter.get("name"))
            if fill.get(name) is None:
                missing.append(name)
            else:
                params[name] = str(fill[name])
        if missing:
            self.record(
                VALID_REQUEST_SUCCEEDS,
                self.label(op),
                skipped=f"needs {', '.join(missing)} from an earlier group, which made none",
            )
            return
        body.update({k: v for k, v in fill.items() if k in body and v is not None})
        owner = self.resources.owner if self._uses_owner(op, body) else self.key
        kw: dict[str, Any] = {"params": params or None}
        if media == "application/json":
            kw["json"] = body
        elif media == "multipart/form-data":
            kw["data"], kw["files"] = self._multipart(body)
        elif media:
            kw["data"] = body
        answer = self.call(op.operation_id, path, key=owner, valid=True, **kw)
        found = json_object(answer)
        if op.operation_id == "webhook_add" and found.get("webhook_id"):
            self.made["webhook_id"] = str(found["webhook_id"])
        data = found.get("data")
        if op.operation_id == "lora_trainer_finetune_create" and isinstance(data, dict):
            self.made["lora_id"] = str(data.get("id"))

    def _parameters(self, op: Operation) -> list[dict[str, Any]]:
        doc = self.spec.documents[op.family]
        found = []
        for parameter in op.raw.get("parameters", []):
            if "$ref" in parameter:
                parameter = doc.resolve(parameter["$ref"])
            if parameter.get("in") == "query" and parameter.get("required"):
                found.append(parameter)
        return found

    def _uses_owner(self, op: Operation, body: Mapping[str, Any]) -> bool:
        """Requests on the lifecycle group's jobs go out under the key that owns them."""
        owned = {"request_id", "finetune_id", "cloud_storage_url"}
        return bool(owned & set(body)) or "{request_id}" in op.path

    def _multipart(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """Form fields and files. Image URLs would make the target fetch from the
        examples' outside hosts: the same number of small images go as files instead."""
        urls = body.pop("image_urls", None)
        files = [
            ("image_files", (f"image_{i}.png", tiny_png(), "image/png"))
            for i in range(len(urls or []))
        ]
        data = {k: v if isinstance(v, str) else str(v) for k, v in body.items()}
        return data, files
