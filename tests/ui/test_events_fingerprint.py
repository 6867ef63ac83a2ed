"""The dashboard's live stream: its fingerprint moves when a delivery's attempt is recorded
(no record added, only one changed), and making it reads no deliveries or jobs."""

from __future__ import annotations

from datetime import UTC, datetime

from mock_server import Config, create_app
from mock_server.ui.events import fingerprint
from mock_server.ui.views import Pages
from tests.webhooks.test_dispatch_idle import READS, CountingStore


def test_the_fingerprint_moves_with_an_attempt_and_reads_no_records() -> None:
    store = CountingStore()
    app = create_app(Config(clock="virtual", datasets="skip"), store=store)
    services = Pages(app.state.runtime, app.state.services)
    deliveries = services.webhooks.deliveries
    hook = {"webhook_id": "wh", "webhook_url": "http://127.0.0.1:9/x"}
    now = datetime.now(UTC)
    doc = deliveries.enqueue("k", hook, "job", "TRAINING_COMPLETED", 0, {"a": 1}, now)
    assert doc is not None
    before = fingerprint(services)
    assert fingerprint(services) == before  # nothing changed: the same mark
    deliveries.record_attempt(doc["delivery_id"], now, 500, 1.0, None, "no")
    store.calls.clear()
    after = fingerprint(services)
    assert after != before
    reads = {name: n for name, n in store.calls.items() if name in READS - {"count"}}
    assert reads == {}  # counts of each kind only: no list, no get
