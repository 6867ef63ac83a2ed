"""Admin operations the dashboard needed and /_mock lacked (mock-admin.yaml): the webhooks
registered per tenant, and redelivering one delivery. Thin: the rules are in
mock_server/webhooks/admin.py."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from mock_server.admin import tenants
from mock_server.http.context import Handler, HandlerContext
from mock_server.tenancy import label
from mock_server.webhooks.admin import all_webhooks, redeliver


async def webhooks_list(ctx: HandlerContext) -> Response:
    ids = ctx.runtime.tenants
    given = ctx.valid.query.get("tenant")
    rows = all_webhooks(ctx.runtime.store, ids.given(given) if given else None)
    return JSONResponse([{**row, "tenant": ids.shown(row["tenant"])} for row in rows])


async def webhook_redeliver(ctx: HandlerContext) -> Response:
    dispatcher = ctx.services.webhooks
    delivery_id = ctx.valid.path_params["delivery_id"]
    done = await redeliver(dispatcher, ctx.runtime.store, delivery_id)
    return JSONResponse({**done, "tenant": ctx.runtime.tenants.shown(done["tenant"])})


async def tenant_credits_set(ctx: HandlerContext) -> Response:
    """A tenant's credits by its handle: the dashboard's pages carry no key to send."""
    tenant = tenants.resolve(ctx.runtime, ctx.services, ctx.valid.path_params["tenant_id"])
    balance = ctx.services.credits.set(tenant, ctx.body["credits"])
    return JSONResponse(
        {
            "tenant_id": ctx.valid.path_params["tenant_id"],
            "api_key": label(tenant),
            "credits": balance,
        }
    )


HANDLERS: dict[str, Handler] = {
    "admin_tenant_credits_set": tenant_credits_set,
    "admin_webhooks_list": webhooks_list,
    "admin_webhook_redeliver": webhook_redeliver,
}
