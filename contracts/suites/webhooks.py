"""Webhook checks (schemathesis ignores `webhooks:`; these are ours): a receiver of our own,
registered through the API, hears a fine-tune's lifecycle; every payload must validate
against the spec, arrive in lifecycle order, and arrive once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from contracts.checks import expect
from contracts.suites.base import Suite
from contracts.suites.lifecycle import Lifecycles
from mock_server.lifecycle.from_spec import lifecycles_from_spec
from mock_server.spec.schemas import schema_validator


@contextmanager
def receiver(host: str, port: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server recording JSON POSTs; yields (url, payloads)."""
    payloads: list[dict[str, Any]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                payload = json.loads(body)
            except ValueError:
                payload = {"_unparseable": body[:200].decode("utf-8", "replace")}
            with lock:
                payloads.append(payload)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/tunemock-check", payloads
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Webhooks(Suite):
    name = "webhooks"

    def run(self, host: str, port: int, wait: float = 10.0) -> None:
        label = "webhooks finetune"
        if not self.target.is_mock or self.target.safe:
            why = "needs the mock's clock" if not self.target.is_mock else "safe mode"
            self.record("webhook_payloads_conform", label, skipped=why)
            return
        life = lifecycles_from_spec(self.spec)["finetune"]
        doc = self.spec.documents["segmind-finetune"]
        schemas = {
            hook.name: hook.raw["post"]["requestBody"]["content"]["application/json"]["schema"]
            for hook in self.spec.webhooks
            if hook.family == "segmind-finetune"
        }
        key = self.target.tenant("webhooks")
        with receiver(host, port) as (url, payloads):
            event_type = self.spec.operation("webhook_add").raw["x-webhook-limit"]["event_type"]
            added = self.target.request(
                "POST",
                "/webhook/add",
                key=key,
                json={"webhook_url": url, "event": {"types": [event_type]}},
            )
            self.conforms(self.spec.operation("webhook_add"), added)
            flow = Lifecycles(self.target, self.report)
            body = flow.submit_body(flow.upload(key))
            submitted = self.target.request("POST", "/finetune/request/submit", key=key, json=body)
            if submitted.status_code != 200:
                self.record(
                    "webhook_payloads_conform",
                    label,
                    False,
                    f"Received: submit answered {submitted.status_code} / Documented: 200",
                )
                return
            self.target.admin("POST", "/clock/advance", json={"seconds": 3600})
            deadline = time.monotonic() + wait
            while len(payloads) < len(life.webhook_events) and time.monotonic() < deadline:
                self.target.admin("POST", "/webhooks/flush")
                time.sleep(0.1)
            self.target.admin("POST", "/webhooks/flush")
            time.sleep(0.3)  # anything extra would arrive now
            received = list(payloads)
        events = [p.get("event") for p in received]
        for payload in received:
            event = str(payload.get("event"))
            self.verdict(
                "webhook_payloads_conform",
                f"webhook {event}",
                _conforms,
                doc,
                schemas.get(event),
                payload,
                event,
            )
        in_order = [e for e in events if e in life.webhook_events] == list(life.webhook_events)
        self.expect(
            "webhook_events_in_order",
            label,
            in_order,
            f"events {events}",
            f"{list(life.webhook_events)}, in that order",
        )
        self.expect(
            "webhook_exactly_once",
            label,
            len(events) == len(set(events)),
            f"events {events}",
            "each event delivered once after a 2xx",
        )


def _conforms(doc: Any, schema: Any, payload: dict[str, Any], event: str) -> None:
    expect(
        "webhook_payloads_conform",
        schema is not None,
        f"event {event!r}",
        "an event the spec's webhooks: section names",
    )
    errors = list(schema_validator(doc, schema).iter_errors(payload))
    if errors:
        first = errors[0]
        where = "/".join(map(str, first.absolute_path)) or "(payload)"
        expect(
            "webhook_payloads_conform",
            False,
            f"{where}: {first.message}",
            f"the {event} payload schema",
        )
