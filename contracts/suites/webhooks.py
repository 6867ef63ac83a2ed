"""Webhook checks (schemathesis ignores `webhooks:`; these are ours): a receiver of our own,
registered through the API, hears a fine-tune's lifecycle; every payload must validate
against the spec, arrive in lifecycle order, and arrive once. Steered, the clock moves and
the mock's queue is flushed; observed, the events arrive in real time within `wait`, at
`webhook_url` (a public URL forwarding to the receiver) or, on a loopback target, at the
receiver itself."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from contracts.checks import expect
from contracts.settings import mutation_blocked
from contracts.suites.base import Suite
from contracts.suites.flows import id_keys, json_object, submit_body, tiny_png, upload
from contracts.target import is_loopback
from mock_server.lifecycle.from_spec import lifecycles_from_spec
from mock_server.spec.schemas import schema_validator


@contextmanager
def receiver(host: str, port: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server recording JSON POSTs (and serving a small PNG to GETs); yields
    (url, payloads)."""
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

        def do_GET(self) -> None:
            # the images a target is pointed at instead of made-up hosts (links suite)
            image = tiny_png()
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.send_header("content-length", str(len(image)))
            self.end_headers()
            self.wfile.write(image)

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

    def unreachable(self) -> str | None:
        """Why the target cannot reach our receiver, or None."""
        if self.target.is_mock or self.settings.webhook_url or is_loopback(self.target.base_url):
            return None
        return "needs --webhook-url (no reachable receiver)"

    def run(self) -> None:
        label = "webhooks finetune"
        why = mutation_blocked(self.target) or self.unreachable()
        if why:
            self.record("webhook_payloads_conform", label, skipped=why)
            return
        life = lifecycles_from_spec(self.spec)["finetune"]
        doc = self.spec.documents["segmind-finetune"]
        schemas = {
            hook.name: hook.raw["post"]["requestBody"]["content"]["application/json"]["schema"]
            for hook in self.spec.webhooks
            if hook.family == "segmind-finetune"
        }
        key = self.key_for("webhooks")
        settings = self.settings
        with receiver(settings.webhook_host, settings.webhook_port) as (own_url, payloads):
            url = settings.webhook_url or own_url
            event_type = self.spec.operation("webhook_add").raw["x-webhook-limit"]["event_type"]
            added = self.call(
                "webhook_add",
                key=key,
                json={"webhook_url": url, "event": {"types": [event_type]}},
                valid=True,
            )
            webhook_id = json_object(added).get("webhook_id")
            try:
                job_id = self.submit(key, label)
                if job_id is None:
                    return
                # only this job's events: the key may have other jobs (a real account)
                received = self.listen(payloads, len(life.webhook_events), job_id)
            finally:
                if webhook_id:
                    self.deactivate_webhook(key, str(webhook_id))
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
        self.expect(
            "webhook_events_all_arrived",
            label,
            set(life.webhook_events) <= set(events),
            f"events {events} within {self.settings.wait:.0f} s",
            f"{list(life.webhook_events)}",
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

    def submit(self, key: str, label: str) -> str | None:
        """A fine-tune on our own dataset, whose events the receiver will hear; its id."""
        s3_url = upload(self, key)
        if s3_url is None:
            return None
        body = submit_body(self.spec, s3_url)
        submitted = self.target.request("POST", "/finetune/request/submit", key=key, json=body)
        if submitted.status_code != 200:
            self.record(
                "webhook_payloads_conform",
                label,
                False,
                f"Received: submit answered {submitted.status_code} / Documented: 200",
            )
            return None
        keys = id_keys(self.spec, body)
        return str(json_object(submitted).get(keys["submit"]))

    def listen(
        self, payloads: list[dict[str, Any]], expected: int, job_id: str
    ) -> list[dict[str, Any]]:
        """The job's payloads, once `expected` arrived or the budget ran out, and a moment
        more for anything extra (a duplicate) to arrive."""

        def mine() -> list[dict[str, Any]]:
            return [p for p in list(payloads) if job_id in p.values()]

        steered = self.target.is_mock
        budget = min(self.settings.wait, 10.0) if steered else self.settings.wait
        if steered:
            self.target.admin("POST", "/clock/advance", json={"seconds": 3600})
        deadline = time.monotonic() + budget
        while len(mine()) < expected and time.monotonic() < deadline:
            if steered:
                self.target.admin("POST", "/webhooks/flush")
            time.sleep(0.1 if steered else min(self.settings.poll, 1.0))
        if steered:
            self.target.admin("POST", "/webhooks/flush")
        time.sleep(0.3 if steered else min(self.settings.poll, 2.0))
        return mine()


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
