"""HTTP for scenarios (`/_mock/scenario`): load a YAML/JSON document, export the state."""

from __future__ import annotations

import yaml
from starlette.responses import JSONResponse, Response

from mock_server.http.context import Handler, HandlerContext
from mock_server.scenario import ScenarioLoader, ScenarioServices, checked, export, parse


async def load(ctx: HandlerContext) -> Response:
    body = ctx.body
    document = parse(body) if isinstance(body, bytes) else body  # YAML arrives as bytes
    services: ScenarioServices = ctx.services["scenario"]
    loaded = ScenarioLoader(services).load(checked(ctx.runtime.spec, document), ctx.base_url)
    return JSONResponse(loaded)


async def export_state(ctx: HandlerContext) -> Response:
    document = export(ctx.services["scenario"])
    if ctx.valid.query.get("format") == "json":
        return JSONResponse(document)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return Response(
        text,
        media_type="application/yaml",
        headers={"content-disposition": 'attachment; filename="tunemock-scenario.yaml"'},
    )


HANDLERS: dict[str, Handler] = {
    "admin_scenario_load": load,
    "admin_scenario_export": export_state,
}
