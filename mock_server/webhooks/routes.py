"""HTTP for the webhook registry (as the SDK calls it) and the admin's delivery views."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from mock_server.http.context import Handler, HandlerContext
from mock_server.webhooks.admin import delivery_view
from mock_server.webhooks.deliveries import sdk_log_entries
from mock_server.webhooks.dispatcher import Dispatcher
from mock_server.webhooks.registry import public_view


def _dispatcher(ctx: HandlerContext) -> Dispatcher:
    dispatcher = ctx.services.webhooks
    return dispatcher


def _note_listener(ctx: HandlerContext) -> None:
    """The port this request came on is the mock's own: no delivery may go there."""
    outbound = ctx.services.outbound
    outbound.own.note(ctx.scope.get("server"))


async def get(ctx: HandlerContext) -> Response:
    hooks = _dispatcher(ctx).registry.list(ctx.tenant)
    return JSONResponse({"webhooks": [public_view(h) for h in hooks]})


async def add(ctx: HandlerContext) -> Response:
    _note_listener(ctx)
    hook = _dispatcher(ctx).registry.add(
        ctx.tenant, ctx.body["webhook_url"], ctx.body["event"]["types"]
    )
    return JSONResponse({**public_view(hook), "message": "Webhook added"})


async def update(ctx: HandlerContext) -> Response:
    _note_listener(ctx)
    body = ctx.body
    hook = _dispatcher(ctx).registry.update(
        ctx.tenant, body["webhook_id"], body["webhook_url"], body["event"]["types"]
    )
    return JSONResponse({**public_view(hook), "message": "Webhook updated"})


async def inactive(ctx: HandlerContext) -> Response:
    hook = _dispatcher(ctx).registry.inactivate(ctx.tenant, ctx.valid.query["webhook_id"])
    return JSONResponse(
        {"webhook_id": hook["webhook_id"], "status": hook["status"], "message": "Webhook deleted"}
    )


async def dispatch_logs(ctx: HandlerContext) -> Response:
    dispatcher = _dispatcher(ctx)
    webhook_id = ctx.valid.query["webhook_id"]
    dispatcher.registry.get(ctx.tenant, webhook_id)  # another tenant's id: 404
    entries = [
        entry
        for doc in dispatcher.deliveries.of_webhook(ctx.tenant, webhook_id)
        for entry in sdk_log_entries(doc)
    ]
    entries.sort(key=lambda e: e["delivered_at"], reverse=True)
    return JSONResponse({"webhook_id": webhook_id, "logs": entries})


async def test(ctx: HandlerContext) -> Response:
    _note_listener(ctx)
    delivery = await _dispatcher(ctx).send_test(ctx.tenant, ctx.body["webhook_id"])
    (last, *_) = sdk_log_entries(delivery)
    message = "Sample payload delivered" if last["success"] else "Sample payload not delivered"
    return JSONResponse({"message": message, "delivery": last})


# --- admin (/_mock/webhooks) -------------------------------------------------------------------


async def admin_deliveries(ctx: HandlerContext) -> Response:
    q, ids = ctx.valid.query, ctx.runtime.tenants
    records = _dispatcher(ctx).deliveries.all(ids.given(q["tenant"]) if q.get("tenant") else None)
    rows = [
        {**delivery_view(r), "tenant": ids.shown(r.tenant)}
        for r in records
        if q.get("job_id") in (None, r.doc["job_id"]) and q.get("state") in (None, r.doc["state"])
    ]
    return JSONResponse(rows[: int(q.get("limit", 500))])


async def admin_test(ctx: HandlerContext) -> Response:
    _note_listener(ctx)
    dispatcher = _dispatcher(ctx)
    webhook_id = ctx.valid.path_params["webhook_id"]
    owner = dispatcher.registry.owner_of(webhook_id)
    delivery = await dispatcher.send_test(owner, webhook_id)
    return JSONResponse(delivery)


async def admin_flush(ctx: HandlerContext) -> Response:
    report = await _dispatcher(ctx).tick()
    return JSONResponse({"enqueued": report.enqueued, "attempted": report.attempted})


HANDLERS: dict[str, Handler] = {
    "webhook_get": get,
    "webhook_add": add,
    "webhook_update": update,
    "webhook_inactive": inactive,
    "webhook_dispatch_logs": dispatch_logs,
    "webhook_test": test,
    "admin_webhook_deliveries": admin_deliveries,
    "admin_webhook_test": admin_test,
    "admin_webhook_flush": admin_flush,
}
