"""tunemock with N fine-tune jobs already in its store, served like `tunemock serve` (bench only).

The first job of each tenant goes through the domain (FinetuneService.submit: defaults,
planned lifecycle); the rest are copies of that record under fresh ids, so every record is
shaped like a real one without paying N submits. The memory store is filled through the
Store interface; a SQLite file in one transaction (through the interface each insert would
be its own fsync'd commit: 100k of them take minutes and measure nothing of interest).

    python bench/scale_server.py --port N --jobs 100000 --tenants 100 [--state FILE]
                                 [--webhooks]

--webhooks: every tenant registers a fine-tune webhook once its jobs are stored (so every
job has one; the jobs' events came before it, so none is delivered: bench/dispatch_scale.py
measures what the stored jobs cost an idle dispatcher).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import uuid
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import submit_body

from mock_server.app import create_app
from mock_server.config import build_config
from mock_server.finetune.domain import KIND, FinetuneService
from mock_server.store import Store
from mock_server.tenancy import TenantIds


def tenant_name(index: int) -> str:
    return f"tenant-{index:04d}"


def fill(
    store: Store,
    service: FinetuneService,
    ids: TenantIds,
    jobs: int,
    tenants: int,
    state: Path | None,
) -> None:
    per_tenant = jobs // tenants
    rows = []
    for t in range(tenants):
        tenant = ids.of(tenant_name(t))  # the store knows a tenant by its key's id
        first = service.submit(tenant, submit_body(), "http://127.0.0.1")
        doc = store.get(KIND, first.id, tenant)
        assert doc is not None
        rows += [(tenant, doc.doc) for _ in range(per_tenant - 1)]
    if state is None:
        for tenant, doc in rows:
            store.insert(KIND, tenant, str(uuid.uuid4()), doc)
        return
    with sqlite3.connect(state) as conn:  # the SqliteStore schema's records table
        conn.executemany(
            "INSERT INTO records (kind, id, tenant, doc, version) VALUES (?, ?, ?, ?, 1)",
            [(KIND, str(uuid.uuid4()), t, json.dumps(d, separators=(",", ":"))) for t, d in rows],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--state", type=Path, default=None)
    parser.add_argument("--webhooks", action="store_true")
    args = parser.parse_args()
    config = build_config(None, port=args.port, timing="instant", datasets="skip", state=args.state)
    app = create_app(config)
    store = app.state.runtime.store
    if args.jobs:
        ids = app.state.runtime.tenants
        fill(store, app.state.services.finetune, ids, args.jobs, args.tenants, args.state)
    if args.webhooks:
        registry = app.state.services.webhooks.registry
        for t in range(args.tenants):  # nobody listens there: nothing is ever sent
            tenant = app.state.runtime.tenants.of(tenant_name(t))
            registry.add(tenant, "http://127.0.0.1:9/none", [registry.limit.event_type])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
