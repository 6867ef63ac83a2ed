"""Admin operations the dashboard needed and /_mock lacked (mock-admin.yaml): the webhooks
registered per tenant, and redelivering one delivery. Thin: the rules are in
mock_server/webhooks/admin.py."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from mock_server.http.context import Handler, HandlerContext
from mock_server.webhooks.admin import all_webhooks, redeliver
from mock_server.webhooks.dispatcher import Dispatcher


async def webhooks_list(ctx: HandlerContext) -> Response:
    return JSONResponse(all_webhooks(ctx.runtime.store, ctx.valid.query.get("tenant")))


async def webhook_redeliver(ctx: HandlerContext) -> Response:
    dispatcher: Dispatcher = ctx.services["webhooks"]
    delivery_id = ctx.valid.path_params["delivery_id"]
    return JSONResponse(await redeliver(dispatcher, ctx.runtime.store, delivery_id))


HANDLERS: dict[str, Handler] = {
    "admin_webhooks_list": webhooks_list,
    "admin_webhook_redeliver": webhook_redeliver,
}
