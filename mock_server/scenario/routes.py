"""HTTP for scenarios (`/_mock/scenario`): load a YAML/JSON document, export the state."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import yaml
from starlette.responses import JSONResponse, Response

from mock_server.http.context import Handler, HandlerContext
from mock_server.scenario import ScenarioLoader, ScenarioServices, checked, export, parse
from mock_server.tenancy import label


def _load(services: ScenarioServices, body: Any, base_url: str) -> Any:
    document = parse(body) if isinstance(body, bytes) else body  # YAML arrives as bytes
    return ScenarioLoader(services).load(checked(services.rt.spec, document), base_url)


async def load(ctx: HandlerContext) -> Response:
    # parsed, checked and loaded in a worker thread, as the export is written: a document of
    # 10 MB takes seconds, which the event loop spends serving everyone else
    loaded = await anyio.to_thread.run_sync(_load, ctx.services.scenario, ctx.body, ctx.base_url)
    return JSONResponse(loaded)


def _exported(services: ScenarioServices, full_keys: bool, as_json: bool) -> Any:
    document = export(services)
    ids = services.rt.tenants
    for tenant in document["tenants"]:
        # asked for: the key where this process has seen it (the store holds none), else
        # the tenant id, which loads back as that same tenant; masked: a label, which loads
        # as a tenant of its own
        owner = tenant["api_key"]
        tenant["api_key"] = ids.shown(owner) if full_keys else label(owner)
    if as_json:
        return document
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


async def export_state(ctx: HandlerContext) -> Response:
    q = ctx.valid.query
    as_json = q.get("format") == "json"
    # in a worker thread: a big state takes a while to write, and the event loop serves
    # every other request meanwhile
    exported = await anyio.to_thread.run_sync(
        _exported, ctx.services.scenario, q.get("keys") == "full", as_json
    )
    if as_json:
        return JSONResponse(exported)
    return Response(
        exported,
        media_type="application/yaml",
        headers={"content-disposition": 'attachment; filename="tunemock-scenario.yaml"'},
    )


HANDLERS: dict[str, Handler] = {
    "admin_scenario_load": load,
    "admin_scenario_export": export_state,
}
