"""Handlers of the admin API (/_mock), one per operationId of openapi/mock-admin.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse, Response

from mock_server.admin.jobs import JobSummary, summaries
from mock_server.admin.journal_query import JournalQuery, journal_on, select
from mock_server.clock import iso
from mock_server.errors import NotFound
from mock_server.http.context import Handler, HandlerContext
from mock_server.spec.loader import VENDOR_FAMILIES
from mock_server.store.factory import described


def _clock(ctx: HandlerContext) -> dict[str, object]:
    clock = ctx.runtime.clock
    return {"kind": clock.kind, "now": iso(clock.now()), "offset_seconds": clock.offset()}


async def health(ctx: HandlerContext) -> Response:
    rt = ctx.runtime
    vendor = [name for name in rt.spec.documents if name in VENDOR_FAMILIES]
    problems = ctx.services.disk.problems()
    return JSONResponse(
        {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "apis": vendor,
            "operations": sum(1 for op in rt.spec.operations if op.family in vendor),
            "clock": rt.clock.kind,
            "timing": rt.timing.name,
            "state": described(rt.config.state),
        }
    )


async def reset(ctx: HandlerContext) -> Response:
    ctx.services.reset()
    return JSONResponse({"reset": True})


async def clock(ctx: HandlerContext) -> Response:
    return JSONResponse(_clock(ctx))


async def clock_advance(ctx: HandlerContext) -> Response:
    ctx.runtime.clock.advance(float(ctx.body["seconds"]))
    return JSONResponse(_clock(ctx))


async def jobs(ctx: HandlerContext) -> Response:
    q = ctx.valid.query
    now = ctx.runtime.clock.now()
    ids = ctx.runtime.tenants
    tenant = ids.given(q["tenant"]) if q.get("tenant") else None
    rows = [s.as_dict(now, ids.shown) for s in summaries(ctx.services.jobs, q.get("kind"), tenant)]
    if q.get("status"):
        rows = [r for r in rows if r["status"] == q["status"]]
    return JSONResponse(rows[: int(q.get("limit", 500))])


async def job_status(ctx: HandlerContext) -> Response:
    job_id = ctx.valid.path_params["id"]
    body = ctx.body or {}
    for name, kind in ctx.services.jobs.items():
        try:
            kind.get(None, job_id)
        except NotFound:
            continue
        status = body.get("status")
        detail = body.get("error_message") or (f"Forced to {status} via /_mock" if status else None)
        job = kind.force_status(job_id, status, detail)
        summary = JobSummary(name, job, kind.lifecycle)
        return JSONResponse(summary.as_dict(ctx.runtime.clock.now(), ctx.runtime.tenants.shown))
    raise NotFound(f"No job {job_id}")


def _selected(ctx: HandlerContext) -> list[Mapping[str, Any]] | None:
    """The journal entries the query's filters select; None when it has no filter."""
    rt = ctx.runtime
    query = JournalQuery.from_params(rt.spec, rt.tenants, ctx.valid.query)
    if not query.filters:
        return None
    journal_on(rt.config.journal_size)
    return select(rt.store.journal(rt.config.journal_size), query, rt.spec)


async def requests(ctx: HandlerContext) -> Response:
    limit = int(ctx.valid.query.get("limit", 100))
    selected = _selected(ctx)
    if selected is None:
        return JSONResponse(list(ctx.runtime.store.journal(limit)))
    return JSONResponse(selected[:limit])


async def requests_count(ctx: HandlerContext) -> Response:
    selected = _selected(ctx)
    if selected is None:
        journal_on(ctx.runtime.config.journal_size)
        selected = list(ctx.runtime.store.journal(ctx.runtime.config.journal_size))
    return JSONResponse({"count": len(selected)})


async def credits_get(ctx: HandlerContext) -> Response:
    key = ctx.valid.path_params["api_key"]
    tenant = ctx.runtime.tenants.given(key)
    return JSONResponse({"api_key": key, "credits": ctx.services.credits.balance(tenant)})


async def credits_set(ctx: HandlerContext) -> Response:
    key = ctx.valid.path_params["api_key"]
    balance = ctx.services.credits.set(ctx.runtime.tenants.given(key), ctx.body["credits"])
    return JSONResponse({"api_key": key, "credits": balance})


async def faults_add(ctx: HandlerContext) -> Response:
    faults = ctx.services.faults
    return JSONResponse(faults.shown(faults.add(ctx.body)), status_code=201)


async def faults_list(ctx: HandlerContext) -> Response:
    faults = ctx.services.faults
    return JSONResponse([faults.shown(rule) for rule in faults.list()])


async def faults_clear(ctx: HandlerContext) -> Response:
    ctx.services.faults.clear()
    return JSONResponse({"deleted": True})


async def faults_delete(ctx: HandlerContext) -> Response:
    ctx.services.faults.delete(ctx.valid.path_params["id"])
    return JSONResponse({"deleted": True})


HANDLERS: dict[str, Handler] = {
    "admin_faults_add": faults_add,
    "admin_faults_list": faults_list,
    "admin_faults_clear": faults_clear,
    "admin_faults_delete": faults_delete,
    "admin_credits_get": credits_get,
    "admin_credits_set": credits_set,
    "admin_health": health,
    "admin_reset": reset,
    "admin_clock": clock,
    "admin_clock_advance": clock_advance,
    "admin_jobs": jobs,
    "admin_job_status": job_status,
    "admin_requests": requests,
    "admin_requests_count": requests_count,
}
