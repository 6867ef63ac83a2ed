"""HTTP in/out for the fine-tune API: one thin handler per operationId."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import JSONResponse, PlainTextResponse, Response

from mock_server.finetune.domain import artifact_spec
from mock_server.http.context import Handler, HandlerContext
from mock_server.storage.artifacts import lora_safetensors


async def submit(ctx: HandlerContext) -> Response:
    svc = ctx.services.finetune
    if svc.submit_reads:  # reading a dataset (disk, maybe a public URL) must not stall the loop
        outbound = ctx.services.outbound
        outbound.own.note(ctx.scope.get("server"))
        # in the tenant's own fetch slots: a slow dataset host never holds the shared pool
        job = await outbound.slots.run_sync(
            ctx.tenant, svc.submit, ctx.tenant, ctx.body, ctx.base_url
        )
    else:
        job = await ctx.writing(svc.submit, ctx.tenant, ctx.body, ctx.base_url)
    return JSONResponse(ctx.services.finetune_render.submit_answer(job))


async def details(ctx: HandlerContext) -> Response:
    job = ctx.services.finetune.get(ctx.tenant, ctx.body["request_id"])
    now = ctx.runtime.clock.now()
    answers = ctx.services.finetune_details
    # the same job in the same state, asked on the same host, renders the same bytes
    return answers.answer(
        (job.id, ctx.base_url),
        (job, job.state_at(now)),
        lambda: {"finetune": ctx.services.finetune_render.details(job, now, ctx.base_url)},
    )


async def list_jobs(ctx: HandlerContext) -> Response:
    now = ctx.runtime.clock.now()
    render = ctx.services.finetune_render
    jobs = ctx.services.finetune.list(ctx.tenant)
    return JSONResponse([render.list_item(j, now, ctx.base_url) for j in jobs])


async def access_update(ctx: HandlerContext) -> Response:
    # the form sends the strings "True"/"False" (the spec's enum); the domain wants a bool
    public = str(ctx.body["segmind_public"]).lower() == "true"
    job = ctx.services.finetune.set_access(ctx.tenant, str(ctx.body["request_id"]), public)
    return JSONResponse(
        {
            "message": "Access updated",
            "request_id": job.id,
            "segmind_public": job.public,
        }
    )


async def upload_presigned_url(ctx: HandlerContext) -> Response:
    storage = ctx.services.storage
    return JSONResponse(storage.presign_upload(ctx.base_url, ctx.tenant, str(ctx.body["name"])))


async def file_download(ctx: HandlerContext) -> Response:
    path = urlsplit(str(ctx.body["cloud_storage_url"])).path
    job = ctx.services.finetune.find_by_artifact(ctx.tenant, path)
    storage = ctx.services.storage
    # the file is made the first time it is asked for: same bytes as at TRAINING_COMPLETED
    rank, metadata = artifact_spec(job)
    storage.ensure(path, lambda: lora_safetensors(job.id, rank, metadata))
    return PlainTextResponse(storage.presign_download(ctx.base_url, path))


HANDLERS: dict[str, Handler] = {
    "finetune_submit": submit,
    "finetune_details": details,
    "finetune_list": list_jobs,
    "finetune_upload_presigned_url": upload_presigned_url,
    "finetune_access_update": access_update,
    "finetune_file_download": file_download,
}
