"""HTTP for seed 003: v1 answers an image; v2 queues and answers status and result."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_server.errors import NotFound
from mock_server.http.context import Handler, HandlerContext, services_of
from mock_server.http.render import error_response
from mock_server.inference import images
from mock_server.inference.domain import FAMILY, InferenceJob
from mock_server.runtime import Runtime


async def run_v1(ctx: HandlerContext) -> Response:
    params, seconds = ctx.services.inference.run_sync(ctx.tenant, ctx.body, ctx.valid.operation)
    if ctx.runtime.clock.kind == "real" and seconds > 0:
        await anyio.sleep(seconds)  # a virtual clock never moves by itself: no waiting
    data = await anyio.to_thread.run_sync(images.render, params)
    return Response(data, media_type="image/jpeg")


async def submit_v2(ctx: HandlerContext) -> Response:
    job = await ctx.writing(
        ctx.services.inference.submit, ctx.tenant, ctx.body, ctx.valid.operation
    )
    base = f"{ctx.base_url}/v2/requests/{job.id}"
    return JSONResponse(
        {"request_id": job.id, "status": job.transitions[0].state,
         "status_url": f"{base}/status", "response_url": base}
    )  # fmt: skip


def _failed(job: InferenceJob, error: str | None) -> Response:
    # seed 003: "A FAILED request is served as HTTP 422 — the body still carries the error"
    body = {"request_id": job.id, "status": "FAILED", "error": error or "Request failed"}
    return JSONResponse(body, status_code=422)


async def status(ctx: HandlerContext) -> Response:
    svc = ctx.services.inference
    now = ctx.runtime.clock.now()
    job = svc.get(ctx.tenant, ctx.valid.path_params["request_id"], now)
    state = job.state_at(now)
    if state.state == svc.lifecycle.failure:
        return _failed(job, state.detail)
    answers = ctx.services.inference_status
    # polled in a loop by every client: the same job in the same state answers the same bytes
    return answers.answer(
        job.id, (job, state), lambda: {"request_id": job.id, "status": state.state}
    )


async def result(ctx: HandlerContext) -> Response:
    svc = ctx.services.inference
    now = ctx.runtime.clock.now()
    job = svc.get(ctx.tenant, ctx.valid.path_params["request_id"], now)
    state = job.state_at(now)
    if state.state == svc.lifecycle.failure:
        return _failed(job, state.detail)
    if state.state not in svc.lifecycle.terminal:
        return JSONResponse({"request_id": job.id, "status": state.state}, status_code=202)
    return JSONResponse(
        {
            "status": state.state,
            "output": f"{ctx.base_url}/outputs/{job.id}.jpeg",
            "metrics": {"inference_time": round(job.processing_seconds(), 3)},
        }
    )


async def output_endpoint(request: Request) -> Response:
    """The image a v2 result points at: public like a CDN URL, gone when the result is."""
    services = services_of(request)
    svc = services.inference
    runtime: Runtime = request.app.state.runtime
    name = request.path_params["name"]
    try:
        job = svc.get(None, name.removesuffix(".jpeg"))
    except NotFound:
        job = None
    now = runtime.clock.now()
    completed = svc.lifecycle.happy_path()[-1]
    if job is None or svc.expired(job, now) or job.state_at(now).state != completed:
        return error_response(FAMILY, 404, f"No output {name}")
    data = await anyio.to_thread.run_sync(images.render, job.params)
    return Response(data, media_type="image/jpeg")


HANDLERS: dict[str, Handler] = {
    "inference_v2_status": status,
    "inference_v2_result": result,
}


def handler_for_model_path(method: str, path: str) -> Handler | None:
    """Every model the inference spec lists at /v1/<slug> or /v2/<slug> is served by the
    same two handlers: adding a model to the spec is enough."""
    parts = path.strip("/").split("/")
    if method != "POST" or len(parts) != 2 or "{" in path:
        return None
    return {"v1": run_v1, "v2": submit_v2}.get(parts[0])
